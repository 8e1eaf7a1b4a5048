//! The Prometheus recorder: the metric contract (names, help, buckets) and its /metrics handle.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

pub const HTTP_DURATION: &str = "http_server_request_duration_seconds";
pub const HTTP_ACTIVE: &str = "http_server_active_requests";
pub const INGEST_MESSAGES: &str = "flightdeck_ingest_messages_total";
pub const INGEST_BATCH_SIZE: &str = "flightdeck_ingest_batch_size";
pub const INGEST_BATCH_WRITE: &str = "flightdeck_ingest_batch_write_seconds";
pub const INGEST_LAG: &str = "flightdeck_ingest_lag_seconds";
pub const INGEST_LAST_COMMIT: &str = "flightdeck_ingest_last_commit_timestamp_seconds";
pub const DLQ_MESSAGES: &str = "flightdeck_dlq_messages_total";
pub const DB_POOL_CONNECTIONS: &str = "flightdeck_db_pool_connections";
pub const DB_POOL_MAX: &str = "flightdeck_db_pool_max";
pub const BUILD_INFO: &str = "flightdeck_build_info";
pub const CACHE_REQUESTS: &str = "flightdeck_api_cache_requests_total";
pub const CACHE_BYTES: &str = "flightdeck_api_cache_bytes";
pub const CACHE_EVICTIONS: &str = "flightdeck_api_cache_evictions_total";
pub const HTTP_SHED: &str = "flightdeck_http_shed_total";
pub const HTTP_PANICS: &str = "flightdeck_http_panics_total";
pub const HTTP_CONNECTIONS: &str = "flightdeck_http_open_connections";
pub const READY: &str = "flightdeck_ready";
pub const UNREADY: &str = "flightdeck_unready";
pub const DB_POOL_WAIT: &str = "flightdeck_db_pool_wait_seconds";
pub const DB_POOL_WAITERS: &str = "flightdeck_db_pool_waiters";
pub const INGEST_PAUSED: &str = "flightdeck_ingest_paused";
pub const INGEST_OUTSTANDING_MESSAGES: &str = "flightdeck_ingest_outstanding_messages";
pub const INGEST_OUTSTANDING_BYTES: &str = "flightdeck_ingest_outstanding_bytes";
pub const DLQ_PUBLISH_FAILURES: &str = "flightdeck_dlq_publish_failures_total";
pub const PROBE_FRESHNESS: &str = "flightdeck_probe_freshness_seconds";
pub const PROBE_RUNS: &str = "flightdeck_probe_runs_total";
pub const PROBE_LAST_SUCCESS: &str = "flightdeck_probe_last_success_timestamp_seconds";
pub const CONSUMER_REQUESTS: &str = "flightdeck_api_consumer_requests_total";
pub const CONSUMER_DURATION: &str = "flightdeck_api_consumer_request_duration_seconds";
pub const API_KEYS_ACTIVE: &str = "flightdeck_api_keys_active";
pub const API_KEYS_REFRESH_FAILURES: &str = "flightdeck_api_keys_refresh_failures_total";

/// Outcomes of `flightdeck_ingest_messages_total`.
pub const OUTCOMES: [&str; 4] = ["stored", "duplicate", "invalid", "failed"];

