//! One streaming pull: forwards deliveries to the batcher and reconnects after stream errors.

use crate::backoff::Backoff;
use crate::config::IngestSettings;
use crate::telemetry::metrics::{INGEST_OUTSTANDING_BYTES, INGEST_OUTSTANDING_MESSAGES};
use google_cloud_pubsub::client::Subscriber;
use google_cloud_pubsub::model::Message;
use google_cloud_pubsub::subscriber::handler::Handler;
use google_cloud_pubsub::subscriber::{MessageStream, ShutdownToken};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

/// First and longest wait before reopening a failed stream.
const RECONNECT_MIN: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(10);

/// A message's share of its stream's byte budget, and its count in
/// `flightdeck_ingest_outstanding_*`, from receipt until it is acked or nacked (its `Delivery`
/// is consumed and this guard dropped).
pub struct Held {
    bytes: usize,
    _budget: OwnedSemaphorePermit,
}

impl Held {
    fn new(bytes: usize, budget: OwnedSemaphorePermit) -> Self {
        metrics::gauge!(INGEST_OUTSTANDING_MESSAGES).increment(1.0);
        metrics::gauge!(INGEST_OUTSTANDING_BYTES).increment(bytes as f64);
        Self {
            bytes,
            _budget: budget,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        metrics::gauge!(INGEST_OUTSTANDING_MESSAGES).decrement(1.0);
        metrics::gauge!(INGEST_OUTSTANDING_BYTES).decrement(self.bytes as f64);
    }
}

/// A received message and the handle that acks or nacks it.
pub struct Delivery {
    pub message: Message,
    pub handler: Handler,
    /// Kept for its drop: the message counts as held until the delivery is consumed.
    _held: Held,
}

impl Delivery {
    pub fn ack(self) {
        self.handler.ack();
    }

    /// Releases the message for redelivery (spends one delivery attempt).
    pub fn nack(self) {
        self.handler.nack();
    }
}

/// The stream with flow control set from the settings: the server stops sending once a stream
/// holds `max_outstanding_messages` or `max_outstanding_bytes`.
fn open(subscriber: &Subscriber, subscription: &str, settings: &IngestSettings) -> MessageStream {
    subscriber
        .subscribe(subscription)
        .set_max_outstanding_messages(settings.max_outstanding_messages as i64)
        .set_max_outstanding_bytes(settings.max_outstanding_bytes as i64)
        .set_max_lease_extension(settings.ack_deadline)
        .set_max_lease(settings.max_lease)
        .build()
}

/// Pulls until `stop` fires; returns the shutdown token of the stream it ended with, so the
/// caller can flush its acks after the last batch.
///
/// Memory is bounded here, whatever the server does with flow control: a received message
/// takes its size from the stream's byte budget (`max_outstanding_bytes`) before the next one
/// is read, so a stream holds at most its budget plus one message.
pub async fn pull(
    index: usize,
    subscriber: Subscriber,
    subscription: String,
    settings: IngestSettings,
    deliveries: mpsc::Sender<Delivery>,
    stop: CancellationToken,
) -> ShutdownToken {
    let mut stream = open(&subscriber, &subscription, &settings);
    let mut backoff = Backoff::new(RECONNECT_MIN, RECONNECT_MAX);
    let budget_bytes = settings.max_outstanding_bytes.min(u32::MAX as usize);
    let budget = Arc::new(Semaphore::new(budget_bytes));
    loop {
        let next = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            next = stream.next() => next,
        };
        match next {
            Some(Ok((message, handler))) => {
                backoff.reset();
                // A message larger than the whole budget takes all of it.
                let share = message.data.len().clamp(1, budget_bytes) as u32;
                let permit = tokio::select! {
                    _ = stop.cancelled() => {
                        handler.nack();
                        break;
                    }
                    permit = budget.clone().acquire_many_owned(share) => match permit {
                        Ok(permit) => permit,
                        Err(_) => break, // never closed
                    },
                };
                let held = Held::new(message.data.len(), permit);
                let delivery = Delivery {
                    message,
                    handler,
                    _held: held,
                };
                if deliveries.send(delivery).await.is_err() {
                    break;
                }
            }
            Some(Err(error)) => {
                let delay = backoff.next_delay();
                tracing::warn!(stream = index, %error, retry_in_ms = delay.as_millis() as u64, "streaming pull failed; reconnecting");
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(delay) => {}
                }
                stream = open(&subscriber, &subscription, &settings);
            }
            None => {
                tracing::info!(stream = index, "stream ended; reopening");
                stream = open(&subscriber, &subscription, &settings);
            }
        }
    }
    stream.shutdown_token()
}
