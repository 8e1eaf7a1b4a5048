//! RFC 9457 problem details: client errors explain themselves, internal errors are logged only.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("parameter {name}: {detail}")]
    InvalidParameter { name: &'static str, detail: String },
    #[error("{0}")]
    NotFound(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("request timed out")]
    Timeout,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
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
        Self::Unavailable(e.to_string())
    }
}

/// The problem+json body.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// URI identifying the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The offending query or path parameter, for 400 responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

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
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
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
            Self::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                let mut response = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; retry shortly".into(),
                    None,
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
            Self::Timeout => problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the request took too long; retry shortly".into(),
                None,
            ),
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an internal error occurred; it has been logged".into(),
                    None,
                )
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
