//! Decodes a batch, writes valid events in one statement, dead-letters invalid ones, then acks.

use super::dead_letter::{self, REJECTED_BY_DATABASE};
use super::stream::Delivery;
use crate::db::writer::{IncomingEvent, write_batch};
use crate::db::{DbError, Failure, Pool};
use crate::domain::FlightEvent;
use crate::health::Readiness;
use crate::telemetry::metrics::{
    DLQ_MESSAGES, INGEST_BATCH_SIZE, INGEST_BATCH_WRITE, INGEST_LAG, INGEST_LAST_COMMIT,
    INGEST_MESSAGES, dlq_reason_label,
};
use chrono::{DateTime, Utc};
use google_cloud_pubsub::client::Publisher;
use opentelemetry::trace::TraceContextExt;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Writes batches; shared by the concurrent write tasks.
pub struct Processor {
    pool: Pool,
    dead_letters: Publisher,
    readiness: Readiness,
    backoff: Mutex<Duration>,
}

/// A message that goes to the dead-letter topic.
struct Invalid {
    delivery: Delivery,
    reason: &'static str,
    error: String,
}

fn count(outcome: &'static str, n: usize) {
    if n > 0 {
        metrics::counter!(INGEST_MESSAGES, "outcome" => outcome).increment(n as u64);
    }
}

impl Processor {
    pub fn new(pool: Pool, dead_letters: Publisher, readiness: Readiness) -> Self {
        Self {
            pool,
            dead_letters,
            readiness,
            backoff: Mutex::new(MIN_BACKOFF),
        }
    }

    /// Handles one batch end to end. Every delivery is acked or nacked before this returns.
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
            match FlightEvent::decode(&delivery.message.data, &delivery.message.attributes) {
                Ok(event) => {
                    events.push(IncomingEvent {
                        event,
                        published_at: publish_time(&delivery),
                        message_id: delivery.message.message_id.clone(),
                    });
                    valid.push(delivery);
                }
                Err(error) => invalid.push(Invalid {
                    reason: dlq_reason_label(&error),
                    error: error.to_string(),
                    delivery,
                }),
            }
        }
        async {
            let (_, rejected) =
                futures::join!(self.dead_letter(invalid), self.store(events, valid));
            self.dead_letter(rejected).await;
        }
        .instrument(span)
        .await;
    }

    async fn dead_letter(&self, invalid: Vec<Invalid>) {
        if invalid.is_empty() {
            return;
        }
        let messages = invalid
            .iter()
            .map(|i| dead_letter::dead_letter_message(&i.delivery.message, &i.error))
            .collect();
        let published = dead_letter::publish_all(&self.dead_letters, messages).await;
        for (item, ok) in invalid.into_iter().zip(published) {
            if ok {
                item.delivery.handler.ack();
                count("invalid", 1);
                metrics::counter!(DLQ_MESSAGES, "reason" => item.reason).increment(1);
                tracing::info!(reason = item.reason, error = %item.error, message_id = %item.delivery.message.message_id, "dead-lettered invalid message");
            } else {
                item.delivery.handler.nack();
                count("failed", 1);
            }
        }
    }

    /// Writes and acks valid events; returns those the database refused for good.
    async fn store(&self, events: Vec<IncomingEvent>, deliveries: Vec<Delivery>) -> Vec<Invalid> {
        if events.is_empty() {
            return Vec::new();
        }
        match self.write(&events).await {
            Ok(new_ids) => {
                self.committed(&events, new_ids);
                deliveries.into_iter().for_each(|d| d.handler.ack());
                Vec::new()
            }
            Err(error) if error.failure() == Failure::Rejected => {
                tracing::warn!(%error, "batch refused by the database; writing its events one by one");
                self.store_one_by_one(events, deliveries).await
            }
            Err(error) => {
                self.release(deliveries, &error).await;
                Vec::new()
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
            let single = std::slice::from_ref(&event);
            match self.write(single).await {
                Ok(new_ids) => {
                    self.committed(single, new_ids);
                    delivery.handler.ack();
                }
                Err(error) if error.failure() == Failure::Rejected => rejected.push(Invalid {
                    reason: REJECTED_BY_DATABASE,
                    error: format!("{REJECTED_BY_DATABASE}: {}", error.detail()),
                    delivery,
                }),
                Err(error) => self.release(vec![delivery], &error).await,
            }
        }
        rejected
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
            write_batch(&client, events).await
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
        self.readiness.set_ingest_paused(false);
        *self.backoff.lock().expect("backoff lock") = MIN_BACKOFF;
    }

    /// Nacks (redelivery), marks the worker unready and backs off before the next write.
    async fn release(&self, deliveries: Vec<Delivery>, error: &DbError) {
        let n = deliveries.len();
        deliveries.into_iter().for_each(|d| d.handler.nack());
        count("failed", n);
        self.readiness.set_ingest_paused(true);
        let delay = {
            let mut backoff = self.backoff.lock().expect("backoff lock");
            let delay = *backoff;
            *backoff = (delay * 2).min(MAX_BACKOFF);
            delay
        };
        tracing::error!(%error, messages = n, retry_in_ms = delay.as_millis() as u64, "batch write failed; messages released for redelivery");
        tokio::time::sleep(delay).await;
    }
}

fn publish_time(delivery: &Delivery) -> DateTime<Utc> {
    delivery
        .message
        .publish_time
        .and_then(|t| DateTime::<Utc>::try_from(t).ok())
        .unwrap_or_else(Utc::now)
}
