//! Test harness: real PostgreSQL and Pub/Sub emulator, a fresh database and topic per test,
//! and the real `flightdeck` binary spawned on port 0.

pub mod app;
pub mod database;
pub mod metrics;
pub mod otlp;
pub mod private_pg;
pub mod pubsub;
pub mod services;

pub use app::App;
pub use database::TestDb;
pub use pubsub::TestPubSub;

use std::future::Future;
use std::sync::Once;
use std::time::{Duration, Instant};

/// Process-wide set-up: one rustls crypto provider for the Google clients.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

/// The ack deadline of every test subscription (and the workers' lease): a message a worker
/// holds without acking comes back after this long.
pub const ACK_DEADLINE: Duration = Duration::from_secs(10);

/// Polls `holds` for `period` and panics, naming `what`, the first time it is false: for a
/// condition that must stay true (nothing redelivered), where no event marks the end.
pub async fn stays<F, Fut>(what: &str, period: Duration, mut holds: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let until = Instant::now() + period;
    while Instant::now() < until {
        assert!(holds().await, "{what} stopped holding");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Everything one test needs: its own database and Pub/Sub resources.
pub struct Harness {
    pub db: TestDb,
    pub pubsub: TestPubSub,
    /// The key `serve` is called with, created on first use like a consumer's.
    consumer_key: tokio::sync::OnceCell<String>,
}

impl Harness {
    pub async fn new() -> Self {
        init();
        let services = services::get().await;
        let db = TestDb::create(&services.admin_database_url).await;
        let pubsub = TestPubSub::create(&services.emulator_host).await;
        Self {
            db,
            pubsub,
            consumer_key: tokio::sync::OnceCell::new(),
        }
    }

    /// Environment for a `flightdeck` process bound to this test's resources.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("DATABASE_URL".to_string(), self.db.url.clone()),
            ("HOST".into(), "127.0.0.1".into()),
            ("PORT".into(), "0".into()),
            ("METRICS_PORT".into(), "0".into()),
            ("LOG_FORMAT".into(), "json".into()),
            ("RUST_LOG".into(), "info".into()),
            (
                "INGEST_ACK_DEADLINE_SECONDS".into(),
                ACK_DEADLINE.as_secs().to_string(),
            ),
            ("DB_POOL_MAX".into(), "4".into()),
        ];
        env.extend(self.pubsub.env());
        env
    }

    /// Runs `migrate` to completion.
    pub async fn migrate(&self) {
        let status = tokio::process::Command::new(app::binary())
            .arg("migrate")
            .envs(self.env())
            .status()
            .await
            .expect("run migrate");
        assert!(status.success(), "migrate failed: {status}");
    }

    /// Starts `ingest` with extra environment overrides.
    pub async fn ingest(&self, overrides: &[(&str, &str)]) -> App {
        App::spawn("ingest", self.env(), overrides).await
    }

    /// Runs `flightdeck ARGS` to completion and returns its stdout (asserting success).
    pub async fn command(&self, args: &[&str]) -> String {
        let output = tokio::process::Command::new(app::binary())
            .args(args)
            .envs(self.env())
            .output()
            .await
            .expect("run flightdeck");
        assert!(
            output.status.success(),
            "flightdeck {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8 stdout")
    }

    /// Runs `flightdeck apikey ARGS` to completion and returns its stdout (asserting success).
    pub async fn apikey(&self, args: &[&str]) -> String {
        self.command(&[&["apikey"], args].concat()).await
    }

    /// Creates a key with `flightdeck apikey create` and returns it (the last line of stdout).
    pub async fn create_key(&self, name: &str, rate: u32, burst: u32) -> String {
        let (rate, burst) = (rate.to_string(), burst.to_string());
        let out = self
            .apikey(&["create", "--name", name, "--rate", &rate, "--burst", &burst])
            .await;
        out.lines().last().expect("the key line").to_string()
    }

    /// Starts `serve` (the database must be migrated) called with a consumer key whose quota
    /// no test reaches by accident, once its keys are loaded. Keys reload every 200 ms here.
    pub async fn serve(&self, overrides: &[(&str, &str)]) -> App {
        let key = self
            .consumer_key
            .get_or_init(|| self.create_key("integration-tests", 100_000, 100_000))
            .await
            .clone();
        let mut env = self.env();
        env.push(("API_KEYS_REFRESH_MS".into(), "200".into()));
        let app = App::spawn("serve", env, overrides).await.with_key(key);
        if !overrides.contains(&("API_AUTH", "off")) {
            app.wait_keys_loaded().await;
        }
        app
    }
}

/// `n` realistic events from the synthetic generator.
pub fn generated_events(n: usize, seed: u64) -> Vec<flightdeck::domain::FlightEvent> {
    let mut generator = flightdeck::publish::synthetic::Generator::new(seed, 300);
    (0..n)
        .map(|_| generator.next_event(chrono::Utc::now()))
        .collect()
}

/// One event whose flight id exists nowhere else.
pub fn unique_event() -> flightdeck::domain::FlightEvent {
    let mut event = generated_events(1, rand::random()).remove(0);
    event.flight_id = format!("T-{}", uuid::Uuid::new_v4().simple());
    event
}
