//! Decodes a batch, hands invalid messages to the dead-letter publisher, and writes valid
//! events in one statement, holding them through a database outage until the write succeeds.

use super::dead_letter::{DeadLetters, Invalid};
use super::outage::Outage;
use super::stream::Delivery;
use crate::backoff::Backoff;
use crate::db::writer::{IncomingEvent, write_batch};
use crate::db::{DbError, Failure, Pool};
use crate::domain::{DeadLetterReason, FlightEvent};
use crate::telemetry::metrics::{
    INGEST_BATCH_SIZE, INGEST_BATCH_WRITE, INGEST_LAG, INGEST_LAST_COMMIT, INGEST_MESSAGES,
};
use chrono::{DateTime, Utc};
use opentelemetry::trace::TraceContextExt;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

/// First and longest wait between two attempts to write a held batch.
const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// What a batch write needs besides the batch.
pub struct Processor {
    pub pool: Pool,
    pub dead_letters: DeadLetters,
    pub outage: Outage,
    pub write_timeout: Duration,
    pub max_message_bytes: usize,
    /// Fires on SIGTERM: held batches are released instead of retried.
    pub shutdown: CancellationToken,
}

fn count(outcome: &'static str, n: usize) {
    if n > 0 {
        metrics::counter!(INGEST_MESSAGES, "outcome" => outcome).increment(n as u64);
    }
}

/// How a held batch ended.
enum Stored {
    /// Committed and acked.
    Done,
    /// The database refused the batch's data: isolate the culprits.
    Rejected(DbError),
    /// Shutting down during an outage: released for redelivery.
    Released,
}

impl Processor {
    /// Handles one batch end to end. Every delivery is acked, nacked or handed to the
    /// dead-letter publisher before this returns.
    pub async fn process(&self, batch: Vec<Delivery>) {
        let span = tracing::info_span!(
            "ingest.batch",
            messages = batch.len(),
            otel.kind = "consumer"
        );
        metrics::histogram!(INGEST_BATCH_SIZE).record(batch.len() as f64);
        // Decoded events and their deliveries, index for index.
        let mut events = Vec::with_capacity(batch.len());
        let mut valid = Vec::with_capacity(batch.len());
        let mut invalid = Vec::new();
        for delivery in batch {
            let parent = crate::telemetry::extract_trace_context(&delivery.message.attributes);
            let linked = parent.span().span_context().clone();
            if linked.is_valid() {
                span.add_link(linked);
            }
            match FlightEvent::decode_at_most(
                &delivery.message.data,
                &delivery.message.attributes,
                self.max_message_bytes,
            ) {
                Ok(event) => {
                    events.push(IncomingEvent {
                        event,
                        published_at: publish_time(&delivery),
                        message_id: delivery.message.message_id.clone(),
                    });
                    valid.push(delivery);
                }
                Err(error) => invalid.push(Invalid {
                    reason: error.reason(),
                    error: error.to_string(),
                    delivery,
                }),
            }
        }
        async {
            self.dead_letters.submit(invalid);
            let rejected = self.store(events, valid).await;
            self.dead_letters.submit(rejected);
        }
        .instrument(span)
        .await;
    }

    /// Writes and acks valid events; returns those the database refused for good.
    async fn store(&self, events: Vec<IncomingEvent>, deliveries: Vec<Delivery>) -> Vec<Invalid> {
        if events.is_empty() {
            return Vec::new();
        }
        match self.store_held(&events, deliveries).await {
            Ok(()) => Vec::new(),
            Err((error, deliveries)) => {
                tracing::warn!(%error, "batch refused by the database; writing its events one by one");
                self.store_one_by_one(events, deliveries).await
            }
        }
    }

    /// Writes `events` until the write succeeds (then acks), the database refuses the data
    /// (returns the deliveries untouched), or shutdown arrives during an outage (nacks).
    async fn store_held(
        &self,
        events: &[IncomingEvent],
        deliveries: Vec<Delivery>,
    ) -> Result<(), (DbError, Vec<Delivery>)> {
        match self.write_until_done(events).await {
            Stored::Done => {
                deliveries.into_iter().for_each(Delivery::ack);
                Ok(())
            }
            Stored::Rejected(error) => Err((error, deliveries)),
            Stored::Released => {
                count("failed", deliveries.len());
                deliveries.into_iter().for_each(Delivery::nack);
                Ok(())
            }
        }
    }

