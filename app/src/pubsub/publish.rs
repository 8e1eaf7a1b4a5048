//! The `publish` command: synthetic flight events at a steady rate, optionally mixed with poison.

use super::client::publisher;
use crate::config::PubSubSettings;
use crate::domain::{FlightEvent, SCHEMA_VERSION, synthetic::Generator};
use chrono::Utc;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use google_cloud_pubsub::model::Message;
use rand::Rng;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What to publish and how fast.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Messages per second; 0 publishes as fast as the topic accepts.
    pub rate: f64,
    /// Stop after this many messages; `None` runs until interrupted.
    pub count: Option<u64>,
    /// Share of messages (0..=1) that are deliberately invalid.
    pub invalid_ratio: f64,
    pub seed: u64,
    pub active_flights: usize,
}

/// Outcome of a publish run.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct PublishReport {
    pub published: u64,
    pub invalid: u64,
    pub failed: u64,
    pub seconds: f64,
}

/// The Pub/Sub message carrying `event` (schema v1).
pub fn event_message(event: &FlightEvent) -> Message {
    let data = serde_json::to_vec(event).expect("events always serialize");
    raw_message(
        data,
        HashMap::from([("schema_version".to_string(), SCHEMA_VERSION.to_string())]),
    )
}

/// A message with the current trace context injected as a W3C `traceparent` attribute.
pub fn raw_message(data: Vec<u8>, mut attributes: HashMap<String, String>) -> Message {
    crate::telemetry::inject_trace_context(&mut attributes);
    Message::new().set_data(data).set_attributes(attributes)
}

/// Most messages waiting for a server answer at once; bounds memory at high rates.
const MAX_IN_FLIGHT: usize = 20_000;

pub async fn run(
    settings: &PubSubSettings,
    options: &PublishOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<PublishReport> {
    let publisher = publisher(settings, settings.topic_path(), Duration::from_millis(10)).await?;
    let mut generator = Generator::new(options.seed, options.active_flights);
    let mut chance = rand::rng();
    let mut in_flight = FuturesUnordered::new();
    let mut report = PublishReport::default();
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
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if last_progress.elapsed() >= Duration::from_secs(10) {
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
