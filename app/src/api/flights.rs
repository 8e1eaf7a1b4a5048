//! GET /v1/flights/{flight_id}: a flight's current state and its latest events.

use super::ApiContext;
use super::error::{ApiError, Problem};
use super::params::is_flight_id;
use crate::db::queries::{self, FlightState, StoredEvent};
use axum::extract::{Path, State};
use axum::{Json, Router, routing::get};
use serde::{Deserialize, Serialize};

/// Events returned with a flight.
pub const LATEST_EVENTS: i64 = 20;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlightView {
    pub flight: FlightState,
    /// The latest 20 events of the flight, newest first.
    pub events: Vec<StoredEvent>,
}

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/flights/{flight_id}", get(get_flight))
}

#[utoipa::path(
    get,
    path = "/v1/flights/{flight_id}",
    tag = "flights",
    params(("flight_id" = String, Path, description = "Flight id, 1-64 characters of A-Z a-z 0-9 -")),
    responses(
        (status = 200, description = "Current state and latest events", body = FlightView),
        (status = 400, description = "Malformed flight id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No event for this flight was ever stored", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_flight(
    State(context): State<ApiContext>,
    Path(flight_id): Path<String>,
) -> Result<Json<FlightView>, ApiError> {
    if !is_flight_id(&flight_id) {
        return Err(ApiError::invalid(
            "flight_id",
            format!("must be 1-64 characters of A-Z a-z 0-9 -, got {flight_id:?}"),
        ));
    }
    let client = context.pool.get().await?;
    // Both queries are pipelined on one connection.
    let (state, events) = futures::try_join!(
        queries::flight_state(&client, &flight_id),
        queries::flight_events(&client, &flight_id, LATEST_EVENTS),
    )?;
    let flight =
        state.ok_or_else(|| ApiError::NotFound(format!("flight {flight_id} is unknown")))?;
    Ok(Json(FlightView { flight, events }))
}
