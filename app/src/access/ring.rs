//! The key ring: every active key in memory, reloaded from PostgreSQL every refresh interval,
//! so a request never queries the database to authenticate and a revocation takes effect on
//! every instance within that interval.

use super::key::PresentedKey;
use super::quota::{Bucket, Decision, Limits};
use crate::db::{self, Pool, apikeys::ActiveKey};
use crate::telemetry::metrics::{API_KEYS_ACTIVE, API_KEYS_REFRESH_FAILURES};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Consumer label of requests without a valid key.
pub const ANONYMOUS: &str = "_anonymous";
/// Consumer label of keys past the label limit.
pub const OTHER: &str = "_other";

/// The authenticated consumer of a request.
#[derive(Debug, Clone)]
pub struct Consumer {
    /// The key's name, or `_other` past the label limit: the `consumer` metric label.
    pub label: Arc<str>,
    pub limits: Limits,
}

/// The ring's answer for one request.
#[derive(Debug)]
pub enum Verdict {
    /// No key was presented.
    Missing,
    /// A key was presented that is malformed, unknown or revoked.
    Invalid,
    /// Keys have not been loaded yet (the database was unreachable since start-up).
    Unavailable,
    Admitted(Consumer, Decision),
}

struct Entry {
    id: i64,
    hash: super::SecretHash,
    consumer: Consumer,
    bucket: Arc<Bucket>,
}

/// Defaults and bounds of the ring.
#[derive(Debug, Clone)]
pub struct RingSettings {
    pub default_limits: Limits,
    pub refresh: Duration,
    /// Keys (oldest first) whose name is their own metric label; the rest share `_other`.
    pub label_limit: usize,
}

/// Active keys by prefix; `None` until the first load.
type Entries = Option<Arc<HashMap<String, Entry>>>;

/// Shared by every request of the process.
#[derive(Clone)]
pub struct KeyRing {
    settings: Arc<RingSettings>,
    entries: Arc<RwLock<Entries>>,
}

fn limit(value: Option<i32>, default: NonZeroU32) -> NonZeroU32 {
    value
        .and_then(|v| u32::try_from(v).ok())
        .and_then(NonZeroU32::new)
        .unwrap_or(default)
}

impl KeyRing {
    pub fn new(settings: RingSettings) -> Self {
        metrics::gauge!(API_KEYS_ACTIVE).set(0.0);
        metrics::counter!(API_KEYS_REFRESH_FAILURES).increment(0);
        Self {
            settings: Arc::new(settings),
            entries: Arc::new(RwLock::new(None)),
        }
    }

    /// Checks a presented key (or its absence) and spends one request of its quota.
    pub fn check(&self, presented: Option<&str>) -> Verdict {
        let Some(text) = presented else {
            return Verdict::Missing;
        };
        let Some(entries) = self.entries.read().expect("key ring lock").clone() else {
            return Verdict::Unavailable;
        };
        let Some(key) = PresentedKey::parse(text) else {
            return Verdict::Invalid;
        };
        match entries.get(&key.prefix) {
            Some(entry) if entry.hash.matches(&key.hash) => {
                Verdict::Admitted(entry.consumer.clone(), entry.bucket.check())
            }
            _ => Verdict::Invalid,
        }
    }

    /// Replaces the ring with `keys`; a key whose limits did not change keeps its bucket, so a
    /// refresh never hands out a fresh burst.
    pub fn install(&self, keys: Vec<ActiveKey>) {
        let previous = self.entries.read().expect("key ring lock").clone();
        let defaults = self.settings.default_limits;
        let count = keys.len();
        let entries: HashMap<String, Entry> = keys
            .into_iter()
            .enumerate()
            .map(|(index, key)| {
                let limits = Limits {
                    rate: limit(key.rate, defaults.rate),
                    burst: limit(key.burst, defaults.burst),
                };
                let bucket = previous
                    .as_ref()
                    .and_then(|p| p.get(&key.prefix))
                    .filter(|old| old.id == key.id && old.bucket.limits() == limits)
                    .map(|old| old.bucket.clone())
                    .unwrap_or_else(|| Arc::new(Bucket::new(limits)));
                let label: Arc<str> = if index < self.settings.label_limit {
                    key.name.as_str().into()
                } else {
                    OTHER.into()
                };
                let entry = Entry {
                    id: key.id,
                    hash: super::SecretHash(key.hash),
                    consumer: Consumer { label, limits },
                    bucket,
                };
                (key.prefix, entry)
            })
            .collect();
        *self.entries.write().expect("key ring lock") = Some(Arc::new(entries));
        metrics::gauge!(API_KEYS_ACTIVE).set(count as f64);
    }

