//! Read queries behind the HTTP API: one indexed, prepared statement per request shape.

use super::DbError;
use crate::domain::{FlightEvent, FlightStatus, SYNTHETIC_FLIGHT_PREFIX};
use chrono::{DateTime, NaiveDate, Utc};
use tokio_postgres::Row;
use tracing::Instrument;
use uuid::Uuid;

/// A stored event: the published fields plus when Pub/Sub accepted it and when it was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub event: FlightEvent,
    /// Pub/Sub publish time of the message that carried the event.
    pub published_at: DateTime<Utc>,
    /// When flightdeck committed the event to the database.
    pub ingested_at: DateTime<Utc>,
}

/// Position in the newest-first feed: the last item of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeedPosition {
    pub event_time: DateTime<Utc>,
    pub event_id: Uuid,
}

/// Filters of the event feed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EventFilter {
    pub origin: Option<String>,
    pub status: Option<FlightStatus>,
    pub flight_id: Option<String>,
}

/// A child span per query, only when traces are exported.
fn query_span(operation: &'static str) -> tracing::Span {
    if crate::telemetry::tracing_enabled() {
        tracing::info_span!(
            "db.query",
            db.system = "postgresql",
            db.operation = operation,
            otel.kind = "client"
        )
    } else {
        tracing::Span::none()
    }
}

const EVENT_COLUMNS: &str = "event_id, flight_id, airline, flight_number, origin, destination, \
    status, scheduled_departure, actual_departure, delay_minutes, event_time, published_at, ingested_at";

/// Decodes a row of `EVENT_COLUMNS` by position (no per-row column-name lookups).
fn stored_event(row: &Row) -> Result<StoredEvent, DbError> {
    let status: &str = row.try_get(6)?;
    Ok(StoredEvent {
        event: FlightEvent {
            event_id: row.try_get(0)?,
            flight_id: row.try_get(1)?,
            airline: row.try_get(2)?,
            flight_number: row.try_get(3)?,
            origin: row.try_get(4)?,
            destination: row.try_get(5)?,
            status: FlightStatus::parse(status).ok_or_else(|| {
                DbError::data("flight_events", format!("unknown status {status:?}"))
            })?,
            scheduled_departure: row.try_get(7)?,
            actual_departure: row.try_get(8)?,
            delay_minutes: row.try_get(9)?,
            event_time: row.try_get(10)?,
        },
        published_at: row.try_get(11)?,
        ingested_at: row.try_get(12)?,
    })
}

/// Builds the feed query for one combination of filters, so each shape gets its own index.
/// Parameters, in order: each filter given (origin, status, flight_id), the cursor's
/// (event_time, event_id) when `after`, then the row count (page size + 1).
pub fn feed_sql(filter: &EventFilter, after: bool) -> String {
    let mut conditions = Vec::new();
    let mut n = 1;
    for (present, column) in [
        (filter.origin.is_some(), "origin"),
        (filter.status.is_some(), "status"),
        (filter.flight_id.is_some(), "flight_id"),
    ] {
        if present {
            conditions.push(format!("{column} = ${n}"));
            n += 1;
        }
    }
    if filter.flight_id.is_none() {
        // Synthetic probe flights are readable by id only, never in the feed.
        conditions.push(format!("flight_id NOT LIKE '{SYNTHETIC_FLIGHT_PREFIX}%'"));
    }
    if after {
        conditions.push(format!("(event_time, event_id) < (${}, ${})", n, n + 1));
        n += 2;
    }
    let clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    format!(
        "SELECT {EVENT_COLUMNS} FROM flight_events {clause} \
         ORDER BY event_time DESC, event_id DESC LIMIT ${n}"
    )
}

/// Up to `limit + 1` feed rows newest first (the extra row tells whether more follow).
async fn feed_rows(
    client: &deadpool_postgres::Client,
    filter: &EventFilter,
    after: Option<FeedPosition>,
    limit: i64,
) -> Result<Vec<Row>, DbError> {
    let statement = client
        .prepare_cached(&feed_sql(filter, after.is_some()))
        .await?;
    let status = filter.status.map(FlightStatus::as_str);
    let fetch = limit + 1;
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = Vec::with_capacity(6);
    if let Some(origin) = &filter.origin {
        params.push(origin);
    }
    if let Some(status) = &status {
        params.push(status);
    }
    if let Some(flight_id) = &filter.flight_id {
        params.push(flight_id);
    }
    if let Some(position) = &after {
        params.push(&position.event_time);
        params.push(&position.event_id);
    }
    params.push(&fetch);
    Ok(client.query(&statement, &params).await?)
}

