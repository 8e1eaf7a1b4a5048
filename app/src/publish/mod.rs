//! The `publish` command: synthetic flight events at a steady rate, optionally mixed with poison.

pub mod synthetic;

use crate::config::{PubSubSettings, PublishSettings};
use crate::pubsub::client::publisher;
use crate::pubsub::message::{event_message, raw_message};
use chrono::Utc;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rand::Rng;
use std::time::{Duration, Instant};
use synthetic::Generator;
use tokio_util::sync::CancellationToken;

/// Outcome of a publish run.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct PublishReport {
    /// Events of the back-filled history, published before the live stream (and counted in
    /// `published` or `failed` like the rest).
    pub history: u64,
    pub published: u64,
    pub invalid: u64,
    pub failed: u64,
    pub seconds: f64,
}

/// Most messages waiting for a server answer at once; bounds memory at high rates.
const MAX_IN_FLIGHT: usize = 20_000;
/// How long a message may wait for others to share its publish request.
const BATCH_DELAY: Duration = Duration::from_millis(10);
/// Pause when the schedule is ahead, so a slow rate does not spin.
const IDLE_TICK: Duration = Duration::from_millis(5);
/// Interval of the progress log line.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

pub async fn run(
    settings: &PubSubSettings,
    options: &PublishSettings,
    shutdown: CancellationToken,
) -> anyhow::Result<PublishReport> {
    let publisher = publisher(settings, settings.topic_path(), BATCH_DELAY).await?;
    let seed = options.seed.unwrap_or_else(rand::random);
    let mut generator = Generator::new(seed, options.active_flights);
    let mut chance = rand::rng();
    let mut in_flight = FuturesUnordered::new();
    let mut report = PublishReport::default();
    for event in generator.history(options.backfill_days, Utc::now()) {
        if shutdown.is_cancelled() {
            break;
        }
        if in_flight.len() >= MAX_IN_FLIGHT
            && let Some(result) = in_flight.next().await
        {
            record(&mut report, result);
        }
        in_flight.push(publisher.publish(event_message(&event)));
        report.history += 1;
    }
    if report.history > 0 {
        tracing::info!(
            events = report.history,
            days = options.backfill_days,
            "history published"
        );
    }
    let started = Instant::now();
    let mut sent: u64 = 0;
    let mut last_progress = Instant::now();
    loop {
        if shutdown.is_cancelled() || options.count.is_some_and(|c| sent >= c) {
            break;
        }
        let due = if options.rate > 0.0 {
            (started.elapsed().as_secs_f64() * options.rate) as u64
        } else {
            sent + 1000
        };
        let due = options.count.map_or(due, |c| due.min(c));
        while sent < due && in_flight.len() < MAX_IN_FLIGHT {
            let now = Utc::now();
            let message = if chance.random_bool(options.invalid_ratio) {
                report.invalid += 1;
                let (data, attributes) = generator.poison(now);
                raw_message(data, attributes)
            } else {
                event_message(&generator.next_event(now))
            };
            in_flight.push(publisher.publish(message));
            sent += 1;
        }
        // Collect finished publishes without blocking the schedule.
        while let Some(Some(result)) = futures::FutureExt::now_or_never(in_flight.next()) {
            record(&mut report, result);
        }
        if in_flight.len() >= MAX_IN_FLIGHT {
            if let Some(result) = in_flight.next().await {
                record(&mut report, result);
            }
        } else if sent >= due {
            tokio::time::sleep(IDLE_TICK).await;
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            tracing::info!(
                sent,
                published = report.published,
                failed = report.failed,
                "publishing"
            );
            last_progress = Instant::now();
        }
    }
    publisher.flush().await;
    while let Some(result) = in_flight.next().await {
        record(&mut report, result);
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn record<E: std::fmt::Display>(report: &mut PublishReport, result: Result<String, E>) {
    match result {
        Ok(_) => report.published += 1,
        Err(e) => {
            report.failed += 1;
            tracing::warn!(error = %e, "publish failed");
        }
    }
}
