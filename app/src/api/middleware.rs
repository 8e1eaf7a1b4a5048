//! Per-request metrics (route template, status) and the request timeout, in one layer.

use super::error::ApiError;
use crate::telemetry::metrics::{HTTP_ACTIVE, HTTP_DURATION};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Records `http_server_request_duration_seconds` and `http_server_active_requests`, and answers
/// 503 problem+json when a request outlives the timeout.
pub async fn observe_and_time_out(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    // Unmatched paths share one label so scanners cannot explode cardinality.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let span = if crate::telemetry::tracing_enabled() {
        tracing::info_span!("http.request", http.method = %method, http.route = %route, otel.kind = "server", http.status_code = tracing::field::Empty)
    } else {
        tracing::Span::none()
    };
    let active = metrics::gauge!(HTTP_ACTIVE);
    active.increment(1.0);
    let response =
        match tokio::time::timeout(timeout, next.run(request).instrument(span.clone())).await {
            Ok(response) => response,
            Err(_) => ApiError::Timeout.into_response(),
        };
    active.decrement(1.0);
    let status = response.status().as_u16();
    span.record("http.status_code", status);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route, "status_code" => status.to_string())
        .record(started.elapsed().as_secs_f64());
    response
}
