//! RFC 9457 problem details: client errors explain themselves, internal errors are logged only.

use crate::db::DbError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Seconds a client is asked to wait (`Retry-After`) after a 503.
pub const RETRY_AFTER_SECONDS: &str = "1";

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("parameter {name}: {detail}")]
    InvalidParameter { name: &'static str, detail: String },
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("request timed out")]
    Timeout,
    #[error("over capacity")]
    Overloaded,
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
    #[error("request target longer than {0} bytes")]
    UriTooLong(usize),
    #[error("request headers larger than {0} bytes")]
    HeadersTooLarge(usize),
    #[error("no API key")]
    MissingKey,
    #[error("invalid API key")]
    InvalidKey,
    #[error("API keys not loaded")]
    KeysUnavailable,
    #[error("over quota")]
    OverQuota { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// `WWW-Authenticate` of a 401 (RFC 6750): which scheme, and whether the key was refused.
fn unauthorized(detail: &str, challenge: &'static str) -> Response {
    let mut response = problem(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        detail.to_string(),
        None,
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

impl ApiError {
    pub fn invalid(name: &'static str, detail: impl Into<String>) -> Self {
        Self::InvalidParameter {
            name,
            detail: detail.into(),
        }
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::Database(DbError::Pool(e))
    }
}

/// The problem+json body.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// URI identifying the problem type.
    #[serde(rename = "type")]
    #[schema(pattern = "^urn:flightdeck:problem:[a-z-]+$")]
    pub kind: String,
    pub title: String,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub detail: String,
    /// The offending query or path parameter, for 400 responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

/// A problem+json response; never stored by caches.
pub fn problem(
    status: StatusCode,
    kind: &str,
    detail: String,
    parameter: Option<&str>,
) -> Response {
    let body = Problem {
        kind: format!("urn:flightdeck:problem:{kind}"),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        parameter: parameter.map(str::to_string),
    };
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A 503 problem with `Retry-After`: the client may retry the same request shortly.
pub fn unavailable(kind: &str, detail: &str) -> Response {
    let mut response = problem(
        StatusCode::SERVICE_UNAVAILABLE,
        kind,
        detail.to_string(),
        None,
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    response
}

/// A 500 problem that echoes nothing internal.
pub fn internal() -> Response {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "an internal error occurred; it has been logged".into(),
        None,
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::InvalidParameter { name, detail } => problem(
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                format!("{name}: {detail}"),
                Some(name),
            ),
            Self::NotFound(detail) => problem(StatusCode::NOT_FOUND, "not-found", detail, None),
            Self::Database(error) if error.is_transient() => {
                tracing::warn!(%error, "database unavailable");
                unavailable("unavailable", "the database is unavailable; retry shortly")
            }
            Self::Database(error) => {
                tracing::error!(%error, "database error");
                internal()
            }
            Self::Timeout => unavailable("timeout", "the request took too long; retry shortly"),
            Self::Overloaded => {
                unavailable("overloaded", "the service is at capacity; retry shortly")
            }
            Self::MethodNotAllowed(method) => {
                let mut response = problem(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method-not-allowed",
                    format!("method {method} is not allowed; this API is read-only (GET, HEAD)"),
                    None,
                );
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
                response
            }
            Self::UriTooLong(limit) => problem(
                StatusCode::URI_TOO_LONG,
                "uri-too-long",
                format!("the request target exceeds {limit} bytes"),
                None,
            ),
            Self::HeadersTooLarge(limit) => problem(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers-too-large",
                format!("the request headers exceed {limit} bytes"),
                None,
            ),
            Self::MissingKey => unauthorized(
                "an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>",
                "Bearer realm=\"flightdeck\"",
            ),
            Self::InvalidKey => unauthorized(
                "the API key is not valid: unknown, revoked or mistyped",
                "Bearer realm=\"flightdeck\", error=\"invalid_token\"",
            ),
            Self::KeysUnavailable => unavailable(
                "unavailable",
                "API keys cannot be checked yet; retry shortly",
            ),
            Self::OverQuota { retry_after_secs } => {
                let mut response = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "over-quota",
                    format!(
                        "this API key is over its request quota; retry in {retry_after_secs} s"
                    ),
                    None,
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                internal()
            }
        }
    }
}

/// 404 for paths that match no route.
pub async fn not_found_fallback(uri: axum::http::Uri) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no route for {}; see /openapi.json", uri.path()),
        None,
    )
}
