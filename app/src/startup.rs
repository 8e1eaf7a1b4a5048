//! Process wiring for each command: listeners, signals, servers and graceful shutdown.

use crate::access::{KeyRing, quota::Limits, ring::RingSettings};
use crate::api::{self, ApiContext, middleware};
use crate::config::{
    AccessSettings, AuthMode, DatabaseSettings, HttpSettings, IngestSettings, ProbeSettings,
    PubSubSettings,
};
use crate::db::{self, Pool};
use crate::health::Readiness;
use crate::server::{self, ConnectionLimits};
use crate::telemetry::MetricsHandle;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The public listener and the /metrics listener, bound before anything else starts.
pub struct Listeners {
    pub http: TcpListener,
    pub metrics: TcpListener,
}

impl Listeners {
    /// Binds both ports (0 picks a free one) and logs the real addresses.
    pub async fn bind(settings: &HttpSettings) -> anyhow::Result<Self> {
        let http = bind_one(&settings.host, settings.port, "PORT").await?;
        let metrics = bind_one(&settings.host, settings.metrics_port, "METRICS_PORT").await?;
        tracing::info!(
            http_addr = %http.local_addr()?,
            metrics_addr = %metrics.local_addr()?,
            "listening"
        );
        Ok(Self { http, metrics })
    }
}

async fn bind_one(host: &str, port: u16, name: &str) -> anyhow::Result<TcpListener> {
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(|_| anyhow::anyhow!("HOST {host:?} with {name} {port} is not a socket address"))?;
    TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {addr} ({name}): {e}; choose another {name}")
    })
}

/// A token cancelled on SIGTERM or SIGINT. The handlers are installed before this returns, so
/// a failure to install them stops start-up instead of leaving the signals ignored.
pub fn shutdown_on_signals() -> anyhow::Result<CancellationToken> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|e| anyhow::anyhow!("cannot install the SIGTERM handler: {e}"))?;
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| anyhow::anyhow!("cannot install the SIGINT handler: {e}"))?;
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!(signal = "SIGTERM", "shutting down"),
            _ = interrupt.recv() => tracing::info!(signal = "SIGINT", "shutting down"),
        }
        cancel.cancel();
    });
    Ok(token)
}

#[derive(Clone)]
struct MetricsState {
    handle: MetricsHandle,
    pool: Pool,
}

async fn render_metrics(State(state): State<MetricsState>) -> impl axum::response::IntoResponse {
    db::pool::record_pool_metrics(&state.pool);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.handle.render(),
    )
}

fn connection_limits(http: &HttpSettings) -> ConnectionLimits {
    ConnectionLimits {
        max_connections: http.max_connections,
        header_read_timeout: http.header_read_timeout,
        shutdown_grace: http.shutdown_grace,
        max_head_bytes: http.max_uri_bytes + http.max_header_bytes + 1024,
    }
}

/// The public router and the /metrics router, each on its own listener, until `stop`.
async fn serve_pair(
    listeners: Listeners,
    public: Router,
    metrics: Router,
    limits: ConnectionLimits,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let (a, b) = tokio::join!(
        server::serve(listeners.http, public, limits.clone(), stop.clone()),
        server::serve(listeners.metrics, metrics, limits, stop),
    );
    a.and(b)
}

/// `probe`: the prober with /healthz and /metrics, until a signal.
pub async fn probe(
    pubsub: &PubSubSettings,
    settings: &ProbeSettings,
    http: &HttpSettings,
    metrics: MetricsHandle,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let health = Router::new().route("/healthz", get(api::health::healthz));
    let metrics = Router::new().route(
        "/metrics",
        get(move || {
            let handle = metrics.clone();
            async move { handle.render() }
        }),
    );
    let servers_stop = CancellationToken::new();
    let servers = tokio::spawn(serve_pair(
        listeners,
        health,
        metrics,
        connection_limits(http),
        servers_stop.clone(),
    ));
    let result = crate::probe::run(pubsub, settings, shutdown).await;
    servers_stop.cancel();
    servers.await??;
    result
}

fn metrics_router(handle: MetricsHandle, pool: Pool) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(MetricsState { handle, pool })
}

/// The key ring of `serve`, reloaded until `stop`; loud when keys are switched off.
fn key_ring(
    settings: &AccessSettings,
    pool: Pool,
    stop: CancellationToken,
) -> (api::auth::Access, Option<tokio::task::JoinHandle<()>>) {
    let ring = KeyRing::new(RingSettings {
        default_limits: Limits {
            rate: settings.default_rate,
            burst: settings.default_burst,
        },
        refresh: settings.refresh,
        label_limit: settings.consumer_label_limit,
    });
    let refresher = match settings.mode {
        AuthMode::Required => Some(ring.spawn_refresher(pool, stop)),
        AuthMode::Off => {
            tracing::warn!(
                "API_AUTH=off: the data endpoints answer anyone, without keys or quotas; never run this way where third parties can reach it"
            );
            None
        }
    };
    api::auth::preregister_series();
    let access = api::auth::Access {
        mode: settings.mode,
        ring,
    };
    (access, refresher)
}

/// `serve`: the HTTP API plus /metrics, until a signal.
pub async fn serve(
    database: &DatabaseSettings,
    http: &HttpSettings,
    access: &AccessSettings,
    metrics: MetricsHandle,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = db::connect(database, "flightdeck-serve")?;
    let readiness = Readiness::new();
    let monitor_stop = CancellationToken::new();
    let monitor =
        readiness.spawn_monitor(pool.clone(), http.readiness_interval, monitor_stop.clone());
    let context = ApiContext::new(pool.clone(), readiness.clone(), http);
    let (access, refresher) = key_ring(access, pool.clone(), monitor_stop.clone());
    middleware::preregister_series();
    let api = middleware::stack(
        api::routes(context),
        middleware::RequestLimits {
            timeout: http.request_timeout,
            max_in_flight: http.max_in_flight,
            max_uri_bytes: http.max_uri_bytes,
            max_header_bytes: http.max_header_bytes,
        },
        access,
    );
    let stop = CancellationToken::new();
    let watcher = {
        let (stop, readiness) = (stop.clone(), readiness.clone());
        tokio::spawn(async move {
            shutdown.cancelled().await;
            readiness.set_shutting_down();
            stop.cancel();
        })
    };
    let result = serve_pair(
        listeners,
        api,
        metrics_router(metrics, pool),
        connection_limits(http),
        stop,
    )
    .await;
    monitor_stop.cancel();
    watcher.abort();
    let _ = monitor.await;
    if let Some(refresher) = refresher {
        let _ = refresher.await;
    }
    result
}

/// `ingest`: the subscriber with /healthz, /readyz and /metrics, until a signal.
pub async fn ingest(
    database: &DatabaseSettings,
    pubsub: &PubSubSettings,
    settings: &IngestSettings,
    http: &HttpSettings,
    metrics: MetricsHandle,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = db::connect(database, "flightdeck-ingest")?;
    let readiness = Readiness::new();
    // Probes and scrapes keep answering until the last batch is committed.
    let servers_stop = CancellationToken::new();
    let monitor =
        readiness.spawn_monitor(pool.clone(), http.readiness_interval, servers_stop.clone());
    let health = api::health::router().with_state(readiness.clone());
    let servers = tokio::spawn(serve_pair(
        listeners,
        health,
        metrics_router(metrics, pool.clone()),
        connection_limits(http),
        servers_stop.clone(),
    ));
    let result = crate::ingest::run(pubsub, settings, pool, readiness, shutdown).await;
    servers_stop.cancel();
    let _ = monitor.await;
    servers.await??;
    result
}
