//! Micro-cache for hot reads: bounded staleness (TTL), bounded memory (a byte budget), and one
//! database query per key per TTL (concurrent misses coalesce).

use super::compression::{self, Coding};
use super::error::ApiError;
use crate::db::queries::{EventFilter, FeedPosition};
use crate::telemetry::metrics::{CACHE_BYTES, CACHE_EVICTIONS, CACHE_REQUESTS};
use axum::http::HeaderValue;
use bytes::Bytes;
use chrono::NaiveDate;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// Bytes charged per entry besides its body: the key (twice: map and queue) and bookkeeping.
const ENTRY_OVERHEAD: usize = 256;

/// A cache key built from the decoded request, so spellings of the same request share a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    Events {
        limit: i64,
        filter: EventFilter,
        after: Option<FeedPosition>,
    },
    Stats {
        origin: String,
        from: NaiveDate,
        to: NaiveDate,
    },
}

impl CacheKey {
    fn label(&self) -> &'static str {
        match self {
            Self::Events { .. } => "events",
            Self::Stats { .. } => "stats",
        }
    }
}

/// A serialized response body, its strong entity tag, and its compressed variants, made on
/// first use and shared by every copy (a hot page is compressed once per TTL).
#[derive(Debug, Clone)]
pub struct Cached {
    pub body: Bytes,
    pub etag: HeaderValue,
    variants: Arc<[OnceLock<Option<Variant>>; 3]>,
}

/// A compressed body and its entity tag (the identity tag with the coding appended).
#[derive(Debug, Clone)]
struct Variant {
    body: Bytes,
    etag: HeaderValue,
}

/// What goes on the wire for one request: the body in the negotiated coding.
#[derive(Debug, Clone, PartialEq)]
pub struct Representation {
    pub body: Bytes,
    pub etag: HeaderValue,
    /// `None`: identity (no coding asked for, body under `compression::MIN_BYTES`, or a
    /// compressed body that would not be smaller).
    pub coding: Option<Coding>,
    /// The identity tag: a client holding any coding of this body has a current copy.
    pub identity_etag: HeaderValue,
}

impl Cached {
    pub fn new(body: Bytes) -> Self {
        let hash = xxhash_rust::xxh3::xxh3_128(&body);
        let etag =
            HeaderValue::from_str(&format!("\"{hash:032x}\"")).expect("hex is a valid header");
        Self {
            body,
            etag,
            variants: Arc::default(),
        }
    }

    /// The body in `coding` and the bytes compressed by this call (0 when the variant existed).
    pub fn represent(&self, coding: Option<Coding>) -> (Representation, usize) {
        let identity = || Representation {
            body: self.body.clone(),
            etag: self.etag.clone(),
            coding: None,
            identity_etag: self.etag.clone(),
        };
        let Some(coding) = coding.filter(|_| self.body.len() >= compression::MIN_BYTES) else {
            return (identity(), 0);
        };
        let mut added = 0;
        let variant = self.variants[coding.index()].get_or_init(|| {
            let body = coding.compress(&self.body);
            (body.len() < self.body.len()).then(|| {
                added = body.len();
                let tag = self.etag.to_str().expect("hex");
                let etag = HeaderValue::from_str(&format!(
                    "{}-{}\"",
                    &tag[..tag.len() - 1],
                    coding.token()
                ))
                .expect("hex and a token");
                Variant { body, etag }
            })
        });
        let representation = match variant {
            Some(variant) => Representation {
                body: variant.body.clone(),
                etag: variant.etag.clone(),
                coding: Some(coding),
                identity_etag: self.etag.clone(),
            },
            None => identity(),
        };
        (representation, added)
    }
}

struct Entry {
    created: Instant,
    value: Arc<OnceCell<Cached>>,
    /// Bytes charged to the budget for this entry.
    charged: usize,
}

#[derive(Default)]
struct Entries {
    map: HashMap<CacheKey, Entry>,
    /// Keys in creation order: with one TTL for all, the front is always the next to expire
    /// and the oldest to evict.
    order: VecDeque<(Instant, CacheKey)>,
    bytes: usize,
}

impl Entries {
    /// Removes the front entry; returns false when the queue is empty.
    fn pop_oldest(&mut self, reason: &'static str) -> bool {
        let Some((created, key)) = self.order.pop_front() else {
            return false;
        };
        // A key re-created after expiry has a newer entry: the stale queue item is skipped.
        if self.map.get(&key).is_some_and(|e| e.created == created) {
            let entry = self.map.remove(&key).expect("present");
            self.bytes -= entry.charged;
            metrics::counter!(CACHE_EVICTIONS, "reason" => reason).increment(1);
        }
        true
    }
}

