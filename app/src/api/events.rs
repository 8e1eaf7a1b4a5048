//! GET /v1/events: the newest-first feed with filters and keyset pagination.

use super::ApiContext;
use super::error::{ApiError, Problem};
use super::params::{Params, is_flight_id, is_iata};
use super::{cursor, json_body};
use crate::db::queries::{self, EventFilter, FeedPosition, StoredEvent};
use crate::domain::FlightStatus;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::{Router, routing::get};
use serde::{Deserialize, Serialize};

/// One page of the feed.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventPage {
    pub items: Vec<StoredEvent>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/events", get(list_events))
}

/// Newest events first (by `event_time`, then `event_id`), optionally filtered.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    params(
        ("limit" = Option<i64>, Query, description = "Page size, 1..=500 (default 50)"),
        ("cursor" = Option<String>, Query, description = "Opaque `next_cursor` of the previous page"),
        ("origin" = Option<String>, Query, description = "IATA origin airport, e.g. SCL"),
        ("status" = Option<FlightStatus>, Query, description = "Flight status"),
        ("flight_id" = Option<String>, Query, description = "Events of one flight"),
    ),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_events(
    State(context): State<ApiContext>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(
        query.as_deref(),
        &["limit", "cursor", "origin", "status", "flight_id"],
    )?;
    let limit = params.integer("limit", 50, 1..=500)?;
    let after = params.get("cursor").map(cursor::decode).transpose()?;
    let filter = EventFilter {
        origin: params.text("origin", "an IATA code of 3 uppercase letters", is_iata)?,
        status: params
            .text(
                "status",
                "one of scheduled, boarding, departed, arrived, delayed, cancelled",
                |s| FlightStatus::parse(s).is_some(),
            )?
            .and_then(|s| FlightStatus::parse(&s)),
        flight_id: params.text(
            "flight_id",
            "1-64 characters of A-Z a-z 0-9 -",
            is_flight_id,
        )?,
    };
    let key = format!("events|{limit}|{:?}|{:?}", filter, params.get("cursor"));
    let body = context
        .cache
        .get_or_load("events", key, || async {
            let client = context.pool.get().await?;
            let (items, has_more) = queries::list_events(&client, &filter, after, limit).await?;
            let next_cursor = has_more.then(|| items.last()).flatten().map(|last| {
                cursor::encode(FeedPosition {
                    event_time: last.event.event_time,
                    event_id: last.event.event_id,
                })
            });
            Ok(serde_json::to_vec(&EventPage { items, next_cursor })
                .map_err(anyhow::Error::from)?
                .into())
        })
        .await?;
    Ok(json_body(body))
}