    /// Isolates the events the database refuses; they go to the dead-letter topic as delivered.
    async fn store_one_by_one(
        &self,
        events: Vec<IncomingEvent>,
        deliveries: Vec<Delivery>,
    ) -> Vec<Invalid> {
        let mut rejected = Vec::new();
        for (event, delivery) in events.into_iter().zip(deliveries) {
            if let Err((error, mut back)) = self
                .store_held(std::slice::from_ref(&event), vec![delivery])
                .await
            {
                rejected.push(Invalid {
                    reason: DeadLetterReason::RejectedByDatabase,
                    error: format!(
                        "{}: {}",
                        DeadLetterReason::RejectedByDatabase,
                        error.detail()
                    ),
                    delivery: back.remove(0),
                });
            }
        }
        rejected
    }

    /// Retries transient failures with jittered backoff; the messages stay held meanwhile, so
    /// an outage spends no delivery attempts.
    async fn write_until_done(&self, events: &[IncomingEvent]) -> Stored {
        let mut backoff = Backoff::new(RETRY_MIN, RETRY_MAX);
        loop {
            match self.write(events).await {
                Ok(new_ids) => {
                    self.committed(events, new_ids);
                    return Stored::Done;
                }
                Err(error) if error.failure() == Failure::Rejected => {
                    return Stored::Rejected(error);
                }
                Err(error) => {
                    if error.failure() == Failure::Internal {
                        tracing::error!(%error, "batch write failed with an unexpected database error; retrying");
                    }
                    self.outage.write_failed(&error, events.len());
                    let delay = backoff.next_delay();
                    tracing::debug!(%error, retry_in_ms = delay.as_millis() as u64, "batch write failed");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.shutdown.cancelled() => return Stored::Released,
                    }
                }
            }
        }
    }

    async fn write(&self, events: &[IncomingEvent]) -> Result<HashSet<Uuid>, DbError> {
        let started = Instant::now();
        let span = tracing::info_span!(
            "db.write_batch",
            db.system = "postgresql",
            events = events.len(),
            otel.kind = "client"
        );
        let result = async {
            let client = crate::db::checkout(&self.pool).await?;
            match tokio::time::timeout(self.write_timeout, write_batch(&client, events)).await {
                Ok(result) => result,
                Err(_) => {
                    // The connection may still run the statement: take it out of the pool.
                    drop(deadpool_postgres::Object::take(client));
                    Err(DbError::TimedOut(self.write_timeout))
                }
            }
        }
        .instrument(span)
        .await;
        if result.is_ok() {
            metrics::histogram!(INGEST_BATCH_WRITE).record(started.elapsed().as_secs_f64());
        }
        result
    }

    fn committed(&self, events: &[IncomingEvent], mut new_ids: HashSet<Uuid>) {
        let now = Utc::now();
        count("stored", new_ids.len());
        count("duplicate", events.len() - new_ids.len());
        // Lag is observed for newly stored events only: a redelivered duplicate's publish time
        // is old and would misreport freshness.
        let lag = metrics::histogram!(INGEST_LAG);
        for e in events.iter().filter(|e| new_ids.remove(&e.event.event_id)) {
            lag.record(
                (now - e.published_at)
                    .num_microseconds()
                    .unwrap_or(0)
                    .max(0) as f64
                    / 1e6,
            );
        }
        metrics::gauge!(INGEST_LAST_COMMIT).set(now.timestamp_micros() as f64 / 1e6);
        self.outage.write_succeeded();
    }
}

fn publish_time(delivery: &Delivery) -> DateTime<Utc> {
    delivery
        .message
        .publish_time
        .and_then(|t| DateTime::<Utc>::try_from(t).ok())
        .unwrap_or_else(Utc::now)
}
