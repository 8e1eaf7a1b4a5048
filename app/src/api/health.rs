//! /healthz (the process is alive) and /readyz (database reachable, migrations current).

use super::error::{Problem, problem};
use crate::db::{Pool, migrations};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Shared readiness: a live database check plus the ingest worker's own verdict.
#[derive(Clone)]
pub struct Readiness {
    pool: Pool,
    writes_failing: Arc<AtomicBool>,
}

impl Readiness {
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            writes_failing: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Set by the ingest worker while its batch writes fail.
    pub fn set_writes_failing(&self, failing: bool) {
        self.writes_failing.store(failing, Ordering::Relaxed);
    }

    /// `Ok` when the database answers and its schema is the one this build expects.
    pub async fn check(&self) -> Result<(), String> {
        if self.writes_failing.load(Ordering::Relaxed) {
            return Err("ingest cannot write to the database; retrying with backoff".into());
        }
        let live = async {
            let client = self
                .pool
                .get()
                .await
                .map_err(|e| format!("database unreachable: {e}"))?;
            let applied = migrations::applied_version(&client)
                .await
                .map_err(|e| format!("database query failed: {e}"))?;
            let expected = migrations::latest_version();
            if applied == expected {
                Ok(())
            } else {
                Err(format!(
                    "schema is at migration {applied}, this build expects {expected}: run `flightdeck migrate`"
                ))
            }
        };
        tokio::time::timeout(Duration::from_secs(2), live)
            .await
            .unwrap_or_else(|_| Err("database check timed out".into()))
    }
}

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
    pub status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is alive", body = HealthStatus)))]
pub async fn healthz() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok" })
}

#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Database reachable and migrations current", body = HealthStatus),
        (status = 503, description = "Not ready; `detail` says why", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(readiness): State<Readiness>) -> Response {
    match readiness.check().await {
        Ok(()) => Json(HealthStatus { status: "ready" }).into_response(),
        Err(detail) => problem(StatusCode::SERVICE_UNAVAILABLE, "not-ready", detail, None),
    }
}

impl axum::extract::FromRef<super::ApiContext> for Readiness {
    fn from_ref(context: &super::ApiContext) -> Self {
        context.readiness.clone()
    }
}
