//! The `ingest` worker: several streaming pulls feed one batcher; batches are written, then acked.

mod batcher;
mod dead_letter;
mod outage;
mod processor;
mod stream;

use crate::config::{IngestSettings, PubSubSettings};
use crate::db::Pool;
use crate::health::Readiness;
use crate::pubsub::client;
use dead_letter::DeadLetters;
use outage::Outage;
use processor::Processor;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Most batches written at once; a second one overlaps the first one's commit round trip.
const CONCURRENT_WRITES: usize = 2;

/// Time allowed, after the last batch is acked, for acks to reach Pub/Sub before exit.
const ACK_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a dead letter may wait for others to share its publish request.
const DLQ_BATCH_DELAY: Duration = Duration::from_millis(5);

/// The worker's gauges and counters exist from start-up, so dashboards and `rate()` see zeros.
fn register_zeroes() {
    use crate::telemetry::metrics::{
        DLQ_MESSAGES, DLQ_PUBLISH_FAILURES, INGEST_OUTSTANDING_BYTES, INGEST_OUTSTANDING_MESSAGES,
    };
    for reason in crate::domain::DeadLetterReason::ALL {
        metrics::counter!(DLQ_MESSAGES, "reason" => reason.as_str()).increment(0);
    }
    metrics::gauge!(INGEST_OUTSTANDING_MESSAGES).set(0.0);
    metrics::gauge!(INGEST_OUTSTANDING_BYTES).set(0.0);
    metrics::counter!(DLQ_PUBLISH_FAILURES).increment(0);
}

/// Runs until `shutdown` fires, then stops pulling, commits and acks what it holds, and returns.
pub async fn run(
    pubsub: &PubSubSettings,
    settings: &IngestSettings,
    pool: Pool,
    readiness: Readiness,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    register_zeroes();
    let subscriber = client::subscriber(pubsub, settings.streams).await?;
    let dlq_publisher = client::publisher(pubsub, pubsub.dlq_topic_path(), DLQ_BATCH_DELAY).await?;
    let processor = Arc::new(Processor {
        pool,
        dead_letters: DeadLetters::new(
            dlq_publisher,
            settings.dlq_publish_timeout,
            settings.dlq_retry_delay,
            shutdown.clone(),
        ),
        outage: Outage::new(readiness),
        write_timeout: settings.write_timeout,
        max_message_bytes: settings.max_message_bytes,
        shutdown: shutdown.clone(),
    });
    let (deliveries, inbox) = mpsc::channel(settings.batch_max * 2);
    let mut pullers = Vec::with_capacity(settings.streams);
    for index in 0..settings.streams {
        pullers.push(tokio::spawn(stream::pull(
            index,
            subscriber.clone(),
            pubsub.subscription_path(),
            settings.clone(),
            deliveries.clone(),
            shutdown.clone(),
        )));
    }
    drop(deliveries);
    tracing::info!(
        subscription = %pubsub.subscription_path(),
        streams = settings.streams,
        batch_max = settings.batch_max,
        max_outstanding_messages_per_stream = settings.max_outstanding_messages,
        max_outstanding_bytes_per_stream = settings.max_outstanding_bytes,
        max_message_bytes = settings.max_message_bytes,
        batch_wait_ms = settings.batch_wait.as_millis() as u64,
        "ingest started"
    );
    // Returns once every puller has stopped and the last batch is committed and acked.
    batcher::run(
        inbox,
        settings.batch_max,
        settings.batch_wait,
        CONCURRENT_WRITES,
        processor.clone(),
    )
    .await;
    processor.dead_letters.close().await;
    let mut tokens = Vec::new();
    for puller in pullers {
        tokens.push(puller.await?);
    }
    let flush = futures::future::join_all(tokens.iter().map(|t| t.shutdown()));
    if tokio::time::timeout(ACK_FLUSH_TIMEOUT, flush)
        .await
        .is_err()
    {
        tracing::warn!(
            "acks not confirmed within {ACK_FLUSH_TIMEOUT:?}; unconfirmed messages will be redelivered and deduplicated"
        );
    }
    tracing::info!("ingest stopped");
    Ok(())
}
