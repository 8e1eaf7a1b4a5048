//! Settings read from the environment (12-factor), each failure reported by name with what to do.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

/// A setting that is missing or malformed: names the variable, what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
    pub hint: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.name, self.problem, self.hint)
    }
}

impl std::error::Error for ConfigError {}

/// What one setting is, as the settings reference shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub name: &'static str,
    pub default: String,
    /// The values accepted, in the words of the error a bad value gets.
    pub valid: String,
    pub meaning: &'static str,
}

/// Where settings come from: the process environment in production, a map in tests, a
/// [`Catalog`] when the reference is generated.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
    /// Told about each setting as it is read; only a [`Catalog`] keeps the description.
    fn describe(&self, _doc: Doc) {}
}

/// The real process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Source for HashMap<&str, &str> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).map(|v| v.to_string())
    }
}

/// Command-line flags layered over another source: a flag given wins over its variable, and
/// both go through the same parsing, so one rule and one error message serve both.
pub struct Flags<'a> {
    pub flags: HashMap<&'static str, String>,
    pub base: &'a dyn Source,
}

impl Source for Flags<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.flags
            .get(name)
            .cloned()
            .or_else(|| self.base.get(name))
    }
    fn describe(&self, doc: Doc) {
        self.base.describe(doc)
    }
}

/// Records every setting that a `from_source` reads, with its default, valid values and
/// meaning: the source of the settings reference (docs/reference.md#settings).
#[derive(Default)]
pub struct Catalog {
    docs: std::cell::RefCell<Vec<Doc>>,
}

/// A value for each required setting, so a catalogue run reads every setting after it.
const CATALOG_EXAMPLES: &[(&str, &str)] = &[("DATABASE_URL", "postgres://catalog@localhost/x")];

impl Source for Catalog {
    fn get(&self, name: &str) -> Option<String> {
        CATALOG_EXAMPLES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }
    fn describe(&self, doc: Doc) {
        let mut docs = self.docs.borrow_mut();
        if !docs.iter().any(|d| d.name == doc.name) {
            docs.push(doc);
        }
    }
}

impl Catalog {
    pub fn into_docs(self) -> Vec<Doc> {
        self.docs.into_inner()
    }
}

fn present(source: &dyn Source, name: &str) -> Option<String> {
    source
        .get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn describe(
    source: &dyn Source,
    name: &'static str,
    default: impl fmt::Display,
    valid: impl fmt::Display,
    meaning: &'static str,
) {
    source.describe(Doc {
        name,
        default: default.to_string(),
        valid: valid.to_string(),
        meaning,
    });
}

/// Reads `name` as `T` without describing it; `expected` describes a valid value.
fn parse_value<T: FromStr>(
    source: &dyn Source,
    name: &'static str,
    default: T,
    expected: &str,
    valid: impl Fn(&T) -> bool,
) -> Result<T, ConfigError> {
    let Some(raw) = present(source, name) else {
        return Ok(default);
    };
    match raw.parse::<T>() {
        Ok(value) if valid(&value) => Ok(value),
        _ => Err(ConfigError {
            name,
            problem: format!("is {raw:?}, which is not {expected}"),
            hint: format!("set it to {expected} or unset it to use the default"),
        }),
    }
}

/// Reads `name` as one of the words `T` parses, falling back to `default`.
fn choice<T: FromStr + fmt::Display>(
    source: &dyn Source,
    name: &'static str,
    default: T,
    expected: &str,
    meaning: &'static str,
) -> Result<T, ConfigError> {
    describe(source, name, &default, expected, meaning);
    parse_value(source, name, default, expected, |_| true)
}

/// The words of an error for a value outside `range`; the reference shows the same words.
fn range_words<T: fmt::Display>(range: &std::ops::RangeInclusive<T>, unit: &str) -> String {
    format!("an integer{unit} from {} to {}", range.start(), range.end())
}

/// Reads `name` as an integer inside `range` (inclusive), falling back to `default`; the
/// error message is generated from the range and `unit`, so the two cannot disagree.
fn ranged<T>(
    source: &dyn Source,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
    meaning: &'static str,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    describe(source, name, default, range_words(&range, unit), meaning);
    ranged_quietly(source, name, default, range, unit)
}

fn ranged_quietly<T>(
    source: &dyn Source,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    let expected = range_words(&range, unit);
    parse_value(source, name, default, &expected, |v| range.contains(v))
}

/// A duration in milliseconds inside `range` (milliseconds).
fn millis(
    source: &dyn Source,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    meaning: &'static str,
) -> Result<Duration, ConfigError> {
    ranged(source, name, default, range, " of milliseconds", meaning).map(Duration::from_millis)
}

/// A duration in whole seconds inside `range`.
fn seconds(
    source: &dyn Source,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    meaning: &'static str,
) -> Result<Duration, ConfigError> {
    ranged(source, name, default, range, " of seconds", meaning).map(Duration::from_secs)
}

/// A decimal number inside `range`.
fn decimal(
    source: &dyn Source,
    name: &'static str,
    default: f64,
    range: std::ops::RangeInclusive<f64>,
    meaning: &'static str,
) -> Result<f64, ConfigError> {
    let expected = format!("a number from {} to {}", range.start(), range.end());
    describe(source, name, default, &expected, meaning);
    parse_value(source, name, default, &expected, |v: &f64| {
        range.contains(v)
    })
}

/// An optional non-negative integer: `None` when unset.
fn optional_number(
    source: &dyn Source,
    name: &'static str,
    meaning: &'static str,
) -> Result<Option<u64>, ConfigError> {
    let expected = range_words(&(0..=u64::MAX), "");
    describe(source, name, "unset", &expected, meaning);
    if present(source, name).is_none() {
        return Ok(None);
    }
    parse_value(source, name, 0, &expected, |_| true).map(Some)
}

fn text(source: &dyn Source, name: &'static str, default: &str, meaning: &'static str) -> String {
    describe(source, name, default, "any text", meaning);
    present(source, name).unwrap_or_else(|| default.to_string())
}

/// An optional value: `None` when unset or empty.
fn optional(
    source: &dyn Source,
    name: &'static str,
    valid: &str,
    meaning: &'static str,
) -> Option<String> {
    describe(source, name, "unset", valid, meaning);
    present(source, name)
}

/// Validates a Pub/Sub resource id (topic, subscription, project) so typos fail at start-up.
fn resource_id(
    source: &dyn Source,
    name: &'static str,
    default: &str,
    meaning: &'static str,
) -> Result<String, ConfigError> {
    const RULE: &str = "3-255 characters starting with a letter: letters, digits, - _ . ~ + %";
    describe(source, name, default, RULE, meaning);
    let value = present(source, name).unwrap_or_else(|| default.to_string());
    let ok = (3..=255).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_alphabetic())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.~+%".contains(c));
    if ok {
        Ok(value)
    } else {
        Err(ConfigError {
            name,
            problem: format!("is {value:?}, which is not a valid resource id"),
            hint: format!("use {RULE}"),
        })
    }
}

