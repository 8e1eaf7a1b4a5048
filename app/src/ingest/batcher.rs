//! Collects deliveries into batches of at most `max` messages or `wait`, whichever comes first.

use super::processor::Processor;
use super::stream::Delivery;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Runs until the inbox closes (every puller stopped), then writes the final batch and waits
/// for every write in progress.
pub async fn run(
    mut inbox: mpsc::Receiver<Delivery>,
    max: usize,
    wait: Duration,
    concurrent_writes: usize,
    processor: Arc<Processor>,
) {
    let permits = Arc::new(Semaphore::new(concurrent_writes));
    let mut writes = JoinSet::new();
    loop {
        let Some(first) = inbox.recv().await else {
            break;
        };
        let deadline = Instant::now() + wait;
        let mut batch = Vec::with_capacity(max);
        batch.push(first);
        let mut closed = false;
        while batch.len() < max {
            match tokio::time::timeout_at(deadline, inbox.recv()).await {
                Ok(Some(delivery)) => batch.push(delivery),
                Ok(None) => {
                    closed = true;
                    break;
                }
                Err(_) => break,
            }
        }
        // Waiting for a permit is the backpressure: pullers block, flow control stops the pull.
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break; // never closed: the semaphore lives as long as this loop
        };
        let processor = processor.clone();
        writes.spawn(async move {
            processor.process(batch).await;
            drop(permit);
        });
        while let Some(Some(done)) = futures::FutureExt::now_or_never(writes.join_next()) {
            log_panic(done);
        }
        if closed {
            break;
        }
    }
    while let Some(done) = writes.join_next().await {
        log_panic(done);
    }
}

fn log_panic(result: Result<(), tokio::task::JoinError>) {
    if let Err(e) = result {
        tracing::error!(error = %e, "batch task failed; its messages will be redelivered");
    }
}
