//! GET /v1/flights/{flight_id}: a flight's current state and its latest events.

use super::cache::Cached;
use super::compression::Coding;
use super::error::{ApiError, Problem};
use super::schema::{Event, Flight};
use super::{ApiContext, conditional_json};
use crate::db::queries;
use crate::domain::event::FLIGHT_ID;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::{Router, routing::get};
use serde::{Deserialize, Serialize};

/// Events returned with a flight.
pub const LATEST_EVENTS: i64 = 20;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlightView {
    pub flight: Flight,
    /// The latest 20 events of the flight, newest first.
    pub events: Vec<Event>,
}

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/flights/{flight_id}", get(get_flight))
}

#[utoipa::path(
    get,
    path = "/v1/flights/{flight_id}",
    tag = "flights",
    params(
        ("flight_id" = String, Path, description = "Flight id"),
        ("Accept-Encoding" = Option<String>, Header, description = "zstd, br and gzip are offered (q-values honoured; ties go to zstd, then br)"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of a copy the client holds; an unchanged flight is a 304"),
    ),
    responses(
        (status = 200, description = "Current state and latest events", body = FlightView, headers(
            ("ETag" = String, description = "Strong entity tag of the body as sent (each content coding has its own; any of them revalidates)"),
            ("Content-Encoding" = String, description = "zstd, br or gzip, as negotiated from Accept-Encoding, when the body is 1 KiB or more"),
            ("Vary" = String, description = "accept-encoding"),
            ("Cache-Control" = String, description = "no-cache: revalidate with If-None-Match"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Malformed flight id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No event for this flight was ever stored", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable or service at capacity; retry after Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_flight(
    State(context): State<ApiContext>,
    headers: HeaderMap,
    flight_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(flight_id) = flight_id
        .map_err(|_| ApiError::invalid("flight_id", "is not valid percent-encoded UTF-8"))?;
    if let Some(refusal) = FLIGHT_ID.refusal("flight_id", &flight_id) {
        return Err(refusal);
    }
    let client = crate::db::checkout(&context.pool).await?;
    // Both queries are pipelined on one connection.
    let (state, events) = futures::try_join!(
        queries::flight_state(&client, &flight_id),
        queries::flight_events(&client, &flight_id, LATEST_EVENTS),
    )?;
    let flight =
        state.ok_or_else(|| ApiError::NotFound(format!("flight {flight_id} is unknown")))?;
    let view = FlightView {
        flight: flight.into(),
        events: events.into_iter().map(Event::from).collect(),
    };
    let body = serde_json::to_vec(&view).map_err(anyhow::Error::from)?;
    // Flights are read fresh on every request: clients revalidate, and an unchanged flight
    // costs them a 304.
    let no_cache = HeaderValue::from_static("no-cache");
    let (representation, _) = Cached::new(body.into()).represent(Coding::negotiate(&headers));
    Ok(conditional_json(&headers, &representation, &no_cache))
}