/// Database connection and pool settings.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_max: usize,
    pub statement_timeout: Duration,
}

impl DatabaseSettings {
    /// Commands that read these settings (the settings reference's "Read by").
    pub const READ_BY: &'static str = "migrate, serve, ingest, apikey, rollup";

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        const FORM: &str = "postgres://USER[:PASSWORD]@HOST:PORT/DATABASE";
        describe(
            source,
            "DATABASE_URL",
            "(required)",
            FORM,
            "PostgreSQL connection string.",
        );
        let url = present(source, "DATABASE_URL").ok_or_else(|| ConfigError {
            name: "DATABASE_URL",
            problem: "is not set".into(),
            hint: "export it (e.g. postgres://postgres@127.0.0.1:5432/flightdeck) or run `make up`"
                .into(),
        })?;
        if url.parse::<tokio_postgres::Config>().is_err() {
            return Err(ConfigError {
                name: "DATABASE_URL",
                problem: "is not a valid PostgreSQL connection string".into(),
                hint: format!("use the form {FORM}"),
            });
        }
        let pool_range = 1..=1000;
        describe(
            source,
            "DB_POOL_MAX",
            "4 × CPUs",
            range_words(&pool_range, ""),
            "Connections in the pool.",
        );
        let default_pool = std::thread::available_parallelism().map_or(4, |n| n.get() * 4);
        Ok(Self {
            url,
            pool_max: ranged_quietly(source, "DB_POOL_MAX", default_pool, pool_range, "")?,
            statement_timeout: millis(
                source,
                "DB_STATEMENT_TIMEOUT_MS",
                5_000,
                100..=600_000,
                "Server-side statement timeout of every pooled connection.",
            )?,
        })
    }
}

/// GOOGLE_CLOUD_PROJECT is read by the Pub/Sub clients (with a local default) and by the
/// JSON log format (only when set): one meaning for both.
const PROJECT_MEANING: &str = "Project of the Pub/Sub resources; JSON log lines name their trace in it (`logging.googleapis.com/trace`) only when it is set.";

/// Pub/Sub project, resource names and the optional emulator endpoint.
#[derive(Debug, Clone)]
pub struct PubSubSettings {
    pub project: String,
    pub emulator_host: Option<String>,
    pub topic: String,
    pub subscription: String,
    pub dlq_topic: String,
}

