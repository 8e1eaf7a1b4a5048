//! Builds the official Pub/Sub clients, pointed at the emulator when `PUBSUB_EMULATOR_HOST` is set.

use crate::config::PubSubSettings;
use google_cloud_auth::credentials::{Credentials, anonymous};
use google_cloud_pubsub::client::{Publisher, Subscriber, SubscriptionAdmin, TopicAdmin};
use std::time::Duration;

/// The emulator endpoint and anonymous credentials, or `None` for Google Cloud with ADC.
fn emulator(settings: &PubSubSettings) -> Option<(String, Credentials)> {
    settings
        .emulator_host
        .as_ref()
        .map(|host| (format!("http://{host}"), anonymous::Builder::new().build()))
}

pub async fn topic_admin(settings: &PubSubSettings) -> anyhow::Result<TopicAdmin> {
    let mut builder = TopicAdmin::builder();
    if let Some((endpoint, credentials)) = emulator(settings) {
        builder = builder
            .with_endpoint(endpoint)
            .with_credentials(credentials);
    }
    Ok(builder.build().await?)
}

pub async fn subscription_admin(settings: &PubSubSettings) -> anyhow::Result<SubscriptionAdmin> {
    let mut builder = SubscriptionAdmin::builder();
    if let Some((endpoint, credentials)) = emulator(settings) {
        builder = builder
            .with_endpoint(endpoint)
            .with_credentials(credentials);
    }
    Ok(builder.build().await?)
}

/// A batching publisher for `topic_path`; `delay` bounds how long a message waits for its batch.
pub async fn publisher(
    settings: &PubSubSettings,
    topic_path: String,
    delay: Duration,
) -> anyhow::Result<Publisher> {
    let mut builder = Publisher::builder(topic_path)
        .set_message_count_threshold(1000)
        .set_delay_threshold(delay);
    if let Some((endpoint, credentials)) = emulator(settings) {
        builder = builder
            .with_endpoint(endpoint)
            .with_credentials(credentials);
    }
    Ok(builder.build().await?)
}

pub async fn subscriber(settings: &PubSubSettings, channels: usize) -> anyhow::Result<Subscriber> {
    let mut builder = Subscriber::builder().with_grpc_subchannel_count(channels.max(1));
    if let Some((endpoint, credentials)) = emulator(settings) {
        builder = builder
            .with_endpoint(endpoint)
            .with_credentials(credentials);
    }
    Ok(builder.build().await?)
}

/// True when a Google API error means "already exists" (set-up is idempotent).
pub fn already_exists(error: &google_cloud_pubsub::Error) -> bool {
    error
        .status()
        .is_some_and(|s| s.code == google_cloud_gax::error::rpc::Code::AlreadyExists)
        || error.http_status_code() == Some(409)
}

/// True when a Google API error means "not found".
pub fn not_found(error: &google_cloud_pubsub::Error) -> bool {
    error
        .status()
        .is_some_and(|s| s.code == google_cloud_gax::error::rpc::Code::NotFound)
        || error.http_status_code() == Some(404)
}
