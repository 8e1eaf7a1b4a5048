//! Creates the topic, the dead-letter topic and the ingest subscription when they do not exist.

use super::client::{already_exists, subscription_admin, topic_admin};
use crate::config::PubSubSettings;
use google_cloud_pubsub::model::{DeadLetterPolicy, RetryPolicy};
use std::time::Duration;

/// Delivery attempts before Pub/Sub itself moves a message to the dead-letter topic.
pub const MAX_DELIVERY_ATTEMPTS: i32 = 10;

/// Idempotent set-up for the emulator and local runs (Terraform owns these in Google Cloud).
pub async fn ensure_resources(
    settings: &PubSubSettings,
    ack_deadline: Duration,
) -> anyhow::Result<()> {
    let topics = topic_admin(settings).await?;
    for topic in [settings.topic_path(), settings.dlq_topic_path()] {
        match topics.create_topic().set_name(&topic).send().await {
            Ok(_) => tracing::info!(%topic, "created topic"),
            Err(e) if already_exists(&e) => tracing::info!(%topic, "topic exists"),
            Err(e) => return Err(anyhow::anyhow!("creating topic {topic}: {e}")),
        }
    }
    let subscriptions = subscription_admin(settings).await?;
    let subscription = settings.subscription_path();
    let mut request = subscriptions
        .create_subscription()
        .set_name(&subscription)
        .set_topic(settings.topic_path())
        .set_ack_deadline_seconds(ack_deadline.as_secs() as i32)
        .set_dead_letter_policy(
            DeadLetterPolicy::new()
                .set_dead_letter_topic(settings.dlq_topic_path())
                .set_max_delivery_attempts(MAX_DELIVERY_ATTEMPTS),
        );
    // The emulator never redelivers messages of a dead stream when a retry policy is set
    // (observed: a SIGKILLed subscriber's leased messages vanish), so the backoff policy is
    // only applied against Google Cloud, where Terraform sets the same values.
    if settings.emulator_host.is_none() {
        request = request.set_retry_policy(
            RetryPolicy::new()
                .set_minimum_backoff(google_cloud_wkt::Duration::clamp(1, 0))
                .set_maximum_backoff(google_cloud_wkt::Duration::clamp(60, 0)),
        );
    }
    let result = request.send().await;
    match result {
        Ok(_) => tracing::info!(%subscription, "created subscription"),
        Err(e) if already_exists(&e) => tracing::info!(%subscription, "subscription exists"),
        Err(e) => return Err(anyhow::anyhow!("creating subscription {subscription}: {e}")),
    }
    Ok(())
}

/// Creates a plain subscription (no dead-lettering), used to inspect a topic such as the DLQ.
pub async fn ensure_plain_subscription(
    settings: &PubSubSettings,
    topic_path: &str,
    subscription_path: &str,
) -> anyhow::Result<()> {
    let result = subscription_admin(settings)
        .await?
        .create_subscription()
        .set_name(subscription_path)
        .set_topic(topic_path)
        .set_ack_deadline_seconds(10)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if already_exists(&e) => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "creating subscription {subscription_path}: {e}"
        )),
    }
}