/// A page of the feed: at most `limit` events newest first, and whether more follow.
pub async fn list_events(
    client: &deadpool_postgres::Client,
    filter: &EventFilter,
    after: Option<FeedPosition>,
    limit: i64,
) -> Result<(Vec<StoredEvent>, bool), DbError> {
    async {
        let rows = feed_rows(client, filter, after, limit).await?;
        let has_more = rows.len() as i64 > limit;
        let events = rows
            .iter()
            .take(limit as usize)
            .map(stored_event)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((events, has_more))
    }
    .instrument(query_span("list_events"))
    .await
}

/// The same page as `list_events`, appended to `out` as the JSON array serde would write for
/// its events, encoded from the rows without decoding them. Returns the position of the last
/// event when more follow.
pub async fn list_events_json(
    client: &deadpool_postgres::Client,
    filter: &EventFilter,
    after: Option<FeedPosition>,
    limit: i64,
    out: &mut Vec<u8>,
) -> Result<Option<FeedPosition>, DbError> {
    async {
        let rows = feed_rows(client, filter, after, limit).await?;
        let page = &rows[..rows.len().min(limit as usize)];
        out.reserve(2 + page.len() * super::feed_json::EVENT_BYTES);
        out.push(b'[');
        for (i, row) in page.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            super::feed_json::write_event(row, out)?;
        }
        out.push(b']');
        if rows.len() as i64 <= limit {
            return Ok(None);
        }
        let last = page.last().expect("limit >= 1");
        Ok(Some(FeedPosition {
            event_time: last.try_get(10)?,
            event_id: last.try_get(0)?,
        }))
    }
    .instrument(query_span("list_events"))
    .await
}

