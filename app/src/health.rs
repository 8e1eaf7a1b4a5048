//! Readiness shared by `serve` and `ingest`: held in memory and refreshed in the background, so
//! a probe (or a flood of them) never takes a database connection.

use crate::db::{Pool, migrations};
use crate::telemetry::metrics::{READY, UNREADY};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Why a process is not ready; the label of `flightdeck_unready{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Unready {
    /// The first database check has not finished yet.
    Starting = 1,
    DatabaseUnreachable = 2,
    /// The schema is older than this build expects: run `flightdeck migrate`.
    SchemaBehind = 3,
    /// The ingest worker paused pulling because writes fail.
    IngestPaused = 4,
    ShuttingDown = 5,
}

impl Unready {
    pub const ALL: [Unready; 5] = [
        Self::Starting,
        Self::DatabaseUnreachable,
        Self::SchemaBehind,
        Self::IngestPaused,
        Self::ShuttingDown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::DatabaseUnreachable => "database_unreachable",
            Self::SchemaBehind => "schema_behind",
            Self::IngestPaused => "ingest_paused",
            Self::ShuttingDown => "shutting_down",
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|u| *u as u8 == code)
    }
}

/// Longest a background database check may take before it counts as unreachable.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The process's readiness, cheap to clone and to read.
#[derive(Clone)]
pub struct Readiness(Arc<State>);

struct State {
    /// 0 when the last database check passed, else an `Unready` code.
    database: AtomicU8,
    ingest_paused: AtomicBool,
    shutting_down: AtomicBool,
    /// The verdict last published (metrics, transition log).
    published: Mutex<Option<Result<(), Unready>>>,
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new()
    }
}

impl Readiness {
    /// Not ready until the first database check passes.
    pub fn new() -> Self {
        let readiness = Self(Arc::new(State {
            database: AtomicU8::new(Unready::Starting as u8),
            ingest_paused: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
            published: Mutex::new(None),
        }));
        readiness.publish(None);
        readiness
    }

    /// The current verdict, from memory only.
    pub fn verdict(&self) -> Result<(), Unready> {
        if self.0.shutting_down.load(Ordering::Relaxed) {
            return Err(Unready::ShuttingDown);
        }
        if let Some(reason) = Unready::from_code(self.0.database.load(Ordering::Relaxed)) {
            return Err(reason);
        }
        if self.0.ingest_paused.load(Ordering::Relaxed) {
            return Err(Unready::IngestPaused);
        }
        Ok(())
    }

    /// Set by the ingest worker when it pauses pulling (writes fail) and when it resumes.
    pub fn set_ingest_paused(&self, paused: bool) {
        self.0.ingest_paused.store(paused, Ordering::Relaxed);
        self.publish(None);
    }

    /// Set once SIGTERM arrives, so load balancers stop sending new work.
    pub fn set_shutting_down(&self) {
        self.0.shutting_down.store(true, Ordering::Relaxed);
        self.publish(None);
    }

    fn set_database(&self, result: Result<(), (Unready, String)>) {
        let (code, detail) = match result {
            Ok(()) => (0, None),
            Err((reason, detail)) => (reason as u8, Some(detail)),
        };
        self.0.database.store(code, Ordering::Relaxed);
        self.publish(detail);
    }

    /// Updates the metrics and logs a line when the verdict changes (never per check).
    fn publish(&self, detail: Option<String>) {
        let verdict = self.verdict();
        let mut published = self.0.published.lock().unwrap_or_else(|e| e.into_inner());
        if *published == Some(verdict) {
            return;
        }
        *published = Some(verdict);
        metrics::gauge!(READY).set(if verdict.is_ok() { 1.0 } else { 0.0 });
        for reason in Unready::ALL {
            let active = verdict == Err(reason);
            metrics::gauge!(UNREADY, "reason" => reason.label()).set(if active {
                1.0
            } else {
                0.0
            });
        }
        match verdict {
            Ok(()) => tracing::info!("ready"),
            Err(reason) => tracing::warn!(reason = reason.label(), detail, "not ready"),
        }
    }

    /// Checks the database every `interval` until `stop`: reachable, and its schema at least
    /// the version this build expects (a newer schema is fine: migrations are expand/contract).
    pub fn spawn_monitor(
        &self,
        pool: Pool,
        interval: Duration,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let readiness = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = ticker.tick() => {}
                }
                let result = tokio::time::timeout(CHECK_TIMEOUT, check_database(&pool))
                    .await
                    .unwrap_or_else(|_| {
                        Err((
                            Unready::DatabaseUnreachable,
                            format!("database check took longer than {CHECK_TIMEOUT:?}"),
                        ))
                    });
                readiness.set_database(result);
            }
        })
    }
}

async fn check_database(pool: &Pool) -> Result<(), (Unready, String)> {
    let unreachable = |e: String| (Unready::DatabaseUnreachable, e);
    let client = crate::db::checkout(pool)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let applied = migrations::applied_version(&client)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let expected = migrations::latest_version();
    if applied < expected {
        return Err((
            Unready::SchemaBehind,
            format!(
                "schema is at migration {applied}, this build expects {expected}: run `flightdeck migrate`"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutting_down_outranks_every_other_reason_and_paused_ingest_is_unready() {
        let readiness = Readiness::new();
        assert_eq!(readiness.verdict(), Err(Unready::Starting));
        readiness.set_database(Ok(()));
        assert_eq!(readiness.verdict(), Ok(()));
        readiness.set_ingest_paused(true);
        assert_eq!(readiness.verdict(), Err(Unready::IngestPaused));
        readiness.set_database(Err((Unready::SchemaBehind, "old".into())));
        assert_eq!(readiness.verdict(), Err(Unready::SchemaBehind));
        readiness.set_shutting_down();
        assert_eq!(readiness.verdict(), Err(Unready::ShuttingDown));
    }

    #[test]
    fn every_reason_has_a_distinct_code_and_label() {
        for reason in Unready::ALL {
            assert_eq!(Unready::from_code(reason as u8), Some(reason));
        }
        let labels: std::collections::HashSet<_> = Unready::ALL.iter().map(|u| u.label()).collect();
        assert_eq!(labels.len(), Unready::ALL.len());
        assert_eq!(Unready::from_code(0), None);
    }
}