impl PubSubSettings {
    pub const READ_BY: &'static str = "ingest, publish, probe, pubsub-setup";

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let emulator_host = optional(
            source,
            "PUBSUB_EMULATOR_HOST",
            "HOST:PORT",
            "Address of the Pub/Sub emulator (anonymous credentials); unset means Google Cloud with Application Default Credentials.",
        );
        if let Some(host) = &emulator_host {
            let valid = host
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !valid {
                return Err(ConfigError {
                    name: "PUBSUB_EMULATOR_HOST",
                    problem: format!("is {host:?}, which is not HOST:PORT"),
                    hint: "set it to the emulator address, e.g. 127.0.0.1:8085, or unset it to use Google Cloud".into(),
                });
            }
        }
        Ok(Self {
            project: resource_id(
                source,
                "GOOGLE_CLOUD_PROJECT",
                "flightdeck-local",
                PROJECT_MEANING,
            )?,
            emulator_host,
            topic: resource_id(
                source,
                "PUBSUB_TOPIC",
                "flight-events",
                "Topic the events are published to.",
            )?,
            subscription: resource_id(
                source,
                "PUBSUB_SUBSCRIPTION",
                "flight-events-ingest",
                "Subscription ingest pulls from.",
            )?,
            dlq_topic: resource_id(
                source,
                "PUBSUB_DLQ_TOPIC",
                "flight-events-dlq",
                "Dead-letter topic for messages that can never be stored.",
            )?,
        })
    }

    pub fn topic_path(&self) -> String {
        format!("projects/{}/topics/{}", self.project, self.topic)
    }

    pub fn dlq_topic_path(&self) -> String {
        format!("projects/{}/topics/{}", self.project, self.dlq_topic)
    }

    pub fn subscription_path(&self) -> String {
        format!(
            "projects/{}/subscriptions/{}",
            self.project, self.subscription
        )
    }
}

/// How the subscriber pulls, batches, bounds its memory and rides out faults.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    pub streams: usize,
    pub batch_max: usize,
    pub batch_wait: Duration,
    pub ack_deadline: Duration,
    /// Flow control per stream: messages held (received, not yet acked or nacked).
    pub max_outstanding_messages: usize,
    /// Flow control per stream: payload bytes held. With `streams`, bounds the worker's memory.
    pub max_outstanding_bytes: usize,
    /// Larger messages are dead-lettered as `too_large` without being parsed.
    pub max_message_bytes: usize,
    /// Client-side bound on one batch write, so a hung database is detected.
    pub write_timeout: Duration,
    /// How long a message may be held (leases extended) while the database is unavailable.
    pub max_lease: Duration,
    /// Bound on one publish to the dead-letter topic.
    pub dlq_publish_timeout: Duration,
    /// Wait before a message whose dead-letter publish failed is released for redelivery.
    pub dlq_retry_delay: Duration,
}

impl IngestSettings {
    pub const READ_BY: &'static str = "ingest, pubsub-setup";

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            streams: ranged(
                source,
                "INGEST_STREAMS",
                4,
                1..=64,
                "",
                "Concurrent streaming pulls.",
            )?,
            batch_max: ranged(
                source,
                "INGEST_BATCH_MAX",
                1000,
                1..=50_000,
                "",
                "A batch is written at this many messages...",
            )?,
            batch_wait: millis(
                source,
                "INGEST_BATCH_WAIT_MS",
                200,
                1..=60_000,
                "...or this long after its first message, whichever comes first.",
            )?,
            ack_deadline: seconds(
                source,
                "INGEST_ACK_DEADLINE_SECONDS",
                30,
                10..=600,
                "Lease per message; pubsub-setup sets it on the subscription.",
            )?,
            max_outstanding_messages: ranged(
                source,
                "INGEST_MAX_OUTSTANDING_MESSAGES",
                2_000,
                1..=100_000,
                "",
                "Flow control per stream: messages held before the server stops sending.",
            )?,
            max_outstanding_bytes: ranged(
                source,
                "INGEST_MAX_OUTSTANDING_BYTES",
                8 << 20,
                (64 << 10)..=(1 << 30),
                " of bytes",
                "Byte budget per stream: a stream holds at most this plus one message, whatever the server sends; with INGEST_STREAMS it bounds the worker's memory.",
            )?,
            max_message_bytes: ranged(
                source,
                "INGEST_MAX_MESSAGE_BYTES",
                64 << 10,
                1024..=(10 << 20),
                " of bytes",
                "Larger messages are dead-lettered as `too_large` without being parsed (an event is about 400 bytes).",
            )?,
            write_timeout: millis(
                source,
                "INGEST_WRITE_TIMEOUT_MS",
                10_000,
                100..=600_000,
                "Client-side bound on one batch write: a hung database is detected, the connection discarded and the write retried.",
            )?,
            max_lease: seconds(
                source,
                "INGEST_MAX_LEASE_SECONDS",
                3_600,
                60..=86_400,
                "How long a message is held (lease extended) while the database is unavailable before Pub/Sub may redeliver it.",
            )?,
            dlq_publish_timeout: millis(
                source,
                "INGEST_DLQ_PUBLISH_TIMEOUT_MS",
                5_000,
                100..=60_000,
                "Bound on one publish to the dead-letter topic.",
            )?,
            dlq_retry_delay: millis(
                source,
                "INGEST_DLQ_RETRY_DELAY_MS",
                10_000,
                0..=600_000,
                "A message whose dead-letter publish failed is held this long, then released for redelivery (no hot loop).",
            )?,
        })
    }
}

