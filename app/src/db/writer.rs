//! The batch writer: one set-based statement stores new events and moves flight state forward.

use crate::domain::FlightEvent;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use uuid::Uuid;

/// A decoded event with the Pub/Sub metadata stored beside it.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    pub event: FlightEvent,
    pub published_at: DateTime<Utc>,
    pub message_id: String,
}

/// Inserts unseen events (by `event_id`) and upserts each flight's state only when the event
/// is newer than the state already stored. One statement, so it commits atomically.
const WRITE_BATCH_SQL: &str = "
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::timestamptz[], $9::timestamptz[], $10::int4[],
                         $11::timestamptz[], $12::timestamptz[], $13::text[])
        AS t(event_id, flight_id, airline, flight_number, origin, destination, status,
             scheduled_departure, actual_departure, delay_minutes, event_time, published_at,
             message_id)
),
inserted AS (
    INSERT INTO flight_events (event_id, flight_id, airline, flight_number, origin, destination,
                               status, scheduled_departure, actual_departure, delay_minutes,
                               event_time, published_at, message_id)
    SELECT * FROM input
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id, flight_id, airline, flight_number, origin, destination, status,
              scheduled_departure, actual_departure, delay_minutes, event_time
),
latest AS (
    SELECT DISTINCT ON (flight_id) * FROM inserted
    ORDER BY flight_id, event_time DESC, event_id DESC
),
upserted AS (
    INSERT INTO flights AS f (flight_id, airline, flight_number, origin, destination, status,
                              scheduled_departure, actual_departure, delay_minutes,
                              last_event_id, last_event_time)
    SELECT flight_id, airline, flight_number, origin, destination, status, scheduled_departure,
           actual_departure, delay_minutes, event_id, event_time
    FROM latest ORDER BY flight_id
    ON CONFLICT (flight_id) DO UPDATE SET
        airline = EXCLUDED.airline, flight_number = EXCLUDED.flight_number,
        origin = EXCLUDED.origin, destination = EXCLUDED.destination, status = EXCLUDED.status,
        scheduled_departure = EXCLUDED.scheduled_departure,
        actual_departure = EXCLUDED.actual_departure, delay_minutes = EXCLUDED.delay_minutes,
        last_event_id = EXCLUDED.last_event_id, last_event_time = EXCLUDED.last_event_time,
        updated_at = clock_timestamp()
    WHERE (f.last_event_time, f.last_event_id) < (EXCLUDED.last_event_time, EXCLUDED.last_event_id)
)
SELECT event_id FROM inserted";

/// Column arrays for the `unnest` parameters.
#[derive(Default)]
struct Columns<'a> {
    event_id: Vec<Uuid>,
    flight_id: Vec<&'a str>,
    airline: Vec<&'a str>,
    flight_number: Vec<&'a str>,
    origin: Vec<&'a str>,
    destination: Vec<&'a str>,
    status: Vec<&'static str>,
    scheduled_departure: Vec<DateTime<Utc>>,
    actual_departure: Vec<Option<DateTime<Utc>>>,
    delay_minutes: Vec<Option<i32>>,
    event_time: Vec<DateTime<Utc>>,
    published_at: Vec<DateTime<Utc>>,
    message_id: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    fn push(&mut self, incoming: &'a IncomingEvent) {
        let e = &incoming.event;
        self.event_id.push(e.event_id);
        self.flight_id.push(&e.flight_id);
        self.airline.push(&e.airline);
        self.flight_number.push(&e.flight_number);
        self.origin.push(&e.origin);
        self.destination.push(&e.destination);
        self.status.push(e.status.as_str());
        self.scheduled_departure.push(e.scheduled_departure);
        self.actual_departure.push(e.actual_departure);
        self.delay_minutes.push(e.delay_minutes);
        self.event_time.push(e.event_time);
        self.published_at.push(incoming.published_at);
        self.message_id.push(&incoming.message_id);
    }
}

/// Writes a batch and returns the ids it stored; the rest of the batch were duplicates (within
/// the batch or already stored).
pub async fn write_batch(
    client: &deadpool_postgres::Client,
    batch: &[IncomingEvent],
) -> Result<HashSet<Uuid>, super::DbError> {
    let mut seen = HashSet::with_capacity(batch.len());
    let mut columns = Columns::default();
    for incoming in batch {
        if seen.insert(incoming.event.event_id) {
            columns.push(incoming);
        }
    }
    let statement = client.prepare_cached(WRITE_BATCH_SQL).await?;
    let rows = client
        .query(
            &statement,
            &[
                &columns.event_id,
                &columns.flight_id,
                &columns.airline,
                &columns.flight_number,
                &columns.origin,
                &columns.destination,
                &columns.status,
                &columns.scheduled_departure,
                &columns.actual_departure,
                &columns.delay_minutes,
                &columns.event_time,
                &columns.published_at,
                &columns.message_id,
            ],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