/// Current state of one flight.
#[derive(Debug, Clone, PartialEq)]
pub struct FlightState {
    pub flight_id: String,
    pub airline: String,
    pub flight_number: String,
    pub origin: String,
    pub destination: String,
    pub status: FlightStatus,
    pub scheduled_departure: DateTime<Utc>,
    pub actual_departure: Option<DateTime<Utc>>,
    pub delay_minutes: Option<i32>,
    /// The event that set this state (the newest by `event_time`, then `event_id`).
    pub last_event_id: Uuid,
    pub last_event_time: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One flight's current state; parameter: the flight id.
pub const FLIGHT_STATE_SQL: &str = "SELECT flight_id, airline, flight_number, origin, destination, \
    status, scheduled_departure, actual_departure, delay_minutes, last_event_id, last_event_time, \
    updated_at FROM flights WHERE flight_id = $1";

/// The flight's current state, or `None` when no event for it was ever stored.
pub async fn flight_state(
    client: &deadpool_postgres::Client,
    flight_id: &str,
) -> Result<Option<FlightState>, DbError> {
    async {
        let statement = client.prepare_cached(FLIGHT_STATE_SQL).await?;
        let Some(row) = client.query_opt(&statement, &[&flight_id]).await? else {
            return Ok(None);
        };
        let status: &str = row.try_get("status")?;
        Ok(Some(FlightState {
            flight_id: row.try_get("flight_id")?,
            airline: row.try_get("airline")?,
            flight_number: row.try_get("flight_number")?,
            origin: row.try_get("origin")?,
            destination: row.try_get("destination")?,
            status: FlightStatus::parse(status)
                .ok_or_else(|| DbError::data("flights", format!("unknown status {status:?}")))?,
            scheduled_departure: row.try_get("scheduled_departure")?,
            actual_departure: row.try_get("actual_departure")?,
            delay_minutes: row.try_get("delay_minutes")?,
            last_event_id: row.try_get("last_event_id")?,
            last_event_time: row.try_get("last_event_time")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }
    .instrument(query_span("flight_state"))
    .await
}

/// Delay statistics of flights scheduled to depart from one origin on one UTC day.
#[derive(Debug, Clone, PartialEq)]
pub struct DayDelayStats {
    pub day: NaiveDate,
    /// Flights scheduled that day (current state, one per flight).
    pub flights: i64,
    /// Flights that departed (status departed or arrived).
    pub departed: i64,
    pub cancelled: i64,
    /// Share of departed flights that left at most 15 minutes late; null when none departed.
    pub on_time_ratio: Option<f64>,
    /// Mean delay of departed flights in minutes; null when none departed.
    pub avg_delay_minutes: Option<f64>,
    /// 95th percentile delay of departed flights in minutes; null when none departed.
    pub p95_delay_minutes: Option<f64>,
}

impl DayDelayStats {
    /// A day without flights: zero counts, no ratios.
    pub fn empty(day: NaiveDate) -> Self {
        Self {
            day,
            flights: 0,
            departed: 0,
            cancelled: 0,
            on_time_ratio: None,
            avg_delay_minutes: None,
            p95_delay_minutes: None,
        }
    }
}

/// On-time means departed at most this many minutes late (the industry's D15).
pub const ON_TIME_MINUTES: i32 = 15;

/// The rollup rows of one origin over a range of days; parameters: origin, first day, last day.
pub const DELAY_STATS_SQL: &str = "SELECT day, flights, departed, cancelled, on_time, \
    CASE WHEN departed > 0 THEN (delay_sum::numeric / departed)::float8 END, \
    delay_histogram, long_delays FROM delay_rollups \
    WHERE origin = $1 AND day BETWEEN $2 AND $3 ORDER BY day";

/// Per-day statistics for `origin` over `[from, to]` (inclusive), every day present, read from
/// the daily rollup (migration V4): at most one row per day, however many flights.
pub async fn delay_stats(
    client: &deadpool_postgres::Client,
    origin: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayDelayStats>, DbError> {
    async {
        let statement = client.prepare_cached(DELAY_STATS_SQL).await?;
        let rows = client.query(&statement, &[&origin, &from, &to]).await?;
        let mut by_day = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            let day: NaiveDate = row.try_get(0)?;
            let departed: i64 = row.try_get(2)?;
            let on_time: i64 = row.try_get(4)?;
            let histogram: Vec<i32> = row.try_get(6)?;
            let long_delays: Vec<i32> = row.try_get(7)?;
            let p95 = super::percentile::percentile_cont(0.95, departed, &histogram, &long_delays)
                .map_err(|detail| DbError::data("delay_rollups", format!("{day}: {detail}")))?;
            by_day.insert(
                day,
                DayDelayStats {
                    day,
                    flights: row.try_get(1)?,
                    departed,
                    cancelled: row.try_get(3)?,
                    on_time_ratio: (departed > 0).then(|| on_time as f64 / departed as f64),
                    avg_delay_minutes: row.try_get(5)?,
                    p95_delay_minutes: p95,
                },
            );
        }
        Ok(from
            .iter_days()
            .take_while(|d| *d <= to)
            .map(|d| by_day.remove(&d).unwrap_or_else(|| DayDelayStats::empty(d)))
            .collect())
    }
    .instrument(query_span("delay_stats"))
    .await
}

/// The latest `limit` events of one flight, newest first.
pub async fn flight_events(
    client: &deadpool_postgres::Client,
    flight_id: &str,
    limit: i64,
) -> Result<Vec<StoredEvent>, DbError> {
    let filter = EventFilter {
        flight_id: Some(flight_id.to_string()),
        ..EventFilter::default()
    };
    Ok(list_events(client, &filter, None, limit).await?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_sql_binds_filters_then_cursor_then_limit() {
        let filter = EventFilter {
            origin: Some("SCL".into()),
            status: None,
            flight_id: Some("X".into()),
        };
        assert_eq!(
            feed_sql(&filter, true),
            format!(
                "SELECT {EVENT_COLUMNS} FROM flight_events WHERE origin = $1 AND flight_id = $2 \
                 AND (event_time, event_id) < ($3, $4) ORDER BY event_time DESC, event_id DESC LIMIT $5"
            )
        );
        assert!(feed_sql(&EventFilter::default(), false).ends_with(
            "FROM flight_events WHERE flight_id NOT LIKE 'PROBE-%' \
             ORDER BY event_time DESC, event_id DESC LIMIT $1"
        ));
    }
}