/// What the `publish` command sends and how fast; each flag overrides its variable.
#[derive(Debug, Clone)]
pub struct PublishSettings {
    /// Messages per second; 0 publishes as fast as the topic accepts.
    pub rate: f64,
    /// Stop after this many messages; `None` runs until interrupted.
    pub count: Option<u64>,
    /// Share of messages (0..=1) that are deliberately invalid.
    pub invalid_ratio: f64,
    /// Seed of the event generator; `None` draws one.
    pub seed: Option<u64>,
    /// Flights moving through their lifecycle at once.
    pub active_flights: usize,
    /// Days of completed flights published first, so statistics have a history to show.
    pub backfill_days: u32,
}

impl PublishSettings {
    pub const READ_BY: &'static str = "publish";

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            rate: decimal(
                source,
                "PUBLISH_RATE",
                50.0,
                0.0..=1_000_000.0,
                "Messages per second (`--rate`); 0 publishes as fast as the topic accepts.",
            )?,
            count: optional_number(
                source,
                "PUBLISH_COUNT",
                "Messages to publish, then exit (`--count`); unset runs until interrupted.",
            )?,
            invalid_ratio: decimal(
                source,
                "PUBLISH_INVALID_RATIO",
                0.0,
                0.0..=1.0,
                "Share of deliberately invalid messages (`--invalid-ratio`), each of a poison kind the dead-letter path must handle.",
            )?,
            seed: optional_number(
                source,
                "PUBLISH_SEED",
                "Seed of the event generator (`--seed`), for a repeatable stream; unset draws one.",
            )?,
            active_flights: ranged(
                source,
                "PUBLISH_FLIGHTS",
                500,
                1..=100_000,
                "",
                "Flights moving through their lifecycle at once (`--flights`).",
            )?,
            backfill_days: ranged(
                source,
                "PUBLISH_BACKFILL_DAYS",
                0,
                0..=92,
                " of days",
                "Days of completed flights published before the live stream (`--backfill-days`), so the delay statistics have a history; `make up` sets 7.",
            )?,
        })
    }
}

/// A secret read from the environment; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The black-box prober: where the API is and how often to probe.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// Base URL of the API, without a trailing slash.
    pub api_url: String,
    pub interval: Duration,
    /// A probe not readable within this time counts as a timeout.
    pub timeout: Duration,
    /// The probe's own API key (`flightdeck apikey create --name probe`), sent as a consumer's.
    pub api_key: Option<Secret>,
}

impl ProbeSettings {
    pub const READ_BY: &'static str = "probe";

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let api_url = text(
            source,
            "PROBE_API_URL",
            "http://127.0.0.1:8080",
            "Base URL (http or https) of the API the prober reads from.",
        );
        if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
            return Err(ConfigError {
                name: "PROBE_API_URL",
                problem: format!("is {api_url:?}, which is not an http(s) URL"),
                hint: "set it to the API's base URL, e.g. http://127.0.0.1:8080".into(),
            });
        }
        Ok(Self {
            api_url: api_url.trim_end_matches('/').to_string(),
            interval: millis(
                source,
                "PROBE_INTERVAL_MS",
                10_000,
                100..=3_600_000,
                "Time between probes.",
            )?,
            timeout: millis(
                source,
                "PROBE_TIMEOUT_MS",
                30_000,
                1_000..=600_000,
                "A probe event not readable within this time counts as `timeout`.",
            )?,
            api_key: optional(
                source,
                "PROBE_API_KEY",
                "a key from `flightdeck apikey create`",
                "The prober's own API key, sent as `Authorization: Bearer`; never logged.",
            )
            .map(Secret),
        })
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

impl FromStr for LogFormat {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "json" => Ok(Self::Json),
            "pretty" => Ok(Self::Pretty),
            _ => Err(()),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "json",
            Self::Pretty => "pretty",
        })
    }
}

/// Log filter when `RUST_LOG` is unset: the clients' chatter stays at warnings.
pub const DEFAULT_LOG_FILTER: &str = "info,h2=warn,tower=warn,hyper=warn,tonic=warn";

