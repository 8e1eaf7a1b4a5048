//! Connection pool sized from settings, with a statement timeout and pool gauges.

use super::DbError;
use crate::config::DatabaseSettings;
use crate::telemetry::metrics::{DB_POOL_CONNECTIONS, DB_POOL_MAX, DB_POOL_WAIT, DB_POOL_WAITERS};
use deadpool_postgres::{Manager, ManagerConfig, RecyclingMethod, Runtime};
use std::time::Duration;
use tokio_postgres::NoTls;

pub type Pool = deadpool_postgres::Pool;

/// Bound on opening one connection (TCP and start-up).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// TCP keepalives: a peer that vanishes (host down, network cut) is noticed after about
/// IDLE + INTERVAL x RETRIES = 45 s even when no statement is running.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 3;
/// Longest wait for a free connection; then the request fails fast (a 503) instead of queueing.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on opening a connection for the pool.
const CREATE_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on checking a returned connection before reuse.
const RECYCLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Builds the pool; connections are opened lazily, so this succeeds while the database is down.
pub fn connect(settings: &DatabaseSettings, application_name: &str) -> anyhow::Result<Pool> {
    let mut config: tokio_postgres::Config = settings.url.parse()?;
    config
        .application_name(application_name)
        .connect_timeout(CONNECT_TIMEOUT)
        .keepalives(true)
        .keepalives_idle(KEEPALIVE_IDLE)
        .keepalives_interval(KEEPALIVE_INTERVAL)
        .keepalives_retries(KEEPALIVE_RETRIES)
        .options(format!(
            "-c statement_timeout={}",
            settings.statement_timeout.as_millis()
        ));
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(settings.pool_max)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(CHECKOUT_TIMEOUT))
        .create_timeout(Some(CREATE_TIMEOUT))
        .recycle_timeout(Some(RECYCLE_TIMEOUT))
        .build()?;
    metrics::gauge!(DB_POOL_MAX).set(settings.pool_max as f64);
    metrics::gauge!(DB_POOL_WAITERS).set(0.0);
    // Registered now, so the series exists before the first checkout.
    let _ = metrics::histogram!(DB_POOL_WAIT);
    Ok(pool)
}

/// A connection from the pool; the wait is recorded in `flightdeck_db_pool_wait_seconds`.
pub async fn checkout(pool: &Pool) -> Result<deadpool_postgres::Client, DbError> {
    let started = std::time::Instant::now();
    let client = pool.get().await;
    metrics::histogram!(DB_POOL_WAIT).record(started.elapsed().as_secs_f64());
    Ok(client?)
}

/// Publishes `flightdeck_db_pool_connections{state}` and `flightdeck_db_pool_waiters` from the
/// pool's status.
pub fn record_pool_metrics(pool: &Pool) {
    let status = pool.status();
    let idle = status.available;
    let in_use = status.size.saturating_sub(idle);
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle as f64);
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(in_use as f64);
    metrics::gauge!(DB_POOL_WAITERS).set(status.waiting as f64);
}