/// How often histogram buffers are drained into their summaries between scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Renders the Prometheus exposition; cheap to clone.
pub type MetricsHandle = PrometheusHandle;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the global recorder once and returns its handle; `system` becomes a label on
/// every series when the scraper does not add one.
pub fn install_metrics(system: Option<&str>) -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let mut builder = PrometheusBuilder::new();
    if let Some(system) = system {
        builder = builder.add_global_label("system", system);
    }
    let handle = builder
        .set_buckets_for_metric(
            Matcher::Full(HTTP_DURATION.into()),
            &[
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(CONSUMER_DURATION.into()),
            &[
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(INGEST_LAG.into()),
            &[
                0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(PROBE_FRESHNESS.into()),
            &[0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0],
        )?
        .set_buckets_for_metric(
            Matcher::Full(INGEST_BATCH_SIZE.into()),
            &[
                1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(DB_POOL_WAIT.into()),
            &[
                0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(INGEST_BATCH_WRITE.into()),
            &[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ],
        )?
        .install_recorder()?;
    let handle = HANDLE.get_or_init(|| handle).clone();
    describe();
    register_zeroes();
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION"), "git_sha" => option_env!("GIT_SHA").unwrap_or("unknown")).set(1.0);
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        })?;
    Ok(handle)
}

fn describe() {
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request duration by method, matched route and status code."
    );
    describe_gauge!(HTTP_ACTIVE, "HTTP requests being served right now.");
    describe_counter!(
        CONSUMER_REQUESTS,
        "API requests by consumer (the API key's name; _other past API_CONSUMER_LABEL_LIMIT; _anonymous without a valid key) and status code."
    );
    describe_histogram!(
        CONSUMER_DURATION,
        Unit::Seconds,
        "API request duration by consumer."
    );
    describe_gauge!(API_KEYS_ACTIVE, "Active API keys loaded in this instance.");
    describe_counter!(
        API_KEYS_REFRESH_FAILURES,
        "Failed reloads of the API keys (the keys already loaded stay in force)."
    );
    describe_counter!(
        INGEST_MESSAGES,
        "Pub/Sub messages processed by outcome: stored, duplicate, invalid (sent to the DLQ), failed (released for redelivery)."
    );
    describe_histogram!(INGEST_BATCH_SIZE, "Messages per ingest batch.");
    describe_histogram!(
        INGEST_BATCH_WRITE,
        Unit::Seconds,
        "Time to write one batch to PostgreSQL (one statement, committed)."
    );
    describe_histogram!(
        INGEST_LAG,
        Unit::Seconds,
        "Commit time minus Pub/Sub publish time, per stored event."
    );
    describe_gauge!(
        INGEST_LAST_COMMIT,
        Unit::Seconds,
        "Unix time of the last successful batch commit."
    );
    describe_counter!(
        DLQ_MESSAGES,
        "Invalid messages published to the dead-letter topic, by reason."
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Database pool connections by state (idle, in_use)."
    );
    describe_gauge!(DB_POOL_MAX, "Maximum size of the database pool.");
    describe_gauge!(
        BUILD_INFO,
        "Always 1; labels carry the version and git commit of the running build."
    );
    describe_counter!(
        CACHE_REQUESTS,
        "API micro-cache lookups by cache (events, stats) and result (hit, miss, coalesced)."
    );
    describe_gauge!(
        CACHE_BYTES,
        Unit::Bytes,
        "Bytes the API micro-cache holds (bodies plus per-entry overhead), bounded by API_CACHE_MAX_BYTES."
    );
    describe_counter!(
        CACHE_EVICTIONS,
        "API micro-cache entries removed, by reason (expired, budget)."
    );
    describe_counter!(
        HTTP_SHED,
        "Requests refused with a 503 because HTTP_MAX_IN_FLIGHT requests were already running."
    );
    describe_counter!(
        HTTP_PANICS,
        "Handler panics turned into 500 problems (the process keeps serving)."
    );
    describe_gauge!(
        HTTP_CONNECTIONS,
        "Open HTTP connections on the public listener."
    );
    describe_gauge!(READY, "1 when /readyz answers 200, else 0.");
    describe_gauge!(
        UNREADY,
        "1 for the reason the process is not ready (starting, database_unreachable, schema_behind, ingest_paused, shutting_down), else 0."
    );
    describe_histogram!(
        DB_POOL_WAIT,
        Unit::Seconds,
        "Time spent waiting for a database connection from the pool."
    );
    describe_gauge!(
        DB_POOL_WAITERS,
        "Callers waiting for a database connection right now."
    );
    describe_gauge!(
        INGEST_PAUSED,
        "1 while the ingest worker has paused pulling because the database is unavailable."
    );
    describe_gauge!(
        INGEST_OUTSTANDING_MESSAGES,
        "Messages the ingest worker holds (received, not yet acked or nacked)."
    );
    describe_gauge!(
        INGEST_OUTSTANDING_BYTES,
        Unit::Bytes,
        "Payload bytes of the messages the ingest worker holds."
    );
    describe_histogram!(
        PROBE_FRESHNESS,
        Unit::Seconds,
        "Black-box freshness: from publishing a probe event to reading it through the API."
    );
    describe_counter!(
        PROBE_RUNS,
        "Probe runs by result (ok, timeout: not readable within PROBE_TIMEOUT_MS, error)."
    );
    describe_gauge!(
        PROBE_LAST_SUCCESS,
        Unit::Seconds,
        "Unix time of the last probe that read its event back."
    );
    describe_counter!(
        DLQ_PUBLISH_FAILURES,
        "Failed publishes to the dead-letter topic (the message is nacked with a delay and retried)."
    );
}

/// Counters exist at zero from start-up, so `rate()` and ratios work before the first event.
fn register_zeroes() {
    for outcome in OUTCOMES {
        metrics::counter!(INGEST_MESSAGES, "outcome" => outcome).increment(0);
    }
}