fn log_filter(source: &dyn Source) -> Result<String, ConfigError> {
    const EXPECTED: &str = "tracing filter directives, e.g. info,flightdeck=debug";
    describe(
        source,
        "RUST_LOG",
        DEFAULT_LOG_FILTER,
        EXPECTED,
        "Log filter (`tracing-subscriber` `EnvFilter` directives); an invalid one stops the process with exit code 2.",
    );
    let filter = present(source, "RUST_LOG").unwrap_or_else(|| DEFAULT_LOG_FILTER.to_string());
    match tracing_subscriber::EnvFilter::try_new(&filter) {
        Ok(_) => Ok(filter),
        Err(e) => Err(ConfigError {
            name: "RUST_LOG",
            problem: format!("is {filter:?}, which is not valid ({e})"),
            hint: format!("set it to {EXPECTED} or unset it to use the default"),
        }),
    }
}

/// Logging, tracing and build identity.
#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    pub log_format: LogFormat,
    /// `tracing_subscriber::EnvFilter` directives.
    pub log_filter: String,
    /// Names the trace of a JSON log line (`logging.googleapis.com/trace`) when set.
    pub project: Option<String>,
    pub otlp_endpoint: Option<String>,
    pub service_name: String,
    /// `system` label added to every metric (fleet views); unset when the scraper adds it.
    pub system: Option<String>,
}

impl TelemetrySettings {
    pub const READ_BY: &'static str = "every command";

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            log_format: choice(
                source,
                "LOG_FORMAT",
                LogFormat::Json,
                "json or pretty",
                "`json`: one line per event with Google Cloud Logging's fields and trace ids; `pretty` for a terminal.",
            )?,
            log_filter: log_filter(source)?,
            project: optional(
                source,
                "GOOGLE_CLOUD_PROJECT",
                "a project id",
                PROJECT_MEANING,
            ),
            otlp_endpoint: optional(
                source,
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "an OTLP/gRPC URL",
                "Export traces over OTLP/gRPC when set (spans, and trace ids in logs, exist only then).",
            ),
            service_name: text(
                source,
                "OTEL_SERVICE_NAME",
                "flightdeck",
                "`service.name` of the exported traces.",
            ),
            system: optional(
                source,
                "FLIGHTDECK_SYSTEM",
                "a label value",
                "Adds `system=\"...\"` to every metric (Cloud Run sets `flightdeck-<env>`); leave unset where the Prometheus scrape configuration adds it.",
            ),
        })
    }
}

/// Listeners of the HTTP API (or the ingest health endpoints) and of /metrics, and the limits
/// that keep a listener bounded whatever clients send.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    pub metrics_port: u16,
    pub request_timeout: Duration,
    pub cache_ttl: Duration,
    /// Byte budget of the API micro-cache (bodies and keys).
    pub cache_max_bytes: usize,
    /// Time a connection has to deliver a complete request head, counted from when the server
    /// starts waiting for it; an idle keep-alive connection is closed after the same time.
    pub header_read_timeout: Duration,
    /// Open connections at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Requests being handled at once; beyond it requests are shed with a 503 at once.
    pub max_in_flight: usize,
    /// Longest request target (path and query) accepted, in bytes.
    pub max_uri_bytes: usize,
    /// Largest total size of request header names and values accepted, in bytes.
    pub max_header_bytes: usize,
    /// Time given to requests in progress after SIGTERM before connections are dropped.
    pub shutdown_grace: Duration,
    /// How often readiness is re-checked against the database (probes never query it).
    pub readiness_interval: Duration,
}

