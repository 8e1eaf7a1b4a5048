//! GET /v1/stats/delays: daily delay statistics for one origin over a date range.

use super::ApiContext;
use super::error::{ApiError, Problem};
use super::json_body;
use super::params::{Params, is_iata};
use crate::db::queries::{self, DayDelayStats};
use axum::extract::{RawQuery, State};
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
    pub days: Vec<DayDelayStats>,
}

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/stats/delays", get(delays))
}

fn date(params: &Params, name: &'static str, default: NaiveDate) -> Result<NaiveDate, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
            ApiError::invalid(name, format!("must be a date YYYY-MM-DD, got {raw:?}"))
        }),
    }
}

#[utoipa::path(
    get,
    path = "/v1/stats/delays",
    tag = "stats",
    params(
        ("origin" = String, Query, description = "IATA origin airport, e.g. SCL"),
        ("from" = Option<String>, Query, description = "First day YYYY-MM-DD (UTC); default 6 days before `to`"),
        ("to" = Option<String>, Query, description = "Last day YYYY-MM-DD (UTC), inclusive; default today"),
    ),
    responses(
        (status = 200, description = "Per-day statistics", body = DelayStats),
        (status = 400, description = "A parameter is missing or invalid, or the range exceeds 92 days", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delays(
    State(context): State<ApiContext>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), &["origin", "from", "to"])?;
    let origin = params
        .text("origin", "an IATA code of 3 uppercase letters", is_iata)?
        .ok_or_else(|| ApiError::invalid("origin", "is required (an IATA code such as SCL)"))?;
    let to = date(&params, "to", Utc::now().date_naive())?;
    let from = date(&params, "from", to - Days::new(6))?;
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
    let key = format!("stats|{origin}|{from}|{to}");
    let body = context
        .cache
        .get_or_load("stats", key, || async {
            let client = context.pool.get().await?;
            let days = queries::delay_stats(&client, &origin, from, to).await?;
            let stats = DelayStats {
                origin: origin.clone(),
                from,
                to,
                days,
            };
            Ok(serde_json::to_vec(&stats)
                .map_err(anyhow::Error::from)?
                .into())
        })
        .await?;
    Ok(json_body(body))
}
