//! The HTTP listener behind every port: a cap on open connections, a header-read timeout that
//! also closes idle keep-alive connections, and a graceful drain with a deadline on shutdown.

use crate::telemetry::metrics::HTTP_CONNECTIONS;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Connection-level limits of one listener.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Open connections at once; further clients wait in the kernel's listen backlog.
    pub max_connections: usize,
    /// A request head must arrive within this time of the server starting to wait for it,
    /// which also closes keep-alive connections that stay idle that long.
    pub header_read_timeout: Duration,
    /// Requests in progress get this long after shutdown starts; then connections are dropped.
    pub shutdown_grace: Duration,
    /// Largest request head hyper buffers; beyond it hyper answers 431 on its own.
    pub max_head_bytes: usize,
}

/// Serves `router` on `listener` until `shutdown`, then drains for at most `shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // HTTP/1.1 only (what Cloud Run speaks to a container by default): protocol detection
    // would wait for a first byte with no timeout, so a silent socket would be held for ever.
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_head_bytes.max(8192));
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        // Holding a permit before accepting keeps excess clients in the backlog, unserved
        // but not consuming memory here.
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = permits.clone().acquire_owned() => permit?,
        };
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone().map_request(
            |request: axum::http::Request<Incoming>| request.map(axum::body::Body::new),
        ));
        let builder = builder.clone();
        let stop = shutdown.clone();
        connections.spawn(async move {
            let open = metrics::gauge!(HTTP_CONNECTIONS);
            open.increment(1.0);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            open.decrement(1.0);
            drop(permit);
        });
        // Reap finished connection tasks so the set does not grow with history.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let open = connections.len();
    if open > 0 {
        tracing::info!(
            connections = open,
            grace_ms = limits.shutdown_grace.as_millis() as u64,
            "draining connections"
        );
    }
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "connections still open after the shutdown grace period; closing them"
        );
        connections.shutdown().await;
    }
    Ok(())
}
