//! The direct path: the batch COPYed straight into `flight_events`, then the flights it touches
//! locked in id order, created or moved forward, and the daily rollup moved by the batch's net
//! moves, in one transaction whose triggers stand aside (`flightdeck.writer_moves_rollup`,
//! migration V5).

use super::moves::{Contribution, Plan, StoredFlight, newest_per_flight};
use super::{IncomingEvent, copy_events};
use crate::db::DbError;
use crate::domain::FlightEvent;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{HashMap, HashSet};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

/// Opens the transaction in which this writer, not the triggers, moves the rollup.
const BEGIN_SQL: &str = "BEGIN; SET LOCAL flightdeck.writer_moves_rollup = on";

/// Locks the state rows of the batch's flights in id order (as the staged path and every other
/// writer of this build lock them) and reads what ordering and the rollup need.
const LOCK_FLIGHTS_SQL: &str = "
SELECT flight_id, last_event_time, last_event_id, origin,
       (scheduled_departure AT TIME ZONE 'UTC')::date, status, coalesce(delay_minutes, 0)
FROM flights WHERE flight_id = ANY($1::text[])
ORDER BY flight_id
FOR UPDATE";

/// The state rows of flights the batch creates, in id order; a flight another transaction
/// created meanwhile is left alone (and not returned).
const CREATE_FLIGHTS_SQL: &str = "
INSERT INTO flights (flight_id, airline, flight_number, origin, destination, status,
                     scheduled_departure, actual_departure, delay_minutes, last_event_id,
                     last_event_time)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::timestamptz[], $8::timestamptz[], $9::int4[], $10::uuid[],
                     $11::timestamptz[])
    AS i(flight_id, airline, flight_number, origin, destination, status, scheduled_departure,
         actual_departure, delay_minutes, last_event_id, last_event_time)
ORDER BY flight_id
ON CONFLICT (flight_id) DO NOTHING
RETURNING flight_id";

/// Moves locked flights forward and applies the rollup's net moves; returns the flights moved.
const MOVE_FLIGHTS_SQL: &str = "
WITH updated AS (
    UPDATE flights AS f SET
        airline = i.airline, flight_number = i.flight_number, origin = i.origin,
        destination = i.destination, status = i.status,
        scheduled_departure = i.scheduled_departure, actual_departure = i.actual_departure,
        delay_minutes = i.delay_minutes, last_event_id = i.last_event_id,
        last_event_time = i.last_event_time, updated_at = clock_timestamp()
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::timestamptz[], $8::timestamptz[], $9::int4[], $10::uuid[],
                $11::timestamptz[])
        AS i(flight_id, airline, flight_number, origin, destination, status,
             scheduled_departure, actual_departure, delay_minutes, last_event_id,
             last_event_time)
    WHERE f.flight_id = i.flight_id
    RETURNING 1
),
moved AS (
    SELECT delay_rollups_move(ARRAY(
        SELECT ROW(origin, day, sign, status, delay)::delay_rollup_move
        FROM unnest($12::bpchar[], $13::date[], $14::int4[], $15::text[], $16::int4[])
            AS m(origin, day, sign, status, delay)))
)
SELECT (SELECT count(*) FROM updated) FROM moved";

/// How the direct path ended.
pub(super) enum Outcome {
    /// The whole batch is stored and committed.
    Committed,
    /// Rolled back, nothing stored: an event was already stored (or is being stored by another
    /// transaction), or a flight changed under the writer in a way its locks should prevent.
    /// The staged path decides such a batch.
    Declined,
}

/// Writes `events` (distinct ids) in one transaction; the caller rolls back on error.
pub(super) async fn write(
    client: &deadpool_postgres::Client,
    events: &[&IncomingEvent],
) -> Result<Outcome, DbError> {
    client.batch_execute(BEGIN_SQL).await?;
    if let Err(error) = copy_events(client, "flight_events", events).await {
        if error.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            return declined(client).await;
        }
        return Err(error.into());
    }
    let newest = newest_per_flight(events);
    let flight_ids: Vec<&str> = newest.keys().copied().collect();
    let mut plan = Plan::new(&newest, &lock_flights(client, &flight_ids).await?);
    if !plan.creates.is_empty() {
        let statement = client.prepare_cached(CREATE_FLIGHTS_SQL).await?;
        let rows = FlightRows::of(&plan.creates);
        let created: HashSet<String> = client
            .query(&statement, &rows.as_refs())
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        if created.len() < plan.creates.len() {
            // Another transaction created these since the lock: lock its rows and decide again.
            let beaten: Vec<&str> = plan
                .creates
                .iter()
                .map(|e| e.flight_id.as_str())
                .filter(|id| !created.contains(*id))
                .collect();
            let rows = lock_flights(client, &beaten).await?;
            if rows.len() != beaten.len() {
                return Err(DbError::data(
                    "flights",
                    "a flight created meanwhile is gone",
                ));
            }
            plan.created_meanwhile(&rows);
        }
    }
    let statement = client.prepare_cached(MOVE_FLIGHTS_SQL).await?;
    let rows = FlightRows::of(&plan.updates);
    let moves = Moves::of(&plan);
    let mut params = rows.as_refs().to_vec();
    params.extend(moves.as_refs());
    let updated: i64 = client.query_one(&statement, &params).await?.try_get(0)?;
    if updated != plan.updates.len() as i64 {
        // A locked row cannot change; should one be missing all the same, the staged statement
        // decides rather than the rollup drifting.
        return declined(client).await;
    }
    client.batch_execute("COMMIT").await?;
    Ok(Outcome::Committed)
}

