//! GET /v1/stats/delays: daily delay statistics for one origin over a date range.

use super::cache::CacheKey;
use super::compression::Coding;
use super::error::{ApiError, Problem};
use super::params::Params;
use super::schema::DayStats;
use super::{ApiContext, conditional_json};
use crate::db::queries;
use crate::domain::event::IATA;
use crate::domain::{FIRST_DAY, is_supported_day};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Router, routing::get};
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Longest range a request may cover.
pub const MAX_DAYS: u64 = 92;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DelayStats {
    pub origin: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// One entry per day of the range, in order; days without flights have zero counts.
    pub days: Vec<DayStats>,
}

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/stats/delays", get(delays))
}

#[utoipa::path(
    get,
    path = "/v1/stats/delays",
    tag = "stats",
    params(
        ("origin" = String, Query, description = "IATA origin airport, e.g. SCL"),
        ("from" = Option<String>, Query, description = "First day YYYY-MM-DD (UTC), from 1970-01-01 to 2199-12-31; default 6 days before `to`", format = Date),
        ("to" = Option<String>, Query, description = "Last day YYYY-MM-DD (UTC), inclusive, from 1970-01-01 to 2199-12-31; default today", format = Date),
        ("Accept-Encoding" = Option<String>, Header, description = "zstd, br and gzip are offered (q-values honoured; ties go to zstd, then br)"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of a copy the client holds; unchanged statistics are a 304"),
    ),
    responses(
        (status = 200, description = "Per-day statistics", body = DelayStats, headers(
            ("ETag" = String, description = "Strong entity tag of the body as sent (each content coding has its own; any of them revalidates)"),
            ("Content-Encoding" = String, description = "zstd, br or gzip, as negotiated from Accept-Encoding, when the body is 1 KiB or more"),
            ("Vary" = String, description = "accept-encoding"),
            ("Cache-Control" = String, description = "max-age matching the API's staleness bound"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "A parameter is missing or invalid, or the range exceeds 92 days", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable or service at capacity; retry after Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delays(
    State(context): State<ApiContext>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), &["origin", "from", "to"])?;
    let origin = params
        .text("origin", IATA)?
        .ok_or_else(|| ApiError::invalid("origin", "is required (an IATA code such as SCL)"))?;
    let to = params.date("to", Utc::now().date_naive())?;
    let week_before = to
        .checked_sub_days(Days::new(6))
        .filter(|d| is_supported_day(*d))
        .unwrap_or(FIRST_DAY);
    let from = params.date("from", week_before)?;
    if from > to {
        return Err(ApiError::invalid(
            "from",
            format!("must not be after to ({to})"),
        ));
    }
    if (to - from).num_days() as u64 >= MAX_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("range covers more than {MAX_DAYS} days"),
        ));
    }
    let key = CacheKey::Stats {
        origin: origin.clone(),
        from,
        to,
    };
    let cached = context
        .cache
        .get_or_load(key, Coding::negotiate(&headers), || async {
            let client = crate::db::checkout(&context.pool).await?;
            let days = queries::delay_stats(&client, &origin, from, to).await?;
            let stats = DelayStats {
                origin: origin.clone(),
                from,
                to,
                days: days.into_iter().map(DayStats::from).collect(),
            };
            Ok(serde_json::to_vec(&stats)
                .map_err(anyhow::Error::from)?
                .into())
        })
        .await?;
    Ok(conditional_json(&headers, &cached, &context.cache_control))
}
