//! The batch writer: each batch in one transaction, COPYed straight into `flight_events` with
//! flight state and the daily rollup moved from the rows it locked (`direct`), or, when the
//! batch meets events already stored or a flight created concurrently, through a staging table
//! and one idempotent statement (`staged`).

mod direct;
mod moves;
mod staged;

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

/// The columns of `flight_events` a batch writes, in COPY order (`ingested_at` takes its
/// default).
const COPY_COLUMNS: &str = "event_id, flight_id, airline, flight_number, origin, destination, \
    status, scheduled_departure, actual_departure, delay_minutes, event_time, published_at, message_id";

/// Their types, in order, for the binary COPY.
const COPY_TYPES: [Type; 13] = [
    Type::UUID,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::BPCHAR,
    Type::BPCHAR,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::INT4,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TEXT,
];

/// One binary COPY of `events` into `table`, which has `flight_events`' columns (the table
/// itself, the staging table, or the benchmark's copy); returns the rows copied.
pub async fn copy_events(
    client: &deadpool_postgres::Client,
    table: &str,
    events: &[&IncomingEvent],
) -> Result<u64, tokio_postgres::Error> {
    let sink = client
        .copy_in(&format!("COPY {table} ({COPY_COLUMNS}) FROM STDIN BINARY"))
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &COPY_TYPES);
    futures::pin_mut!(writer);
    for incoming in events {
        let e = &incoming.event;
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
    writer.finish().await
}

/// Writes a batch in one transaction and returns the ids it stored; the rest of the batch were
/// duplicates (within the batch or already stored). On any error the transaction rolls back:
/// nothing of the batch is stored.
pub async fn write_batch(
    client: &deadpool_postgres::Client,
    batch: &[IncomingEvent],
) -> Result<HashSet<Uuid>, super::DbError> {
    let mut ids = HashSet::with_capacity(batch.len());
    let distinct: Vec<&IncomingEvent> = batch
        .iter()
        .filter(|e| ids.insert(e.event.event_id))
        .collect();
    if distinct.is_empty() {
        return Ok(ids);
    }
    match direct::write(client, &distinct).await {
        Ok(direct::Outcome::Committed) => return Ok(ids),
        Ok(direct::Outcome::Declined) => {}
        Err(error) => return Err(rolled_back(client, error).await),
    }
    match staged::write(client, &distinct).await {
        Ok(stored) => Ok(stored),
        Err(error) => Err(rolled_back(client, error).await),
    }
}

/// Ends the transaction a failed COPY or statement left open, and hands the error back.
async fn rolled_back(client: &deadpool_postgres::Client, error: super::DbError) -> super::DbError {
    if client.is_closed() {
        return error;
    }
    match client.batch_execute("ROLLBACK").await {
        Ok(()) => error,
        Err(rollback) => rollback.into(),
    }
}
