//! The batch writer: a binary COPY into a staging table, then one set-based statement stores new
//! events and moves flight state forward, in one transaction.

use crate::domain::FlightEvent;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use uuid::Uuid;

/// A decoded event with the Pub/Sub metadata stored beside it.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    pub event: FlightEvent,
    pub published_at: DateTime<Utc>,
    pub message_id: String,
}

/// Per-session staging table the batch is COPYed into: created on first use in each session,
/// emptied by every commit, never logged (temporary). The `SET LOCAL` keeps the "already
/// exists" notice of later batches off the wire.
const STAGE_SQL: &str = "
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE IF NOT EXISTS incoming_events (
    event_id uuid, flight_id text, airline text, flight_number text, origin text,
    destination text, status text, scheduled_departure timestamptz,
    actual_departure timestamptz, delay_minutes int4, event_time timestamptz,
    published_at timestamptz, message_id text
) ON COMMIT DELETE ROWS;";

const COPY_SQL: &str = "COPY incoming_events FROM STDIN BINARY";

/// Column types of `incoming_events`, in order, for the binary COPY.
const COPY_TYPES: [Type; 13] = [
    Type::UUID,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::INT4,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TEXT,
];

/// Inserts unseen events (by `event_id`) from the staging table and upserts each flight's
/// state only when the event is newer than the state already stored.
const WRITE_BATCH_SQL: &str = "
WITH inserted AS (
    INSERT INTO flight_events (event_id, flight_id, airline, flight_number, origin, destination,
                               status, scheduled_departure, actual_departure, delay_minutes,
                               event_time, published_at, message_id)
    SELECT * FROM incoming_events
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

/// Writes a batch in one transaction (binary COPY into the staging table, then one set-based
/// statement) and returns the ids it stored; the rest of the batch were duplicates (within the
/// batch or already stored). On any error the transaction rolls back: nothing of the batch is
/// stored.
pub async fn write_batch(
    client: &deadpool_postgres::Client,
    batch: &[IncomingEvent],
) -> Result<HashSet<Uuid>, super::DbError> {
    let result = stage_and_write(client, batch).await;
    if result.is_err() && !client.is_closed() {
        // Also ends a transaction a failed COPY or statement left open.
        client.batch_execute("ROLLBACK").await?;
    }
    result
}

async fn stage_and_write(
    client: &deadpool_postgres::Client,
    batch: &[IncomingEvent],
) -> Result<HashSet<Uuid>, super::DbError> {
    client.batch_execute(STAGE_SQL).await?;
    let copy = client.copy_in(COPY_SQL).await?;
    let writer = BinaryCopyInWriter::new(copy, &COPY_TYPES);
    futures::pin_mut!(writer);
    let mut seen = HashSet::with_capacity(batch.len());
    for incoming in batch {
        let e = &incoming.event;
        if !seen.insert(e.event_id) {
            continue;
        }
        writer
            .as_mut()
            .write(&[
                &e.event_id,
                &e.flight_id,
                &e.airline,
                &e.flight_number,
                &e.origin,
                &e.destination,
                &e.status.as_str(),
                &e.scheduled_departure,
                &e.actual_departure,
                &e.delay_minutes,
                &e.event_time,
                &incoming.published_at,
                &incoming.message_id,
            ])
            .await?;
    }
    writer.finish().await?;
    let statement = client.prepare_cached(WRITE_BATCH_SQL).await?;
    let rows = client.query(&statement, &[]).await?;
    client.batch_execute("COMMIT").await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