async fn declined(client: &deadpool_postgres::Client) -> Result<Outcome, DbError> {
    client.batch_execute("ROLLBACK").await?;
    Ok(Outcome::Declined)
}

/// Locks the state rows of `flight_ids` and reads them, by flight id.
async fn lock_flights(
    client: &deadpool_postgres::Client,
    flight_ids: &[&str],
) -> Result<HashMap<String, StoredFlight>, DbError> {
    let lock = client.prepare_cached(LOCK_FLIGHTS_SQL).await?;
    client
        .query(&lock, &[&flight_ids])
        .await?
        .iter()
        .map(stored_flight)
        .collect()
}

fn stored_flight(row: &tokio_postgres::Row) -> Result<(String, StoredFlight), DbError> {
    Ok((
        row.try_get(0)?,
        StoredFlight {
            last_event_time: row.try_get(1)?,
            last_event_id: row.try_get(2)?,
            contribution: Contribution {
                origin: row.try_get(3)?,
                day: row.try_get(4)?,
                status: row.try_get(5)?,
                delay: row.try_get(6)?,
            },
        },
    ))
}

type Param<'a> = &'a (dyn ToSql + Sync);

/// A flight state row per event, one array per column, in `flights`' column order.
struct FlightRows<'a> {
    flight_id: Vec<&'a str>,
    airline: Vec<&'a str>,
    flight_number: Vec<&'a str>,
    origin: Vec<&'a str>,
    destination: Vec<&'a str>,
    status: Vec<&'static str>,
    scheduled_departure: Vec<DateTime<Utc>>,
    actual_departure: Vec<Option<DateTime<Utc>>>,
    delay_minutes: Vec<Option<i32>>,
    last_event_id: Vec<Uuid>,
    last_event_time: Vec<DateTime<Utc>>,
}

impl<'a> FlightRows<'a> {
    fn of(events: &[&'a FlightEvent]) -> Self {
        Self {
            flight_id: events.iter().map(|e| e.flight_id.as_str()).collect(),
            airline: events.iter().map(|e| e.airline.as_str()).collect(),
            flight_number: events.iter().map(|e| e.flight_number.as_str()).collect(),
            origin: events.iter().map(|e| e.origin.as_str()).collect(),
            destination: events.iter().map(|e| e.destination.as_str()).collect(),
            status: events.iter().map(|e| e.status.as_str()).collect(),
            scheduled_departure: events.iter().map(|e| e.scheduled_departure).collect(),
            actual_departure: events.iter().map(|e| e.actual_departure).collect(),
            delay_minutes: events.iter().map(|e| e.delay_minutes).collect(),
            last_event_id: events.iter().map(|e| e.event_id).collect(),
            last_event_time: events.iter().map(|e| e.event_time).collect(),
        }
    }

    fn as_refs(&self) -> [Param<'_>; 11] {
        [
            &self.flight_id,
            &self.airline,
            &self.flight_number,
            &self.origin,
            &self.destination,
            &self.status,
            &self.scheduled_departure,
            &self.actual_departure,
            &self.delay_minutes,
            &self.last_event_id,
            &self.last_event_time,
        ]
    }
}

/// The plan's rollup moves, one array per field of `delay_rollup_move`.
struct Moves<'a> {
    origin: Vec<&'a str>,
    day: Vec<NaiveDate>,
    sign: Vec<i32>,
    status: Vec<&'a str>,
    delay: Vec<i32>,
}

impl<'a> Moves<'a> {
    fn of(plan: &'a Plan<'_>) -> Self {
        let moves = &plan.moves;
        Self {
            origin: moves.keys().map(|m| m.origin.as_str()).collect(),
            day: moves.keys().map(|m| m.day).collect(),
            sign: moves.values().copied().collect(),
            status: moves.keys().map(|m| m.status.as_str()).collect(),
            delay: moves.keys().map(|m| m.delay).collect(),
        }
    }

    fn as_refs(&self) -> [Param<'_>; 5] {
        [
            &self.origin,
            &self.day,
            &self.sign,
            &self.status,
            &self.delay,
        ]
    }
}
