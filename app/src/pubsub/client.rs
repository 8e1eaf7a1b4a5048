//! Builds the official Pub/Sub clients, pointed at the emulator when `PUBSUB_EMULATOR_HOST` is set.

use crate::config::PubSubSettings;
use google_cloud_auth::credentials::anonymous;
use google_cloud_pubsub::client::{Publisher, Subscriber, SubscriptionAdmin, TopicAdmin};
use std::time::Duration;

/// Points a client builder at the emulator, with anonymous credentials, when
/// `PUBSUB_EMULATOR_HOST` is set; otherwise leaves Google Cloud and its default credentials.
/// A macro because each client has its own builder type with the same two methods.
macro_rules! pointed {
    ($builder:expr, $settings:expr) => {{
        let builder = $builder;
        match &$settings.emulator_host {
            Some(host) => builder
                .with_endpoint(format!("http://{host}"))
                .with_credentials(anonymous::Builder::new().build()),
            None => builder,
        }
    }};
}

/// Most messages in one publish request.
const PUBLISH_BATCH_MESSAGES: u32 = 1000;

pub async fn topic_admin(settings: &PubSubSettings) -> anyhow::Result<TopicAdmin> {
    Ok(pointed!(TopicAdmin::builder(), settings).build().await?)
}

pub async fn subscription_admin(settings: &PubSubSettings) -> anyhow::Result<SubscriptionAdmin> {
    Ok(pointed!(SubscriptionAdmin::builder(), settings)
        .build()
        .await?)
}

/// A batching publisher for `topic_path`; `delay` bounds how long a message waits for its batch.
pub async fn publisher(
    settings: &PubSubSettings,
    topic_path: String,
    delay: Duration,
) -> anyhow::Result<Publisher> {
    let builder = Publisher::builder(topic_path)
        .set_message_count_threshold(PUBLISH_BATCH_MESSAGES)
        .set_delay_threshold(delay);
    Ok(pointed!(builder, settings).build().await?)
}

pub async fn subscriber(settings: &PubSubSettings, channels: usize) -> anyhow::Result<Subscriber> {
    let builder = Subscriber::builder().with_grpc_subchannel_count(channels.max(1));
    Ok(pointed!(builder, settings).build().await?)
}

/// True when a Google API error means "already exists" (set-up is idempotent).
pub fn already_exists(error: &google_cloud_pubsub::Error) -> bool {
    error
        .status()
        .is_some_and(|s| s.code == google_cloud_gax::error::rpc::Code::AlreadyExists)
        || error.http_status_code() == Some(409)
}