/// Serialized responses keyed by decoded request. An entry is created before its query starts,
/// so a cached body is never older than the TTL. A TTL or budget of zero disables caching.
pub struct ApiCache {
    ttl: Duration,
    max_bytes: usize,
    entries: Mutex<Entries>,
}

impl ApiCache {
    pub fn new(ttl: Duration, max_bytes: usize) -> Self {
        metrics::gauge!(CACHE_BYTES).set(0.0);
        for reason in ["expired", "budget"] {
            metrics::counter!(CACHE_EVICTIONS, "reason" => reason).increment(0);
        }
        Self {
            ttl,
            max_bytes,
            entries: Mutex::new(Entries::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes held now (bodies plus per-entry overhead).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Drops expired entries, then the oldest ones until `bytes` is within the budget.
    fn trim(&self, entries: &mut Entries) {
        while entries
            .order
            .front()
            .is_some_and(|(created, _)| created.elapsed() >= self.ttl)
        {
            entries.pop_oldest("expired");
        }
        while entries.bytes > self.max_bytes && entries.pop_oldest("budget") {}
        metrics::gauge!(CACHE_BYTES).set(entries.bytes as f64);
    }

    fn slot(&self, key: &CacheKey) -> (Arc<OnceCell<Cached>>, Instant) {
        let mut entries = self.lock();
        self.trim(&mut entries);
        if let Some(entry) = entries.map.get(key) {
            return (entry.value.clone(), entry.created);
        }
        let created = Instant::now();
        let value = Arc::new(OnceCell::new());
        entries.map.insert(
            key.clone(),
            Entry {
                created,
                value: value.clone(),
                charged: ENTRY_OVERHEAD,
            },
        );
        entries.order.push_back((created, key.clone()));
        entries.bytes += ENTRY_OVERHEAD;
        self.trim(&mut entries);
        (value, created)
    }

    /// Charges a loaded body to its entry (if the entry still exists) and evicts to the budget.
    fn charge(&self, key: &CacheKey, created: Instant, body_len: usize) {
        let mut entries = self.lock();
        let Some(entry) = entries.map.get_mut(key).filter(|e| e.created == created) else {
            return;
        };
        entry.charged += body_len;
        entries.bytes += body_len;
        self.trim(&mut entries);
    }

    /// Returns the cached response for `key` in `coding` or runs `load` once for all concurrent
    /// callers. A variant compressed here is charged to the entry's bytes.
    pub async fn get_or_load<F, Fut>(
        &self,
        key: CacheKey,
        coding: Option<Coding>,
        load: F,
    ) -> Result<Representation, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, ApiError>>,
    {
        if self.ttl.is_zero() || self.max_bytes == 0 {
            return Ok(Cached::new(load().await?).represent(coding).0);
        }
        let cache = key.label();
        let (slot, created) = self.slot(&key);
        let (cached, result) = if let Some(cached) = slot.get() {
            (cached.clone(), "hit")
        } else {
            let mut loaded_here = false;
            let cached = slot
                .get_or_try_init(|| {
                    loaded_here = true;
                    async { load().await.map(Cached::new) }
                })
                .await?
                .clone();
            if loaded_here {
                self.charge(&key, created, cached.body.len());
            }
            (cached, if loaded_here { "miss" } else { "coalesced" })
        };
        let (representation, compressed) = cached.represent(coding);
        if compressed > 0 {
            self.charge(&key, created, compressed);
        }
        metrics::counter!(CACHE_REQUESTS, "cache" => cache, "result" => result).increment(1);
        Ok(representation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(n: i64) -> CacheKey {
        CacheKey::Events {
            limit: n,
            filter: EventFilter::default(),
            after: None,
        }
    }

    fn body(text: &'static str) -> impl FnOnce() -> std::future::Ready<Result<Bytes, ApiError>> {
        move || std::future::ready(Ok(Bytes::from_static(text.as_bytes())))
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_for_a_key_run_one_load() {
        let cache = Arc::new(ApiCache::new(Duration::from_secs(5), 1 << 20));
        let loads = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (cache, loads) = (cache.clone(), loads.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_load(key(1), None, || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(Bytes::from_static(b"v"))
                    })
                    .await
                    .unwrap()
                    .body
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), Bytes::from_static(b"v"));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn entries_expire_after_the_ttl_and_errors_are_not_cached() {
        let cache = ApiCache::new(Duration::from_millis(30), 1 << 20);
        assert_eq!(
            cache
                .get_or_load(key(1), None, body("a"))
                .await
                .unwrap()
                .body,
            "a"
        );
        tokio::time::advance(Duration::from_millis(29)).await;
        assert_eq!(
            cache
                .get_or_load(key(1), None, body("b"))
                .await
                .unwrap()
                .body,
            "a"
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(
            cache
                .get_or_load(key(1), None, body("c"))
                .await
                .unwrap()
                .body,
            "c"
        );
        let failed = cache
            .get_or_load(key(2), None, || async { Err(ApiError::Timeout) })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            cache
                .get_or_load(key(2), None, body("d"))
                .await
                .unwrap()
                .body,
            "d"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_byte_budget_evicts_the_oldest_entries_first() {
        const BODY: &str = "0123456789012345678901234567890123456789";
        let per_entry = ENTRY_OVERHEAD + BODY.len();
        let cache = ApiCache::new(Duration::from_secs(60), per_entry * 10);
        for n in 0..1_000 {
            cache.get_or_load(key(n), None, body(BODY)).await.unwrap();
            assert!(cache.bytes() <= per_entry * 10, "{} bytes", cache.bytes());
        }
        assert_eq!(cache.bytes(), per_entry * 10);
        // The newest key is still cached, the oldest was evicted.
        assert_eq!(
            cache
                .get_or_load(key(999), None, body("new"))
                .await
                .unwrap()
                .body,
            BODY
        );
        assert_eq!(
            cache
                .get_or_load(key(0), None, body("new"))
                .await
                .unwrap()
                .body,
            "new"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entries_release_their_bytes() {
        let cache = ApiCache::new(Duration::from_millis(10), 1 << 20);
        cache.get_or_load(key(1), None, body("abc")).await.unwrap();
        assert_eq!(cache.bytes(), ENTRY_OVERHEAD + 3);
        tokio::time::advance(Duration::from_millis(10)).await;
        cache.get_or_load(key(2), None, body("de")).await.unwrap();
        assert_eq!(cache.bytes(), ENTRY_OVERHEAD + 2);
    }

    #[tokio::test]
    async fn zero_ttl_disables_caching() {
        let cache = ApiCache::new(Duration::ZERO, 1 << 20);
        assert_eq!(
            cache
                .get_or_load(key(1), None, body("a"))
                .await
                .unwrap()
                .body,
            "a"
        );
        assert_eq!(
            cache
                .get_or_load(key(1), None, body("b"))
                .await
                .unwrap()
                .body,
            "b"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_compressed_variant_is_made_once_and_charged_to_its_entry() {
        let json = serde_json::to_string(&vec!["flight LA800 delayed"; 200]).unwrap();
        let plain = json.len();
        let cache = ApiCache::new(Duration::from_secs(60), 1 << 20);
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok(Bytes::from(json.clone()))
        };
        let first = cache
            .get_or_load(key(1), Some(Coding::Zstd), load)
            .await
            .unwrap();
        assert_eq!(first.coding, Some(Coding::Zstd));
        assert_eq!(zstd::decode_all(&first.body[..]).unwrap(), json.as_bytes());
        assert_ne!(first.etag, first.identity_etag);
        assert_eq!(cache.bytes(), ENTRY_OVERHEAD + plain + first.body.len());
        let again = cache
            .get_or_load(key(1), Some(Coding::Zstd), load)
            .await
            .unwrap();
        assert_eq!((again.body, again.etag), (first.body.clone(), first.etag));
        let identity = cache.get_or_load(key(1), None, load).await.unwrap();
        assert_eq!((identity.body.len(), identity.coding), (plain, None));
        assert_eq!(identity.etag, first.identity_etag);
        assert_eq!(cache.bytes(), ENTRY_OVERHEAD + plain + first.body.len());
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn small_or_incompressible_bodies_go_out_as_they_are() {
        let small = Cached::new(Bytes::from_static(b"{\"items\":[]}"));
        assert_eq!(
            small.represent(Some(Coding::Gzip)),
            (small.represent(None).0, 0)
        );
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                // xorshift64: bytes without structure for any compressor to find.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let noisy = Cached::new(Bytes::from(noise));
        for coding in Coding::ALL {
            let (representation, added) = noisy.represent(Some(coding));
            assert_eq!((representation.coding, added), (None, 0), "{coding:?}");
        }
    }

    #[test]
    fn the_etag_is_strong_and_follows_the_body() {
        let a = Cached::new(Bytes::from_static(b"a"));
        assert_eq!(a.etag, Cached::new(Bytes::from_static(b"a")).etag);
        assert_ne!(a.etag, Cached::new(Bytes::from_static(b"b")).etag);
        let text = a.etag.to_str().unwrap();
        assert!(text.starts_with('"') && text.ends_with('"') && text.len() == 34);
    }
}
