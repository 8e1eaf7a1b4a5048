//! The HTTP API: routes, shared context, problem+json errors, metrics and timeouts.

pub mod cache;
pub mod cursor;
pub mod error;
pub mod events;
pub mod flights;
pub mod health;
pub mod middleware;
pub mod openapi;
pub mod params;
pub mod stats;

use crate::db::Pool;
use axum::Router;
use axum::response::IntoResponse;
use std::sync::Arc;
use std::time::Duration;

/// What every handler can reach: the pool, the micro-cache and the readiness check.
#[derive(Clone)]
pub struct ApiContext {
    pub pool: Pool,
    pub cache: Arc<cache::ApiCache>,
    pub readiness: health::Readiness,
}

impl ApiContext {
    pub fn new(pool: Pool, cache_ttl: Duration) -> Self {
        Self {
            readiness: health::Readiness::new(pool.clone()),
            cache: Arc::new(cache::ApiCache::new(cache_ttl)),
            pool,
        }
    }
}

/// The public router of `serve`; `/metrics` is deliberately not here (own port).
pub fn router(context: ApiContext, request_timeout: Duration) -> Router {
    Router::new()
        .merge(events::router())
        .merge(flights::router())
        .merge(stats::router())
        .merge(openapi::router())
        .merge(health::router())
        .fallback(error::not_found_fallback)
        .with_state(context)
        .layer(axum::middleware::from_fn_with_state(
            request_timeout,
            middleware::observe_and_time_out,
        ))
}

/// A 200 response with an already serialized JSON body (cached bodies are served as is).
pub fn json_body(body: bytes::Bytes) -> axum::response::Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