impl HttpSettings {
    pub const READ_BY: &'static str = "serve, ingest, probe";

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let port = ranged(
            source,
            "PORT",
            8080,
            0..=65535,
            "",
            "Public listener: the API of serve, the health endpoints of ingest and probe (`0` picks a free port; the real one is logged).",
        )?;
        let metrics_port = ranged(
            source,
            "METRICS_PORT",
            9464,
            0..=65535,
            "",
            "`/metrics` listener; must differ from PORT.",
        )?;
        if port == metrics_port && port != 0 {
            return Err(ConfigError {
                name: "METRICS_PORT",
                problem: format!("is {metrics_port}, the same as PORT"),
                hint: "give /metrics its own port so it is never exposed on the public one".into(),
            });
        }
        Ok(Self {
            host: text(
                source,
                "HOST",
                "0.0.0.0",
                "Listen address of both listeners.",
            ),
            port,
            metrics_port,
            request_timeout: millis(
                source,
                "HTTP_REQUEST_TIMEOUT_MS",
                10_000,
                100..=600_000,
                "Requests running longer get a 503 problem.",
            )?,
            cache_ttl: millis(
                source,
                "API_CACHE_TTL_MS",
                1_000,
                0..=60_000,
                "Micro-cache staleness bound for the feed and the statistics, also sent as `Cache-Control: max-age`; 0 disables.",
            )?,
            cache_max_bytes: ranged(
                source,
                "API_CACHE_MAX_BYTES",
                64 << 20,
                0..=(4 << 30),
                " of bytes",
                "Byte budget of the micro-cache (bodies, compressed variants and per-entry overhead); the oldest entries are evicted first; 0 disables.",
            )?,
            header_read_timeout: millis(
                source,
                "HTTP_HEADER_READ_TIMEOUT_MS",
                10_000,
                100..=300_000,
                "A connection must deliver a complete request head this long after the server starts waiting for it; idle keep-alive connections are closed after the same time.",
            )?,
            max_connections: ranged(
                source,
                "HTTP_MAX_CONNECTIONS",
                1024,
                1..=100_000,
                "",
                "Open connections per listener; further clients wait in the kernel's backlog.",
            )?,
            max_in_flight: ranged(
                source,
                "HTTP_MAX_IN_FLIGHT",
                128,
                1..=100_000,
                "",
                "Requests handled at once; beyond it a request is answered at once with a 503 problem and `Retry-After: 1` (load shedding), never queued.",
            )?,
            max_uri_bytes: ranged(
                source,
                "HTTP_MAX_URI_BYTES",
                4096,
                256..=65_536,
                " of bytes",
                "Longest request target; longer ones get a 414 problem.",
            )?,
            max_header_bytes: ranged(
                source,
                "HTTP_MAX_HEADER_BYTES",
                16_384,
                1024..=65_536,
                " of bytes",
                "Largest total of header names and values; larger gets a 431 problem.",
            )?,
            shutdown_grace: millis(
                source,
                "HTTP_SHUTDOWN_GRACE_MS",
                8_000,
                0..=600_000,
                "After SIGTERM, requests in progress get this long; then remaining connections are closed and the process exits (inside Cloud Run's 10 s).",
            )?,
            readiness_interval: millis(
                source,
                "READINESS_INTERVAL_MS",
                2_000,
                100..=60_000,
                "How often readiness is re-checked against the database; `/readyz` itself answers from memory.",
            )?,
        })
    }
}

/// Whether the data endpoints require an API key (`API_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    Required,
    /// Local experiments only: every request is served as `_anonymous`, without quotas.
    Off,
}

impl FromStr for AuthMode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "required" => Ok(Self::Required),
            "off" => Ok(Self::Off),
            _ => Err(()),
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Required => "required",
            Self::Off => "off",
        })
    }
}

/// Third-party access of `serve`: API keys, their refresh and the default quota.
#[derive(Debug, Clone)]
pub struct AccessSettings {
    pub mode: AuthMode,
    /// How often keys are reloaded: the bound on how long a revoked key keeps working.
    pub refresh: Duration,
    /// Requests per second of a key created without `--rate`.
    pub default_rate: NonZeroU32,
    /// Burst of a key created without `--burst`.
    pub default_burst: NonZeroU32,
    /// Keys (oldest first) that get their own `consumer` metric label; the rest are `_other`.
    pub consumer_label_limit: usize,
}

const fn nonzero(value: u32) -> NonZeroU32 {
    match NonZeroU32::new(value) {
        Some(v) => v,
        None => panic!("zero"),
    }
}

