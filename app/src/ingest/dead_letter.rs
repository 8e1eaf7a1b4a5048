//! Publishes invalid messages to the dead-letter topic with the reason and original identity.

use google_cloud_pubsub::client::Publisher;
use google_cloud_pubsub::model::Message;

/// Reason used when the database refuses a single event that passed decoding.
pub const REJECTED_BY_DATABASE: &str = "rejected_by_database";

/// The DLQ copy of `original`: same data and attributes, plus `error`,
/// `original_message_id` and `original_publish_time`.
pub fn dead_letter_message(original: &Message, error: &str) -> Message {
    let mut attributes = original.attributes.clone();
    attributes.insert("error".into(), error.chars().take(1024).collect());
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

/// Publishes every message and reports, in order, whether each publish succeeded.
pub async fn publish_all(publisher: &Publisher, messages: Vec<Message>) -> Vec<bool> {
    let pending: Vec<_> = messages.into_iter().map(|m| publisher.publish(m)).collect();
    futures::future::join_all(pending)
        .await
        .into_iter()
        .map(|r| match r {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "publishing to the dead-letter topic failed; message released for redelivery");
                false
            }
        })
        .collect()
}
