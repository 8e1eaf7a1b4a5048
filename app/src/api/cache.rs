//! Micro-cache for hot reads: bounded staleness, one database query per key per TTL (coalescing).

use super::error::ApiError;
use crate::telemetry::metrics::CACHE_REQUESTS;
use bytes::Bytes;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Most keys kept at once; beyond it expired keys are purged, then new keys bypass the cache.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    created: Instant,
    value: Arc<OnceCell<Bytes>>,
}

/// Serialized responses keyed by request. An entry is created before its query starts, so a
/// cached body is never older than the TTL. A TTL of zero disables caching.
pub struct ApiCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl ApiCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, key: &str) -> Option<Arc<OnceCell<Bytes>>> {
        let mut entries = self.entries.lock().expect("cache lock");
        if let Some(entry) = entries.get(key)
            && entry.created.elapsed() < self.ttl
        {
            return Some(entry.value.clone());
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.created.elapsed() < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                return None;
            }
        }
        let value = Arc::new(OnceCell::new());
        entries.insert(
            key.to_string(),
            Entry {
                created: Instant::now(),
                value: value.clone(),
            },
        );
        Some(value)
    }

    /// Returns the cached body for `key` or runs `load` once for all concurrent callers.
    pub async fn get_or_load<F, Fut>(
        &self,
        cache: &'static str,
        key: String,
        load: F,
    ) -> Result<Bytes, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, ApiError>>,
    {
        if self.ttl.is_zero() {
            return load().await;
        }
        let Some(slot) = self.slot(&key) else {
            metrics::counter!(CACHE_REQUESTS, "cache" => cache, "result" => "bypass").increment(1);
            return load().await;
        };
        if let Some(body) = slot.get() {
            metrics::counter!(CACHE_REQUESTS, "cache" => cache, "result" => "hit").increment(1);
            return Ok(body.clone());
        }
        let mut loaded_here = false;
        let body = slot
            .get_or_try_init(|| {
                loaded_here = true;
                load()
            })
            .await?
            .clone();
        let result = if loaded_here { "miss" } else { "coalesced" };
        metrics::counter!(CACHE_REQUESTS, "cache" => cache, "result" => result).increment(1);
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_requests_for_a_key_run_one_load() {
        let cache = Arc::new(ApiCache::new(Duration::from_secs(5)));
        let loads = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (cache, loads) = (cache.clone(), loads.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_load("test", "k".into(), || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(Bytes::from_static(b"v"))
                    })
                    .await
                    .unwrap()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), Bytes::from_static(b"v"));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn entries_expire_after_the_ttl_and_errors_are_not_cached() {
        let cache = ApiCache::new(Duration::from_millis(30));
        let load = |v: &'static str| move || async move { Ok(Bytes::from_static(v.as_bytes())) };
        assert_eq!(
            cache.get_or_load("t", "k".into(), load("a")).await.unwrap(),
            "a"
        );
        assert_eq!(
            cache.get_or_load("t", "k".into(), load("b")).await.unwrap(),
            "a"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(
            cache.get_or_load("t", "k".into(), load("c")).await.unwrap(),
            "c"
        );
        let failed = cache
            .get_or_load("t", "e".into(), || async { Err(ApiError::Timeout) })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            cache.get_or_load("t", "e".into(), load("d")).await.unwrap(),
            "d"
        );
    }

    #[tokio::test]
    async fn zero_ttl_disables_caching() {
        let cache = ApiCache::new(Duration::ZERO);
        let load = |v: &'static str| move || async move { Ok(Bytes::from_static(v.as_bytes())) };
        assert_eq!(
            cache.get_or_load("t", "k".into(), load("a")).await.unwrap(),
            "a"
        );
        assert_eq!(
            cache.get_or_load("t", "k".into(), load("b")).await.unwrap(),
            "b"
        );
    }
}
