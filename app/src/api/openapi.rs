//! GET /openapi.json: the OpenAPI 3.1 description generated from the handlers.

use super::ApiContext;
use axum::{Json, Router, routing::get};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "flightdeck API",
        description = "Flight events ingested from Pub/Sub, served newest first, per flight and as daily delay statistics. Errors are RFC 9457 problem+json."
    ),
    paths(
        super::events::list_events,
        super::flights::get_flight,
        super::stats::delays,
        super::health::healthz,
        super::health::readyz,
        openapi_json,
    ),
    tags(
        (name = "events", description = "The event feed"),
        (name = "flights", description = "Current state per flight"),
        (name = "stats", description = "Analytics"),
        (name = "health", description = "Probes"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/openapi.json", get(openapi_json))
}

#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