    /// Loads the active keys once.
    pub async fn refresh(&self, pool: &Pool) -> Result<(), db::DbError> {
        let client = db::checkout(pool).await?;
        let keys = db::apikeys::active(&**client).await?;
        self.install(keys);
        Ok(())
    }

    /// Reloads the ring every refresh interval until `stop`; a failed reload keeps the keys
    /// already loaded (logged and counted), so a database outage does not lock consumers out.
    pub fn spawn_refresher(
        &self,
        pool: Pool,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let ring = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = ring.refresh(&pool).await {
                    metrics::counter!(API_KEYS_REFRESH_FAILURES).increment(1);
                    tracing::warn!(%error, "could not reload API keys; keeping the loaded ones");
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(ring.settings.refresh) => {}
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::key::NewKey;

    fn settings(label_limit: usize) -> RingSettings {
        RingSettings {
            default_limits: Limits {
                rate: NonZeroU32::new(5).unwrap(),
                burst: NonZeroU32::new(2).unwrap(),
            },
            refresh: Duration::from_secs(10),
            label_limit,
        }
    }

    fn active(id: i64, name: &str, key: &NewKey, burst: Option<i32>) -> ActiveKey {
        ActiveKey {
            id,
            name: name.into(),
            prefix: key.prefix.clone(),
            hash: key.hash.0,
            rate: None,
            burst,
        }
    }

    #[test]
    fn before_the_first_load_keys_are_unavailable_but_absence_is_still_missing() {
        let ring = KeyRing::new(settings(10));
        assert!(matches!(ring.check(None), Verdict::Missing));
        assert!(matches!(
            ring.check(Some(&NewKey::generate().text)),
            Verdict::Unavailable
        ));
    }

    #[test]
    fn known_keys_are_admitted_unknown_and_revoked_ones_are_not() {
        let ring = KeyRing::new(settings(10));
        let (a, b) = (NewKey::generate(), NewKey::generate());
        ring.install(vec![active(1, "a", &a, None), active(2, "b", &b, None)]);
        assert!(matches!(ring.check(Some(&a.text)), Verdict::Admitted(c, _) if &*c.label == "a"));
        assert!(matches!(
            ring.check(Some(&NewKey::generate().text)),
            Verdict::Invalid
        ));
        // Right prefix, wrong secret.
        let forged = format!("{}{}", &a.text[..17], &b.text[17..]);
        assert!(matches!(ring.check(Some(&forged)), Verdict::Invalid));
        ring.install(vec![active(2, "b", &b, None)]);
        assert!(matches!(ring.check(Some(&a.text)), Verdict::Invalid));
    }

    #[test]
    fn a_refresh_keeps_the_spent_quota_and_a_changed_limit_starts_a_new_bucket() {
        let ring = KeyRing::new(settings(10));
        let a = NewKey::generate();
        ring.install(vec![active(1, "a", &a, None)]);
        for _ in 0..2 {
            assert!(matches!(
                ring.check(Some(&a.text)),
                Verdict::Admitted(_, Decision::Allowed { .. })
            ));
        }
        ring.install(vec![active(1, "a", &a, None)]);
        assert!(matches!(
            ring.check(Some(&a.text)),
            Verdict::Admitted(_, Decision::Throttled { .. })
        ));
        ring.install(vec![active(1, "a", &a, Some(5))]);
        assert!(matches!(
            ring.check(Some(&a.text)),
            Verdict::Admitted(_, Decision::Allowed { remaining: 4 })
        ));
    }

    #[test]
    fn keys_past_the_label_limit_share_the_other_label() {
        let ring = KeyRing::new(settings(1));
        let (a, b) = (NewKey::generate(), NewKey::generate());
        ring.install(vec![active(1, "a", &a, None), active(2, "b", &b, None)]);
        assert!(matches!(ring.check(Some(&b.text)), Verdict::Admitted(c, _) if &*c.label == OTHER));
    }
}
