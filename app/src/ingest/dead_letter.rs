//! Dead-lettering, off the write path: invalid messages are published to the dead-letter topic
//! with their reason and original identity, each publish bounded in time; a message whose
//! publish fails is released for redelivery after a delay, never in a hot loop.

use super::stream::Delivery;
use crate::domain::DeadLetterReason;
use crate::telemetry::metrics::{DLQ_MESSAGES, DLQ_PUBLISH_FAILURES, INGEST_MESSAGES};
use google_cloud_pubsub::client::Publisher;
use google_cloud_pubsub::model::Message;
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Pub/Sub's limits on one message's attributes.
const MAX_ATTRIBUTES: usize = 100;
const MAX_ATTRIBUTE_VALUE_BYTES: usize = 1024;

/// Attributes the dead-letter copy adds to the original ones.
const ADDED: [&str; 3] = ["error", "original_message_id", "original_publish_time"];

/// A message that goes to the dead-letter topic, and why.
pub struct Invalid {
    pub delivery: Delivery,
    /// Low-cardinality label (`flightdeck_dlq_messages_total{reason}`).
    pub reason: DeadLetterReason,
    /// Full explanation, carried in the `error` attribute.
    pub error: String,
}

/// `text` cut to at most `max` bytes on a character boundary.
fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The DLQ copy of `original`: same data, its attributes (as many as fit, by key order), plus
/// `error`, `original_message_id` and `original_publish_time`.
pub fn dead_letter_message(original: &Message, error: &str) -> Message {
    let mut kept: Vec<(&String, &String)> = original
        .attributes
        .iter()
        .filter(|(k, _)| !ADDED.contains(&k.as_str()))
        .collect();
    kept.sort();
    kept.truncate(MAX_ATTRIBUTES - ADDED.len());
    let mut attributes: HashMap<String, String> = kept
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    attributes.insert(
        "error".into(),
        truncate_utf8(error, MAX_ATTRIBUTE_VALUE_BYTES).to_string(),
    );
    attributes.insert("original_message_id".into(), original.message_id.clone());
    let publish_time = original
        .publish_time
        .and_then(|t| chrono::DateTime::<chrono::Utc>::try_from(t).ok())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    attributes.insert("original_publish_time".into(), publish_time);
    Message::new()
        .set_data(original.data.clone())
        .set_attributes(attributes)
}

/// Publishes dead letters in tasks of their own, so a slow or missing dead-letter topic never
/// holds a batch-write slot.
pub struct DeadLetters {
    publisher: Publisher,
    tasks: TaskTracker,
    publish_timeout: Duration,
    retry_delay: Duration,
    shutdown: CancellationToken,
}

impl DeadLetters {
    pub fn new(
        publisher: Publisher,
        publish_timeout: Duration,
        retry_delay: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            publisher,
            tasks: TaskTracker::new(),
            publish_timeout,
            retry_delay,
            shutdown,
        }
    }

    /// Starts publishing `invalid`; each message is acked once its copy is published. The
    /// tasks run in the caller's span (the batch), so their logs carry its trace.
    pub fn submit(&self, invalid: Vec<Invalid>) {
        let span = tracing::Span::current();
        for item in invalid {
            let publish = self
                .publisher
                .publish(dead_letter_message(&item.delivery.message, &item.error));
            let (timeout, delay, shutdown) = (
                self.publish_timeout,
                self.retry_delay,
                self.shutdown.clone(),
            );
            self.tasks.spawn(async move {
                match tokio::time::timeout(timeout, publish).await {
                    Ok(Ok(_)) => {
                        metrics::counter!(INGEST_MESSAGES, "outcome" => "invalid").increment(1);
                        metrics::counter!(DLQ_MESSAGES, "reason" => item.reason.as_str()).increment(1);
                        tracing::info!(reason = item.reason.as_str(), error = %item.error, message_id = %item.delivery.message.message_id, "dead-lettered invalid message");
                        item.delivery.ack();
                    }
                    failed => {
                        let error = match failed {
                            Ok(Err(e)) => e.to_string(),
                            _ => format!("no answer within {timeout:?}"),
                        };
                        metrics::counter!(DLQ_PUBLISH_FAILURES).increment(1);
                        metrics::counter!(INGEST_MESSAGES, "outcome" => "failed").increment(1);
                        tracing::warn!(%error, reason = item.reason.as_str(), retry_in_ms = delay.as_millis() as u64, "publishing to the dead-letter topic failed; the message is released for redelivery after a delay");
                        // Held (lease extended) meanwhile, so the poison does not come straight back.
                        tokio::select! {
                            _ = tokio::time::sleep(delay) => {}
                            _ = shutdown.cancelled() => {}
                        }
                        item.delivery.nack();
                    }
                }
            }.instrument(span.clone()));
        }
    }

    /// Waits for every publish and delayed release in progress.
    pub async fn close(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_cut_on_a_character_boundary_within_the_byte_limit() {
        let text = "é".repeat(600);
        let cut = truncate_utf8(&text, MAX_ATTRIBUTE_VALUE_BYTES);
        assert_eq!(cut.len(), 1024);
        let odd = format!("a{text}");
        let cut = truncate_utf8(&odd, MAX_ATTRIBUTE_VALUE_BYTES);
        assert_eq!(cut.len(), 1023);
        assert!(cut.chars().all(|c| c == 'a' || c == 'é'));
        assert_eq!(truncate_utf8("short", 1024), "short");
    }

    #[test]
    fn the_copy_keeps_data_and_as_many_original_attributes_as_pub_sub_allows() {
        let attributes: HashMap<String, String> = (0..150)
            .map(|i| (format!("k{i:03}"), format!("v{i}")))
            .chain([("error".to_string(), "forged".to_string())])
            .collect();
        let original = Message::new()
            .set_data(bytes::Bytes::from_static(b"payload"))
            .set_attributes(attributes)
            .set_message_id("m-1");
        let copy = dead_letter_message(&original, &"x".repeat(5000));
        assert_eq!(copy.data, bytes::Bytes::from_static(b"payload"));
        assert_eq!(copy.attributes.len(), MAX_ATTRIBUTES);
        assert_eq!(copy.attributes["error"].len(), MAX_ATTRIBUTE_VALUE_BYTES);
        assert_eq!(copy.attributes["original_message_id"], "m-1");
        assert!(copy.attributes.contains_key("k000") && !copy.attributes.contains_key("k149"));
    }
}
