//! Settings read from the environment (12-factor), each failure reported by name with what to do.

use std::collections::HashMap;
use std::fmt;
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

/// Where settings come from: the process environment in production, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
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

fn present(source: &dyn Source, name: &str) -> Option<String> {
    source
        .get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Reads `name` as `T`, falling back to `default`; `expected` describes a valid value.
fn parsed<T: FromStr>(
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

/// Reads `name` as an integer inside `range` (inclusive), falling back to `default`; the
/// error message is generated from the range and `unit`, so the two cannot disagree.
fn ranged<T>(
    source: &dyn Source,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    let expected = format!("an integer{unit} from {} to {}", range.start(), range.end());
    parsed(source, name, default, &expected, |v| range.contains(v))
}

/// A duration in milliseconds inside `range` (milliseconds).
fn millis(
    source: &dyn Source,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    ranged(source, name, default, range, " of milliseconds").map(Duration::from_millis)
}

fn text(source: &dyn Source, name: &'static str, default: &str) -> String {
    present(source, name).unwrap_or_else(|| default.to_string())
}

/// Validates a Pub/Sub resource id (topic, subscription, project) so typos fail at start-up.
fn resource_id(
    source: &dyn Source,
    name: &'static str,
    default: &str,
) -> Result<String, ConfigError> {
    let value = text(source, name, default);
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
            hint: "use 3-255 characters starting with a letter: letters, digits, - _ . ~ + %"
                .into(),
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
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
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
                hint: "use the form postgres://USER[:PASSWORD]@HOST:PORT/DATABASE".into(),
            });
        }
        let default_pool = std::thread::available_parallelism().map_or(4, |n| n.get() * 4);
        Ok(Self {
            url,
            pool_max: ranged(source, "DB_POOL_MAX", default_pool, 1..=1000, "")?,
            statement_timeout: millis(source, "DB_STATEMENT_TIMEOUT_MS", 5_000, 100..=600_000)?,
        })
    }
}

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
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let emulator_host = present(source, "PUBSUB_EMULATOR_HOST");
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
            project: resource_id(source, "GOOGLE_CLOUD_PROJECT", "flightdeck-local")?,
            emulator_host,
            topic: resource_id(source, "PUBSUB_TOPIC", "flight-events")?,
            subscription: resource_id(source, "PUBSUB_SUBSCRIPTION", "flight-events-ingest")?,
            dlq_topic: resource_id(source, "PUBSUB_DLQ_TOPIC", "flight-events-dlq")?,
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
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            streams: ranged(source, "INGEST_STREAMS", 4, 1..=64, "")?,
            batch_max: ranged(source, "INGEST_BATCH_MAX", 1000, 1..=50_000, "")?,
            batch_wait: millis(source, "INGEST_BATCH_WAIT_MS", 200, 1..=60_000)?,
            ack_deadline: Duration::from_secs(ranged(
                source,
                "INGEST_ACK_DEADLINE_SECONDS",
                30,
                10..=600,
                " of seconds",
            )?),
            max_outstanding_messages: ranged(
                source,
                "INGEST_MAX_OUTSTANDING_MESSAGES",
                2_000,
                1..=100_000,
                "",
            )?,
            max_outstanding_bytes: ranged(
                source,
                "INGEST_MAX_OUTSTANDING_BYTES",
                8 << 20,
                (64 << 10)..=(1 << 30),
                " of bytes",
            )?,
            max_message_bytes: ranged(
                source,
                "INGEST_MAX_MESSAGE_BYTES",
                64 << 10,
                1024..=(10 << 20),
                " of bytes",
            )?,
            write_timeout: millis(source, "INGEST_WRITE_TIMEOUT_MS", 10_000, 100..=600_000)?,
            max_lease: Duration::from_secs(ranged(
                source,
                "INGEST_MAX_LEASE_SECONDS",
                3_600,
                60..=86_400,
                " of seconds",
            )?),
            dlq_publish_timeout: millis(
                source,
                "INGEST_DLQ_PUBLISH_TIMEOUT_MS",
                5_000,
                100..=60_000,
            )?,
            dlq_retry_delay: millis(source, "INGEST_DLQ_RETRY_DELAY_MS", 10_000, 0..=600_000)?,
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
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let api_url = text(source, "PROBE_API_URL", "http://127.0.0.1:8080");
        if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
            return Err(ConfigError {
                name: "PROBE_API_URL",
                problem: format!("is {api_url:?}, which is not an http(s) URL"),
                hint: "set it to the API's base URL, e.g. http://127.0.0.1:8080".into(),
            });
        }
        Ok(Self {
            api_url: api_url.trim_end_matches('/').to_string(),
            interval: millis(source, "PROBE_INTERVAL_MS", 10_000, 100..=3_600_000)?,
            timeout: millis(source, "PROBE_TIMEOUT_MS", 30_000, 1_000..=600_000)?,
            api_key: present(source, "PROBE_API_KEY").map(Secret),
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

/// Logging, tracing and build identity.
#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    pub log_format: LogFormat,
    pub otlp_endpoint: Option<String>,
    pub service_name: String,
    /// `system` label added to every metric (fleet views); unset when the scraper adds it.
    pub system: Option<String>,
}

impl TelemetrySettings {
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            log_format: parsed(
                source,
                "LOG_FORMAT",
                LogFormat::Json,
                "json or pretty",
                |_| true,
            )?,
            otlp_endpoint: present(source, "OTEL_EXPORTER_OTLP_ENDPOINT"),
            service_name: text(source, "OTEL_SERVICE_NAME", "flightdeck"),
            system: present(source, "FLIGHTDECK_SYSTEM"),
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
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let port = ranged(source, "PORT", 8080, 0..=65535, "")?;
        let metrics_port = ranged(source, "METRICS_PORT", 9464, 0..=65535, "")?;
        if port == metrics_port && port != 0 {
            return Err(ConfigError {
                name: "METRICS_PORT",
                problem: format!("is {metrics_port}, the same as PORT"),
                hint: "give /metrics its own port so it is never exposed on the public one".into(),
            });
        }
        Ok(Self {
            host: text(source, "HOST", "0.0.0.0"),
            port,
            metrics_port,
            request_timeout: millis(source, "HTTP_REQUEST_TIMEOUT_MS", 10_000, 100..=600_000)?,
            cache_ttl: millis(source, "API_CACHE_TTL_MS", 1_000, 0..=60_000)?,
            cache_max_bytes: ranged(
                source,
                "API_CACHE_MAX_BYTES",
                64 << 20,
                0..=(4 << 30),
                " of bytes",
            )?,
            header_read_timeout: millis(
                source,
                "HTTP_HEADER_READ_TIMEOUT_MS",
                10_000,
                100..=300_000,
            )?,
            max_connections: ranged(source, "HTTP_MAX_CONNECTIONS", 1024, 1..=100_000, "")?,
            max_in_flight: ranged(source, "HTTP_MAX_IN_FLIGHT", 128, 1..=100_000, "")?,
            max_uri_bytes: ranged(
                source,
                "HTTP_MAX_URI_BYTES",
                4096,
                256..=65_536,
                " of bytes",
            )?,
            max_header_bytes: ranged(
                source,
                "HTTP_MAX_HEADER_BYTES",
                16_384,
                1024..=65_536,
                " of bytes",
            )?,
            shutdown_grace: millis(source, "HTTP_SHUTDOWN_GRACE_MS", 8_000, 0..=600_000)?,
            readiness_interval: millis(source, "READINESS_INTERVAL_MS", 2_000, 100..=60_000)?,
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

/// Third-party access of `serve`: API keys, their refresh and the default quota.
#[derive(Debug, Clone)]
pub struct AccessSettings {
    pub mode: AuthMode,
    /// How often keys are reloaded: the bound on how long a revoked key keeps working.
    pub refresh: Duration,
    /// Requests per second of a key created without `--rate`.
    pub default_rate: u32,
    /// Burst of a key created without `--burst`.
    pub default_burst: u32,
    /// Keys (oldest first) that get their own `consumer` metric label; the rest are `_other`.
    pub consumer_label_limit: usize,
}

impl AccessSettings {
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            mode: parsed(
                source,
                "API_AUTH",
                AuthMode::Required,
                "required or off",
                |_| true,
            )?,
            refresh: millis(source, "API_KEYS_REFRESH_MS", 10_000, 100..=300_000)?,
            default_rate: ranged(source, "API_DEFAULT_RATE", 20, 1..=100_000, " per second")?,
            default_burst: ranged(source, "API_DEFAULT_BURST", 40, 1..=100_000, "")?,
            consumer_label_limit: ranged(source, "API_CONSUMER_LABEL_LIMIT", 50, 1..=1_000, "")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn invalid_log_format_is_rejected() {
        let env = HashMap::from([("LOG_FORMAT", "xml")]);
        assert_eq!(
            TelemetrySettings::from_source(&env).unwrap_err().name,
            "LOG_FORMAT"
        );
    }
}
