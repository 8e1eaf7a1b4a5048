//! Benchmark ceiling: a bare subscriber that only acks, with N streaming pulls.
//! Usage: (Pub/Sub env as for `flightdeck ingest`) bench_consumer STREAMS MESSAGES

use flightdeck::config::{ProcessEnv, PubSubSettings};
use flightdeck::pubsub::client;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let streams: usize = args.next().unwrap_or_else(|| "4".into()).parse()?;
    let expected: usize = args.next().unwrap_or_else(|| "50000".into()).parse()?;
    let settings = PubSubSettings::from_source(&ProcessEnv)?;
    let subscriber = client::subscriber(&settings, streams).await?;
    let received = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    for _ in 0..streams {
        let mut stream = subscriber
            .subscribe(settings.subscription_path())
            .set_max_outstanding_messages(2000)
            .build();
        let received = received.clone();
        tokio::spawn(async move {
            while let Some(Ok((_, handler))) = stream.next().await {
                handler.ack();
                received.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while received.load(Ordering::Relaxed) < expected {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(300), "timed out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"streams": streams, "messages": expected, "seconds": seconds, "messages_per_s": (expected as f64 / seconds).round()})
    );
    Ok(())
}