impl AccessSettings {
    pub const READ_BY: &'static str = "serve";

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            mode: choice(
                source,
                "API_AUTH",
                AuthMode::Required,
                "required or off",
                "`required`: `/v1/*` needs an API key (401 without one); `off`: anyone is served, without quotas, and start-up logs a warning. `/healthz`, `/readyz`, `/openapi.json` are always open.",
            )?,
            refresh: millis(
                source,
                "API_KEYS_REFRESH_MS",
                10_000,
                100..=300_000,
                "How often keys are reloaded from PostgreSQL: the bound on how long a new key waits and a revoked key keeps working. A failed reload keeps the keys already loaded.",
            )?,
            default_rate: ranged(
                source,
                "API_DEFAULT_RATE",
                nonzero(20),
                NonZeroU32::MIN..=nonzero(100_000),
                " per second",
                "Requests per second of a key created without `--rate`.",
            )?,
            default_burst: ranged(
                source,
                "API_DEFAULT_BURST",
                nonzero(40),
                NonZeroU32::MIN..=nonzero(100_000),
                "",
                "Burst of a key created without `--burst`.",
            )?,
            consumer_label_limit: ranged(
                source,
                "API_CONSUMER_LABEL_LIMIT",
                50,
                1..=1_000,
                "",
                "Keys (oldest first) whose name is their own `consumer` metric label; newer ones share `_other`.",
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting with its default, valid values, meaning and the commands that read it, in
    /// the order the settings structs read them: the settings reference.
    fn catalog() -> Vec<(Doc, String)> {
        type Reader = fn(&dyn Source) -> Result<(), ConfigError>;
        let readers: [(&'static str, Reader); 8] = [
            (DatabaseSettings::READ_BY, |s| {
                DatabaseSettings::from_source(s).map(drop)
            }),
            (HttpSettings::READ_BY, |s| {
                HttpSettings::from_source(s).map(drop)
            }),
            (AccessSettings::READ_BY, |s| {
                AccessSettings::from_source(s).map(drop)
            }),
            (PubSubSettings::READ_BY, |s| {
                PubSubSettings::from_source(s).map(drop)
            }),
            (IngestSettings::READ_BY, |s| {
                IngestSettings::from_source(s).map(drop)
            }),
            (PublishSettings::READ_BY, |s| {
                PublishSettings::from_source(s).map(drop)
            }),
            (ProbeSettings::READ_BY, |s| {
                ProbeSettings::from_source(s).map(drop)
            }),
            (TelemetrySettings::READ_BY, |s| {
                TelemetrySettings::from_source(s).map(drop)
            }),
        ];
        let mut all: Vec<(Doc, String)> = Vec::new();
        for (read_by, read) in readers {
            let catalog = Catalog::default();
            read(&catalog).expect("every default is valid");
            for doc in catalog.into_docs() {
                if let Some(seen) = all.iter_mut().find(|(d, _)| d.name == doc.name) {
                    // GOOGLE_CLOUD_PROJECT is read by two structs: one row for both.
                    if read_by == TelemetrySettings::READ_BY {
                        seen.1 = read_by.to_string();
                    } else {
                        seen.1 = format!("{}, {read_by}", seen.1);
                    }
                } else {
                    all.push((doc, read_by.to_string()));
                }
            }
        }
        all
    }

    /// The settings reference as a Markdown table (docs/reference.md#settings).
    fn reference_table() -> String {
        let mut out = String::from(
            "| Variable | Default | Valid values | Read by | Meaning |\n| --- | --- | --- | --- | --- |\n",
        );
        for (doc, read_by) in catalog() {
            let cell = |s: &str| s.replace('|', "\\|");
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                doc.name,
                cell(&doc.default),
                cell(&doc.valid),
                read_by,
                cell(doc.meaning)
            ));
        }
        out
    }

    /// The block of docs/reference.md that `make docs` fills from [`reference_table`].
    const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/reference.md");
    const BEGIN: &str = "<!-- generated: settings (cargo test -p flightdeck config) -->\n";
    const END: &str = "<!-- end generated: settings -->";

