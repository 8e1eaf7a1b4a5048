//! The real `flightdeck` binary as a child process, with its real ports read from its log.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_flightdeck")
}

/// A running `flightdeck` process; killed when dropped.
pub struct App {
    child: Child,
    pub http: String,
    pub metrics: String,
    logs: Arc<Mutex<Vec<String>>>,
    client: reqwest::Client,
    /// The API key requests are sent with, if any.
    pub key: Option<String>,
}

impl App {
    /// Spawns `command`, waits for its "listening" log line and returns its base URLs.
    pub async fn spawn(
        command: &str,
        env: Vec<(String, String)>,
        overrides: &[(&str, &str)],
    ) -> Self {
        let mut cmd = Command::new(binary());
        cmd.arg(command)
            .envs(env)
            .envs(
                overrides
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn flightdeck");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let stderr = BufReader::new(child.stderr.take().expect("stderr"));
        tokio::spawn(collect(stderr, logs.clone(), None));
        tokio::spawn(collect(stdout, logs.clone(), Some(addr_tx)));
        let addrs = tokio::time::timeout(Duration::from_secs(30), addr_rx).await;
        let Ok(Ok((http, metrics))) = addrs else {
            panic!(
                "flightdeck {command} did not report its listeners; logs:\n{}",
                logs.lock().unwrap().join("\n")
            );
        };
        Self {
            child,
            http: format!("http://{http}"),
            metrics: format!("http://{metrics}/metrics"),
            logs,
            client: reqwest::Client::new(),
            key: None,
        }
    }

    /// Sends `key` (as `Authorization: Bearer`) with every request of `get` and `client`.
    pub fn with_key(mut self, key: String) -> Self {
        self.client = keyed_client(&key);
        self.key = Some(key);
        self
    }

    /// A client that authenticates like this app's consumer (no key if it has none).
    pub fn client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// A client builder preloaded with the consumer's key, for clients with other settings.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .default_headers(self.key.as_deref().map(bearer).unwrap_or_default())
    }

    /// Waits until the key ring has loaded at least one key (`flightdeck_api_keys_active`).
    pub async fn wait_keys_loaded(&self) {
        crate::support::eventually("API keys loaded", Duration::from_secs(10), || async {
            let m = crate::support::metrics::scrape(&self.metrics).await;
            (crate::support::metrics::value(&m, "flightdeck_api_keys_active") >= 1.0).then_some(())
        })
        .await;
    }

    pub fn pid(&self) -> i32 {
        self.child.id().expect("running") as i32
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), signal).expect("signal");
    }

    /// Waits for exit and returns the status, or panics after `timeout`.
    pub async fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => status.expect("wait"),
            Err(_) => panic!(
                "process did not exit within {timeout:?}; logs:\n{}",
                self.logs()
            ),
        }
    }

    /// A memory figure of the process from /proc, in MB (`VmRSS` now, `VmHWM` the peak).
    pub fn memory_mb(&self, field: &str) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("/proc status");
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc status"));
        kb / 1024.0
    }

    /// Waits until /readyz answers 200 (the first background readiness check has run).
    pub async fn wait_ready(&self) {
        crate::support::eventually("ready", Duration::from_secs(10), || async {
            (self.status("/readyz").await == 200).then_some(())
        })
        .await;
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path_and_query}", self.http))
            .send()
            .await
            .expect("request")
    }

    /// GET and decode JSON, asserting the status.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, status: u16) -> T {
        let response = self.get(path).await;
        assert_eq!(response.status().as_u16(), status, "GET {path}");
        response.json().await.expect("json body")
    }

    pub async fn status(&self, path: &str) -> u16 {
        self.get(path).await.status().as_u16()
    }
}

/// `Authorization: Bearer <key>` as default headers.
pub fn bearer(key: &str) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {key}").parse().expect("header value"),
    );
    headers
}

/// A client that sends `key` with every request.
pub fn keyed_client(key: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .default_headers(bearer(key))
        .build()
        .expect("client")
}

async fn collect<R: tokio::io::AsyncRead + Unpin>(
    reader: BufReader<R>,
    logs: Arc<Mutex<Vec<String>>>,
    mut addr_tx: Option<tokio::sync::oneshot::Sender<(String, String)>>,
) {
    let mut lines = reader.lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(tx) = addr_tx.take() {
            match listening(&line) {
                Some(addrs) => {
                    let _ = tx.send(addrs);
                }
                None => addr_tx = Some(tx),
            }
        }
        logs.lock().unwrap().push(line);
    }
}

fn listening(line: &str) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value["message"] != "listening" {
        return None;
    }
    Some((
        value["http_addr"].as_str()?.to_string(),
        value["metrics_addr"].as_str()?.to_string(),
    ))
}
