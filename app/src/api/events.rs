//! GET /v1/events: the newest-first feed with filters and keyset pagination.

use super::cache::CacheKey;
use super::compression::Coding;
use super::error::{ApiError, Problem};
use super::params::Params;
use super::schema::Event;
use super::{ApiContext, conditional_json, cursor};
use crate::db::queries::{self, EventFilter};
use crate::domain::FlightStatus;
use crate::domain::event::{FLIGHT_ID, IATA, STATUS};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Router, routing::get};
use serde::{Deserialize, Serialize};

/// One page of the feed.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventPage {
    pub items: Vec<Event>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Page size without `limit`, and the largest one accepted.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/events", get(list_events))
}

/// Newest events first (by `event_time`, then `event_id`), optionally filtered.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    params(
        ("limit" = Option<i64>, Query, description = "Page size, 1..=500 (default 50)", minimum = 1, maximum = 500),
        ("cursor" = Option<String>, Query, description = "Opaque `next_cursor` of the previous page, exactly as returned"),
        ("origin" = Option<String>, Query, description = "IATA origin airport, e.g. SCL"),
        ("status" = Option<FlightStatus>, Query, description = "Flight status"),
        ("flight_id" = Option<String>, Query, description = "Events of one flight"),
        ("Accept-Encoding" = Option<String>, Header, description = "zstd, br and gzip are offered (q-values honoured; ties go to zstd, then br)"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of a copy the client holds; an unchanged page is a 304"),
    ),
    responses(
        (status = 200, description = "A page of events", body = EventPage, headers(
            ("ETag" = String, description = "Strong entity tag of the body as sent (each content coding has its own; any of them revalidates)"),
            ("Content-Encoding" = String, description = "zstd, br or gzip, as negotiated from Accept-Encoding, when the body is 1 KiB or more"),
            ("Vary" = String, description = "accept-encoding"),
            ("Cache-Control" = String, description = "max-age matching the API's staleness bound"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable or service at capacity; retry after Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_events(
    State(context): State<ApiContext>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(
        query.as_deref(),
        &["limit", "cursor", "origin", "status", "flight_id"],
    )?;
    let limit = params.integer("limit", DEFAULT_LIMIT, 1..=MAX_LIMIT)?;
    let after = params.get("cursor").map(cursor::decode).transpose()?;
    let filter = EventFilter {
        origin: params.text("origin", IATA)?,
        status: params
            .text("status", STATUS)?
            .and_then(|s| FlightStatus::parse(&s)),
        flight_id: params.text("flight_id", FLIGHT_ID)?,
    };
    let key = CacheKey::Events {
        limit,
        filter: filter.clone(),
        after,
    };
    let cached = context
        .cache
        .get_or_load(key, Coding::negotiate(&headers), || async {
            let client = crate::db::checkout(&context.pool).await?;
            let mut body = Vec::new();
            body.extend_from_slice(b"{\"items\":");
            let next = queries::list_events_json(&client, &filter, after, limit, &mut body).await?;
            body.extend_from_slice(b",\"next_cursor\":");
            match next {
                // base64url needs no escaping.
                Some(position) => {
                    body.push(b'"');
                    body.extend_from_slice(cursor::encode(position).as_bytes());
                    body.extend_from_slice(b"\"}");
                }
                None => body.extend_from_slice(b"null}"),
            }
            Ok(body.into())
        })
        .await?;
    Ok(conditional_json(&headers, &cached, &context.cache_control))
}
