//! Process wiring for each command: listeners, signals, servers and graceful shutdown.

use crate::api::{self, ApiContext, health::Readiness};
use crate::config::{DatabaseSettings, HttpSettings, IngestSettings, PubSubSettings};
use crate::db::{self, Pool};
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

/// A token cancelled on SIGTERM or SIGINT.
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler");
        tokio::select! {
            _ = terminate.recv() => tracing::info!(signal = "SIGTERM", "shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!(signal = "SIGINT", "shutting down"),
        }
        cancel.cancel();
    });
    token
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

async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}

/// The public router and the /metrics router, each on its own listener, until `stop`.
async fn serve_pair(
    listeners: Listeners,
    public: Router,
    metrics: Router,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let (a, b) = tokio::join!(
        serve_router(listeners.http, public, stop.clone()),
        serve_router(listeners.metrics, metrics, stop),
    );
    a.and(b)
}

fn metrics_router(handle: MetricsHandle, pool: Pool) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(MetricsState { handle, pool })
}

/// `serve`: the HTTP API plus /metrics, until a signal.
pub async fn serve(
    database: &DatabaseSettings,
    http: &HttpSettings,
    metrics: MetricsHandle,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = db::connect(database, "flightdeck-serve")?;
    let context = ApiContext::new(pool.clone(), http.cache_ttl);
    let api = api::router(context, http.request_timeout);
    serve_pair(listeners, api, metrics_router(metrics, pool), shutdown).await
}

/// `ingest`: the subscriber with /healthz, /readyz and /metrics, until a signal.
pub async fn ingest(
    database: &DatabaseSettings,
    pubsub: &PubSubSettings,
    settings: &IngestSettings,
    metrics: MetricsHandle,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = db::connect(database, "flightdeck-ingest")?;
    let readiness = Readiness::new(pool.clone());
    let health = api::health::router().with_state(readiness.clone());
    // Probes and scrapes keep answering until the last batch is committed.
    let servers_stop = CancellationToken::new();
    let servers = tokio::spawn(serve_pair(
        listeners,
        health,
        metrics_router(metrics, pool.clone()),
        servers_stop.clone(),
    ));
    let result = crate::ingest::run(pubsub, settings, pool, readiness, shutdown).await;
    servers_stop.cancel();
    servers.await??;
    result
}
