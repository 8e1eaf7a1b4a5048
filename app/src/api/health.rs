//! /healthz (the process is alive) and /readyz (the in-memory readiness verdict).

use super::error::{Problem, problem};
use crate::health::Readiness;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S>
where
    Readiness: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HealthStatus {
    /// `ok` on /healthz, `ready` on /readyz.
    #[schema(pattern = "^(ok|ready)$")]
    pub status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is alive", body = HealthStatus)))]
pub async fn healthz() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok" })
}

/// The reason stays private (logs and `flightdeck_unready{reason}`); the body is generic.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Database reachable and schema at least the one this build expects", body = HealthStatus),
        (status = 503, description = "Not ready; the reason is in the logs and in flightdeck_unready{reason}", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(readiness): State<Readiness>) -> Response {
    match readiness.verdict() {
        Ok(()) => Json(HealthStatus { status: "ready" }).into_response(),
        Err(_) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "not ready to take traffic; retry shortly".into(),
            None,
        ),
    }
}

impl axum::extract::FromRef<super::ApiContext> for Readiness {
    fn from_ref(context: &super::ApiContext) -> Self {
        context.readiness.clone()
    }
}