    #[test]
    fn the_settings_reference_is_generated_from_the_code() {
        let doc = std::fs::read_to_string(REFERENCE).expect("docs/reference.md");
        let start = doc.find(BEGIN).expect("settings block start") + BEGIN.len();
        let end = start + doc[start..].find(END).expect("settings block end");
        let fresh = reference_table();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{fresh}{}", &doc[..start], &doc[end..]);
            std::fs::write(REFERENCE, updated).expect("write docs/reference.md");
        } else {
            assert_eq!(
                doc[start..end],
                fresh,
                "docs/reference.md#settings is stale: run `make docs`"
            );
        }
    }

    #[test]
    fn the_catalog_holds_every_setting_once_with_its_meaning() {
        let docs = catalog();
        let names: std::collections::HashSet<_> = docs.iter().map(|(d, _)| d.name).collect();
        assert_eq!(names.len(), docs.len());
        for name in [
            "DATABASE_URL",
            "DB_POOL_MAX",
            "PUBLISH_RATE",
            "RUST_LOG",
            "PORT",
        ] {
            assert!(names.contains(name), "{name} missing");
        }
        assert!(docs.iter().all(|(d, _)| d.meaning.ends_with('.')));
        let project = docs
            .iter()
            .find(|(d, _)| d.name == "GOOGLE_CLOUD_PROJECT")
            .unwrap();
        assert_eq!(project.1, "every command");
        assert_eq!(project.0.default, "flightdeck-local");
    }

    #[test]
    fn a_flag_wins_over_its_variable_and_is_checked_by_the_same_rule() {
        let env = HashMap::from([("PUBLISH_RATE", "5"), ("PUBLISH_INVALID_RATIO", "0.5")]);
        let flags = Flags {
            flags: HashMap::from([("PUBLISH_RATE", "7".to_string())]),
            base: &env,
        };
        let settings = PublishSettings::from_source(&flags).unwrap();
        assert_eq!((settings.rate, settings.invalid_ratio), (7.0, 0.5));
        let bad = Flags {
            flags: HashMap::from([("PUBLISH_INVALID_RATIO", "2".to_string())]),
            base: &env,
        };
        let err = PublishSettings::from_source(&bad).unwrap_err();
        assert_eq!(err.name, "PUBLISH_INVALID_RATIO");
        assert!(err.to_string().contains("from 0 to 1"), "{err}");
    }

    #[test]
    fn missing_database_url_names_the_variable_and_the_fix() {
        let err = DatabaseSettings::from_source(&HashMap::new()).unwrap_err();
        assert_eq!(err.name, "DATABASE_URL");
        assert!(err.to_string().contains("make up"), "{err}");
    }

    #[test]
    fn malformed_number_names_the_variable_and_the_value() {
        let env = HashMap::from([("INGEST_STREAMS", "four")]);
        let err = IngestSettings::from_source(&env).unwrap_err();
        assert_eq!(err.name, "INGEST_STREAMS");
        assert!(err.to_string().contains("\"four\""), "{err}");
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        let env = HashMap::from([("INGEST_BATCH_MAX", "0")]);
        assert_eq!(
            IngestSettings::from_source(&env).unwrap_err().name,
            "INGEST_BATCH_MAX"
        );
    }

    #[test]
    fn defaults_follow_the_contract() {
        let ingest = IngestSettings::from_source(&HashMap::new()).unwrap();
        assert_eq!(
            (ingest.streams, ingest.batch_max, ingest.batch_wait),
            (4, 1000, Duration::from_millis(200))
        );
        let pubsub = PubSubSettings::from_source(&HashMap::new()).unwrap();
        assert_eq!(
            pubsub.subscription_path(),
            "projects/flightdeck-local/subscriptions/flight-events-ingest"
        );
        assert_eq!(pubsub.dlq_topic, "flight-events-dlq");
        let http = HttpSettings::from_source(&HashMap::new()).unwrap();
        assert_eq!((http.port, http.metrics_port), (8080, 9464));
    }

    #[test]
    fn metrics_port_cannot_share_the_public_port() {
        let env = HashMap::from([("PORT", "9000"), ("METRICS_PORT", "9000")]);
        assert_eq!(
            HttpSettings::from_source(&env).unwrap_err().name,
            "METRICS_PORT"
        );
    }

    #[test]
    fn emulator_host_must_be_host_and_port() {
        let env = HashMap::from([("PUBSUB_EMULATOR_HOST", "localhost")]);
        assert_eq!(
            PubSubSettings::from_source(&env).unwrap_err().name,
            "PUBSUB_EMULATOR_HOST"
        );
    }

    #[test]
    fn the_probe_needs_an_http_url_and_drops_a_trailing_slash() {
        let env = HashMap::from([("PROBE_API_URL", "127.0.0.1:8080")]);
        assert_eq!(
            ProbeSettings::from_source(&env).unwrap_err().name,
            "PROBE_API_URL"
        );
        let env = HashMap::from([("PROBE_API_URL", "https://api.example.com/")]);
        assert_eq!(
            ProbeSettings::from_source(&env).unwrap().api_url,
            "https://api.example.com"
        );
        let env = HashMap::from([("PROBE_INTERVAL_MS", "50")]);
        let err = ProbeSettings::from_source(&env).unwrap_err();
        assert!(err.to_string().contains("from 100 to 3600000"), "{err}");
    }

    #[test]
    fn keys_are_required_unless_switched_off_explicitly() {
        let empty: HashMap<&str, &str> = HashMap::new();
        assert_eq!(
            AccessSettings::from_source(&empty).unwrap().mode,
            AuthMode::Required
        );
        let off = HashMap::from([("API_AUTH", "off")]);
        assert_eq!(
            AccessSettings::from_source(&off).unwrap().mode,
            AuthMode::Off
        );
        let typo = HashMap::from([("API_AUTH", "no")]);
        assert_eq!(
            AccessSettings::from_source(&typo).unwrap_err().name,
            "API_AUTH"
        );
    }

    #[test]
    fn an_invalid_log_filter_is_rejected_not_ignored() {
        let env = HashMap::from([("RUST_LOG", "info,flightdeck=loud")]);
        assert_eq!(
            TelemetrySettings::from_source(&env).unwrap_err().name,
            "RUST_LOG"
        );
        let unset = TelemetrySettings::from_source(&HashMap::new()).unwrap();
        assert_eq!(unset.log_filter, DEFAULT_LOG_FILTER);
    }

    #[test]
    fn invalid_log_format_is_rejected() {
        let env = HashMap::from([("LOG_FORMAT", "xml")]);
        assert_eq!(
            TelemetrySettings::from_source(&env).unwrap_err().name,
            "LOG_FORMAT"
        );
    }
}
