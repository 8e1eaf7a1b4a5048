//! The direct path: the batch COPYed straight into `flight_events`, then the flights it touches
//! locked in id order, moved forward, and the daily rollup moved by the batch's net moves, in one
//! transaction whose triggers stand aside (`flightdeck.writer_moves_rollup`, migration V5).

use super::moves::{Contribution, Plan, StoredFlight, newest_per_flight};
use super::{IncomingEvent, copy_events};
use crate::db::DbError;
use std::collections::HashMap;
use tokio_postgres::error::SqlState;

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

/// Moves locked flights forward, creates new ones (a flight created meanwhile by another
/// transaction is left alone and counted out) and applies the rollup's net moves.
const MOVE_FLIGHTS_SQL: &str = "
WITH incoming AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::timestamptz[], $8::timestamptz[], $9::int4[], $10::uuid[],
                         $11::timestamptz[], $12::bool[])
        AS i(flight_id, airline, flight_number, origin, destination, status,
             scheduled_departure, actual_departure, delay_minutes, last_event_id,
             last_event_time, exists)
),
updated AS (
    UPDATE flights AS f SET
        airline = i.airline, flight_number = i.flight_number, origin = i.origin,
        destination = i.destination, status = i.status,
        scheduled_departure = i.scheduled_departure, actual_departure = i.actual_departure,
        delay_minutes = i.delay_minutes, last_event_id = i.last_event_id,
        last_event_time = i.last_event_time, updated_at = clock_timestamp()
    FROM incoming AS i
    WHERE i.exists AND f.flight_id = i.flight_id
    RETURNING 1
),
created AS (
    INSERT INTO flights (flight_id, airline, flight_number, origin, destination, status,
                         scheduled_departure, actual_departure, delay_minutes, last_event_id,
                         last_event_time)
    SELECT flight_id, airline, flight_number, origin, destination, status, scheduled_departure,
           actual_departure, delay_minutes, last_event_id, last_event_time
    FROM incoming WHERE NOT exists ORDER BY flight_id
    ON CONFLICT (flight_id) DO NOTHING
    RETURNING 1
),
moved AS (
    SELECT delay_rollups_move(ARRAY(
        SELECT ROW(origin, day, sign, status, delay)::delay_rollup_move
        FROM unnest($13::bpchar[], $14::date[], $15::int4[], $16::text[], $17::int4[])
            AS m(origin, day, sign, status, delay)))
)
SELECT (SELECT count(*) FROM updated), (SELECT count(*) FROM created) FROM moved";

/// How the direct path ended.
pub(super) enum Outcome {
    /// The whole batch is stored and committed.
    Committed,
    /// Rolled back, nothing stored: an event was already stored, or a flight was created by
    /// another transaction meanwhile. The staged path decides such a batch.
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
    let lock = client.prepare_cached(LOCK_FLIGHTS_SQL).await?;
    let stored = client
        .query(&lock, &[&flight_ids])
        .await?
        .iter()
        .map(stored_flight)
        .collect::<Result<HashMap<_, _>, _>>()?;
    let plan = Plan::new(&newest, &stored);
    let statement = client.prepare_cached(MOVE_FLIGHTS_SQL).await?;
    let row = client
        .query_one(&statement, &params(&plan).as_refs())
        .await?;
    let (updated, created): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    if (updated, created) != (plan.updates(), plan.creates()) {
        return declined(client).await;
    }
    client.batch_execute("COMMIT").await?;
    Ok(Outcome::Committed)
}

async fn declined(client: &deadpool_postgres::Client) -> Result<Outcome, DbError> {
    client.batch_execute("ROLLBACK").await?;
    Ok(Outcome::Declined)
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

/// `MOVE_FLIGHTS_SQL`'s parameters: one array per column of the flights written, then one per
/// field of the rollup moves.
struct Params<'a> {
    flight_id: Vec<&'a str>,
    airline: Vec<&'a str>,
    flight_number: Vec<&'a str>,
    origin: Vec<&'a str>,
    destination: Vec<&'a str>,
    status: Vec<&'static str>,
    scheduled_departure: Vec<chrono::DateTime<chrono::Utc>>,
    actual_departure: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    delay_minutes: Vec<Option<i32>>,
    last_event_id: Vec<uuid::Uuid>,
    last_event_time: Vec<chrono::DateTime<chrono::Utc>>,
    exists: Vec<bool>,
    move_origin: Vec<&'a str>,
    move_day: Vec<chrono::NaiveDate>,
    move_sign: Vec<i32>,
    move_status: Vec<&'a str>,
    move_delay: Vec<i32>,
}

fn params<'a>(plan: &'a Plan<'a>) -> Params<'a> {
    let mut p = Params {
        flight_id: Vec::with_capacity(plan.writes.len()),
        airline: Vec::with_capacity(plan.writes.len()),
        flight_number: Vec::with_capacity(plan.writes.len()),
        origin: Vec::with_capacity(plan.writes.len()),
        destination: Vec::with_capacity(plan.writes.len()),
        status: Vec::with_capacity(plan.writes.len()),
        scheduled_departure: Vec::with_capacity(plan.writes.len()),
        actual_departure: Vec::with_capacity(plan.writes.len()),
        delay_minutes: Vec::with_capacity(plan.writes.len()),
        last_event_id: Vec::with_capacity(plan.writes.len()),
        last_event_time: Vec::with_capacity(plan.writes.len()),
        exists: Vec::with_capacity(plan.writes.len()),
        move_origin: Vec::with_capacity(plan.moves.len()),
        move_day: Vec::with_capacity(plan.moves.len()),
        move_sign: Vec::with_capacity(plan.moves.len()),
        move_status: Vec::with_capacity(plan.moves.len()),
        move_delay: Vec::with_capacity(plan.moves.len()),
    };
    for &(e, exists) in &plan.writes {
        p.flight_id.push(&e.flight_id);
        p.airline.push(&e.airline);
        p.flight_number.push(&e.flight_number);
        p.origin.push(&e.origin);
        p.destination.push(&e.destination);
        p.status.push(e.status.as_str());
        p.scheduled_departure.push(e.scheduled_departure);
        p.actual_departure.push(e.actual_departure);
        p.delay_minutes.push(e.delay_minutes);
        p.last_event_id.push(e.event_id);
        p.last_event_time.push(e.event_time);
        p.exists.push(exists);
    }
    for (m, &sign) in &plan.moves {
        p.move_origin.push(&m.origin);
        p.move_day.push(m.day);
        p.move_sign.push(sign);
        p.move_status.push(&m.status);
        p.move_delay.push(m.delay);
    }
    p
}

impl Params<'_> {
    fn as_refs(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 17] {
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
            &self.exists,
            &self.move_origin,
            &self.move_day,
            &self.move_sign,
            &self.move_status,
            &self.move_delay,
        ]
    }
}
