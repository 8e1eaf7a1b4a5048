//! The worker's view of a database outage: paused while writes fail, resumed by the first
//! write that succeeds; one log line per transition, a gauge, and readiness.

use crate::health::Readiness;
use crate::telemetry::metrics::INGEST_PAUSED;
use std::sync::Mutex;
use std::time::Instant;

pub struct Outage {
    since: Mutex<Option<Instant>>,
    readiness: Readiness,
}

impl Outage {
    pub fn new(readiness: Readiness) -> Self {
        metrics::gauge!(INGEST_PAUSED).set(0.0);
        Self {
            since: Mutex::new(None),
            readiness,
        }
    }

    fn since(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.since.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A write failed for a reason retrying can fix: pause (once) and keep the messages.
    pub fn write_failed(&self, error: &dyn std::fmt::Display, held: usize) {
        let mut since = self.since();
        if since.is_none() {
            *since = Some(Instant::now());
            metrics::gauge!(INGEST_PAUSED).set(1.0);
            self.readiness.set_ingest_paused(true);
            tracing::error!(%error, held_messages = held, "database unavailable: ingest paused; messages are held (leases extended) and retried, not released");
        }
    }

    /// A write succeeded: resume (once) if paused.
    pub fn write_succeeded(&self) {
        let mut since = self.since();
        if let Some(started) = since.take() {
            metrics::gauge!(INGEST_PAUSED).set(0.0);
            self.readiness.set_ingest_paused(false);
            tracing::warn!(
                paused_ms = started.elapsed().as_millis() as u64,
                "database available again: ingest resumed"
            );
        }
    }

    #[cfg(test)]
    pub fn is_paused(&self) -> bool {
        self.since().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_once_and_resumes_once() {
        let readiness = Readiness::new();
        let outage = Outage::new(readiness.clone());
        assert!(!outage.is_paused());
        outage.write_failed(&"connection refused", 10);
        outage.write_failed(&"connection refused", 10);
        assert!(outage.is_paused());
        outage.write_succeeded();
        assert!(!outage.is_paused());
    }
}
