//! `flightdeck probe`: publishes a marked synthetic event on a schedule and measures how long it
//! takes to become readable through the API: black-box freshness, next to the worker's own lag.
//! Probe events use the reserved `PROBE-` flight ids, which the feed and statistics leave out.

use crate::config::{ProbeSettings, PubSubSettings};
use crate::domain::{FlightEvent, FlightStatus, SYNTHETIC_FLIGHT_PREFIX};
use crate::pubsub::{client, message};
use crate::telemetry::metrics::{PROBE_FRESHNESS, PROBE_LAST_SUCCESS, PROBE_RUNS};
use chrono::Utc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Attribute that marks a message as synthetic traffic.
pub const SYNTHETIC_ATTRIBUTE: &str = "synthetic";

/// How often a probe asks the API whether its event is readable yet.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// Outcomes of `flightdeck_probe_runs_total`.
pub const RESULTS: [&str; 3] = ["ok", "timeout", "error"];

/// A probe event: a flight of its own in the reserved namespace, scheduled now.
pub fn probe_event() -> FlightEvent {
    let now = Utc::now();
    FlightEvent {
        event_id: Uuid::now_v7(),
        flight_id: format!("{SYNTHETIC_FLIGHT_PREFIX}{}", now.timestamp_millis()),
        airline: "ZZ".into(),
        flight_number: "1".into(),
        origin: "ZZZ".into(),
        destination: "ZZZ".into(),
        status: FlightStatus::Scheduled,
        scheduled_departure: now,
        actual_departure: None,
        delay_minutes: None,
        event_time: now,
    }
}

/// True when the API serves `event` as the flight's current state.
async fn readable(
    http: &reqwest::Client,
    api_url: &str,
    event: &FlightEvent,
) -> anyhow::Result<bool> {
    let url = format!("{api_url}/v1/flights/{}", event.flight_id);
    let response = http.get(url).send().await?;
    match response.status().as_u16() {
        404 => Ok(false),
        200 => {
            let body: serde_json::Value = response.json().await?;
            Ok(body["flight"]["last_event_id"] == event.event_id.to_string())
        }
        status => anyhow::bail!("GET /v1/flights answered {status}"),
    }
}

/// One probe: publish, then poll until readable or `timeout`.
async fn run_once(
    publisher: &google_cloud_pubsub::client::Publisher,
    http: &reqwest::Client,
    settings: &ProbeSettings,
) -> &'static str {
    let event = probe_event();
    let mut probe = message::event_message(&event);
    probe
        .attributes
        .insert(SYNTHETIC_ATTRIBUTE.to_string(), "true".to_string());
    let started = Instant::now();
    let deadline = started + settings.timeout;
    match tokio::time::timeout(settings.timeout, publisher.publish(probe)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, flight_id = %event.flight_id, "probe publish failed");
            return "error";
        }
        Err(_) => return "timeout",
    }
    while Instant::now() < deadline {
        match readable(http, &settings.api_url, &event).await {
            Ok(true) => {
                let seconds = started.elapsed().as_secs_f64();
                metrics::histogram!(PROBE_FRESHNESS).record(seconds);
                metrics::gauge!(PROBE_LAST_SUCCESS).set(Utc::now().timestamp_micros() as f64 / 1e6);
                tracing::debug!(flight_id = %event.flight_id, seconds, "probe readable");
                return "ok";
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, flight_id = %event.flight_id, "probe read failed; retrying")
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    tracing::warn!(flight_id = %event.flight_id, timeout_ms = settings.timeout.as_millis() as u64, "probe event not readable in time");
    "timeout"
}

/// Probes every `interval` until `shutdown`.
pub async fn run(
    pubsub: &PubSubSettings,
    settings: &ProbeSettings,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    for result in RESULTS {
        metrics::counter!(PROBE_RUNS, "result" => result).increment(0);
    }
    let _ = metrics::histogram!(PROBE_FRESHNESS);
    let publisher =
        client::publisher(pubsub, pubsub.topic_path(), Duration::from_millis(1)).await?;
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = &settings.api_key {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", key.0))
            .map_err(|_| anyhow::anyhow!("PROBE_API_KEY is not a valid header value"))?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    let http = reqwest::Client::builder()
        .timeout(POLL_EVERY * 20)
        .default_headers(headers)
        .build()?;
    tracing::info!(api_url = %settings.api_url, interval_ms = settings.interval.as_millis() as u64, "probe started");
    let mut ticker = tokio::time::interval(settings.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let result = tokio::select! {
            _ = shutdown.cancelled() => break,
            result = run_once(&publisher, &http, settings) => result,
        };
        metrics::counter!(PROBE_RUNS, "result" => result).increment(1);
    }
    tracing::info!("probe stopped");
    Ok(())
}
