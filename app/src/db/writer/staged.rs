//! The staged path: the batch COPYed into a temporary staging table, then one idempotent
//! statement stores unseen events and moves flight state forward (the rollup follows by trigger).

use super::{IncomingEvent, copy_events};
use crate::db::DbError;
use std::collections::HashSet;
use uuid::Uuid;

/// Per-session staging table the batch is COPYed into: created on first use in each session,
/// emptied by every commit, never logged (temporary). The `SET LOCAL` keeps the "already
/// exists" notice of later batches off the wire.
const STAGE_SQL: &str = "
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE IF NOT EXISTS incoming_events (
    event_id uuid, flight_id text, airline text, flight_number text, origin char(3),
    destination char(3), status text, scheduled_departure timestamptz,
    actual_departure timestamptz, delay_minutes int4, event_time timestamptz,
    published_at timestamptz, message_id text
) ON COMMIT DELETE ROWS;";

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

/// Writes `events` (distinct ids) in one transaction and returns the ids it stored; the caller
/// rolls back on error.
pub(super) async fn write(
    client: &deadpool_postgres::Client,
    events: &[&IncomingEvent],
) -> Result<HashSet<Uuid>, DbError> {
    client.batch_execute(STAGE_SQL).await?;
    copy_events(client, "incoming_events", events).await?;
    let statement = client.prepare_cached(WRITE_BATCH_SQL).await?;
    let rows = client.query(&statement, &[]).await?;
    client.batch_execute("COMMIT").await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
