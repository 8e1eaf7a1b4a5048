//! One streaming pull: forwards deliveries to the batcher and reconnects after stream errors.

use crate::config::IngestSettings;
use google_cloud_pubsub::client::Subscriber;
use google_cloud_pubsub::model::Message;
use google_cloud_pubsub::subscriber::handler::Handler;
use google_cloud_pubsub::subscriber::{MessageStream, ShutdownToken};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A received message and the handle that acks or nacks it.
pub struct Delivery {
    pub message: Message,
    pub handler: Handler,
}

fn open(subscriber: &Subscriber, subscription: &str, settings: &IngestSettings) -> MessageStream {
    subscriber
        .subscribe(subscription)
        .set_max_outstanding_messages((settings.batch_max * 2).max(1000) as i64)
        .set_max_lease_extension(settings.ack_deadline)
        .build()
}

/// Pulls until `stop` fires; returns the shutdown token of the stream it ended with, so the
/// caller can flush its acks after the last batch.
pub async fn pull(
    index: usize,
    subscriber: Subscriber,
    subscription: String,
    settings: IngestSettings,
    deliveries: mpsc::Sender<Delivery>,
    stop: CancellationToken,
) -> ShutdownToken {
    let mut stream = open(&subscriber, &subscription, &settings);
    let mut backoff = Duration::from_millis(200);
    loop {
        let next = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            next = stream.next() => next,
        };
        match next {
            Some(Ok((message, handler))) => {
                backoff = Duration::from_millis(200);
                if deliveries
                    .send(Delivery { message, handler })
                    .await
                    .is_err()
                {
                    break;
                }
            }
            Some(Err(error)) => {
                tracing::warn!(stream = index, %error, retry_in_ms = backoff.as_millis() as u64, "streaming pull failed; reconnecting");
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
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
