//! Dashboard pages that are slow to compute are kept. A country's page at
//! millions of participants reads every participant's paid-through month and
//! every reminder: tens of seconds, more than a request may take. Such a
//! page, once computed, is served from memory; a kept page older than
//! [`CachePolicy::max_age`] is still served, and computed again in the
//! background (one computation per page at a time). A page computed faster
//! than [`CachePolicy::keep_after`] is never kept, so a city's dashboard
//! stays live. Every page shows when its figures were computed.
//!
//! The computation runs as its own task: a request that times out leaves it
//! running, and the page is kept for the next request. Requests for a page
//! being computed wait for that computation instead of starting another.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use super::error::ApiError;

/// The computation of one page: its HTML.
pub type Compute = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, ApiError>> + Send>> + Send + Sync>;

/// Which pages are kept and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// A page whose computation took at least this long is kept.
    pub keep_after: Duration,
    /// A kept page older than this (by the injected clock) is computed again
    /// in the background when asked for; the kept one is served meanwhile.
    pub max_age: chrono::Duration,
    /// The most pages kept; the oldest goes first.
    pub max_pages: usize,
}

impl Default for CachePolicy {
    /// Kept when slower than a second, refreshed after five minutes: a
    /// dashboard of a few thousand participants is never kept.
    fn default() -> Self {
        Self {
            keep_after: Duration::from_secs(1),
            max_age: chrono::Duration::minutes(5),
            max_pages: 64,
        }
    }
}

/// One kept page.
struct Kept {
    /// The page.
    html: Arc<str>,
    /// When its computation started.
    computed_at: DateTime<Utc>,
    /// Whether a background computation of it is running.
    refreshing: bool,
}

/// A page's computation that requests share.
type InFlight = Shared<BoxFuture<'static, Result<Arc<str>, ApiError>>>;

/// The kept pages, by path and query.
#[derive(Default)]
pub struct PageCache {
    /// What is kept, and for how long.
    pub policy: CachePolicy,
    pages: Mutex<HashMap<String, Kept>>,
    /// Pages not kept whose computation runs, for requests to wait on.
    computing: Mutex<HashMap<String, InFlight>>,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.pages.lock().map_or(0, |p| p.len());
        f.debug_struct("PageCache")
            .field("policy", &self.policy)
            .field("kept", &kept)
            .finish()
    }
}

impl PageCache {
    /// A cache with `policy`.
    pub fn new(policy: CachePolicy) -> Self {
        Self {
            policy,
            pages: Mutex::default(),
            computing: Mutex::default(),
        }
    }

    /// The page `key` at `now`: the kept one (computed again in the
    /// background when older than the policy's age), else computed now and
    /// kept when that was slow.
    pub async fn page(
        self: &Arc<Self>,
        key: String,
        now: DateTime<Utc>,
        compute: Compute,
    ) -> Result<Arc<str>, ApiError> {
        if let Some(html) = self.kept(&key, now, &compute) {
            return Ok(html);
        }
        let computation = {
            let mut computing = self.computing.lock().unwrap_or_else(|e| e.into_inner());
            match computing.get(&key) {
                Some(running) => running.clone(),
                None => {
                    let running = self.spawn_computation(key.clone(), now, compute);
                    computing.insert(key, running.clone());
                    running
                }
            }
        };
        computation.await
    }

    /// Computes the page in a task of its own, which forgets itself from
    /// `computing` when done.
    fn spawn_computation(self: &Arc<Self>, key: String, now: DateTime<Utc>, compute: Compute) -> InFlight {
        let cache = Arc::clone(self);
        let task = tokio::spawn(async move {
            let result = cache.compute_and_keep(key.clone(), now, compute).await;
            cache.computing.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
            result
        });
        async move {
            task.await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "dashboard: the page's computation failed");
                Err(ApiError::Unavailable("data belum dapat dibaca; coba lagi"))
            })
        }
        .boxed()
        .shared()
    }

    /// The kept page `key`, starting its background computation when it is
    /// older than the policy's age and none runs.
    fn kept(self: &Arc<Self>, key: &str, now: DateTime<Utc>, compute: &Compute) -> Option<Arc<str>> {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        let kept = pages.get_mut(key)?;
        if now - kept.computed_at > self.policy.max_age && !kept.refreshing {
            kept.refreshing = true;
            let (cache, key, compute) = (Arc::clone(self), key.to_string(), Arc::clone(compute));
            tokio::spawn(async move {
                if cache.compute_and_keep(key.clone(), now, compute).await.is_err() {
                    cache.refresh_failed(&key);
                }
            });
        }
        Some(Arc::clone(&kept.html))
    }

    /// Computes the page and keeps it when that took at least
    /// `keep_after`, or when an older copy is kept already.
    async fn compute_and_keep(&self, key: String, now: DateTime<Utc>, compute: Compute) -> Result<Arc<str>, ApiError> {
        let started = std::time::Instant::now();
        let html: Arc<str> = compute().await?.into();
        let took = started.elapsed();
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if took >= self.policy.keep_after || pages.contains_key(&key) {
            if took >= self.policy.keep_after {
                tracing::info!(page = %key, millis = took.as_millis() as u64, "dashboard: a slow page is kept");
            }
            pages.insert(
                key,
                Kept {
                    html: Arc::clone(&html),
                    computed_at: now,
                    refreshing: false,
                },
            );
            evict_oldest(&mut pages, self.policy.max_pages);
        }
        Ok(html)
    }

    /// Lets the next request try again after a failed background computation.
    fn refresh_failed(&self, key: &str) {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(kept) = pages.get_mut(key) {
            kept.refreshing = false;
        }
    }
}

/// Drops the oldest pages until at most `max` are kept.
fn evict_oldest(pages: &mut HashMap<String, Kept>, max: usize) {
    while pages.len() > max.max(1) {
        let Some(oldest) = pages
            .iter()
            .min_by_key(|(_, k)| k.computed_at)
            .map(|(key, _)| key.clone())
        else {
            return;
        };
        pages.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A computation that counts its runs and answers with the count.
    fn counting(runs: &Arc<AtomicU32>) -> Compute {
        let runs = Arc::clone(runs);
        Arc::new(move || {
            let runs = Arc::clone(&runs);
            Box::pin(async move { Ok(format!("page {}", runs.fetch_add(1, Ordering::SeqCst) + 1)) })
        })
    }

    fn policy(keep_after: Duration) -> CachePolicy {
        CachePolicy {
            keep_after,
            max_age: chrono::Duration::minutes(5),
            max_pages: 2,
        }
    }

    #[tokio::test]
    async fn a_fast_page_is_computed_for_every_request() {
        let cache = Arc::new(PageCache::new(policy(Duration::from_secs(3600))));
        let runs = Arc::new(AtomicU32::new(0));
        let now = at("2026-07-15T03:00:00Z");
        assert_eq!(&*cache.page("/".into(), now, counting(&runs)).await.unwrap(), "page 1");
        assert_eq!(&*cache.page("/".into(), now, counting(&runs)).await.unwrap(), "page 2");
    }

    #[tokio::test]
    async fn a_slow_page_is_kept_and_refreshed_in_the_background_once_old() {
        let cache = Arc::new(PageCache::new(policy(Duration::ZERO)));
        let runs = Arc::new(AtomicU32::new(0));
        let now = at("2026-07-15T03:00:00Z");
        assert_eq!(&*cache.page("/".into(), now, counting(&runs)).await.unwrap(), "page 1");
        let later = now + chrono::Duration::minutes(4);
        assert_eq!(
            &*cache.page("/".into(), later, counting(&runs)).await.unwrap(),
            "page 1"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Older than five minutes: the kept page is served, a new one computed.
        let old = now + chrono::Duration::minutes(6);
        assert_eq!(&*cache.page("/".into(), old, counting(&runs)).await.unwrap(), "page 1");
        for _ in 0..100 {
            if runs.load(Ordering::SeqCst) == 2 {
                break;
            }
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(&*cache.page("/".into(), old, counting(&runs)).await.unwrap(), "page 2");
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn requests_for_a_page_being_computed_share_its_computation() {
        let cache = Arc::new(PageCache::new(policy(Duration::from_secs(3600))));
        let runs = Arc::new(AtomicU32::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let slow: Compute = {
            let runs = Arc::clone(&runs);
            Arc::new(move || {
                let (runs, mut released) = (Arc::clone(&runs), released.clone());
                Box::pin(async move {
                    let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                    let _ = released.wait_for(|r| *r).await;
                    Ok(format!("page {n}"))
                })
            })
        };
        let now = at("2026-07-15T03:00:00Z");
        let first = tokio::spawn({
            let (cache, slow) = (Arc::clone(&cache), Arc::clone(&slow));
            async move { cache.page("/".into(), now, slow).await }
        });
        while runs.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let second = tokio::spawn({
            let (cache, slow) = (Arc::clone(&cache), Arc::clone(&slow));
            async move { cache.page("/".into(), now, slow).await }
        });
        tokio::task::yield_now().await;
        release.send(true).unwrap();
        assert_eq!(&*first.await.unwrap().unwrap(), "page 1");
        assert_eq!(&*second.await.unwrap().unwrap(), "page 1");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Done and not kept (it was fast): the next request computes again.
        assert_eq!(&*cache.page("/".into(), now, slow).await.unwrap(), "page 2");
    }

    #[tokio::test]
    async fn the_oldest_page_goes_first_beyond_the_limit() {
        let cache = Arc::new(PageCache::new(policy(Duration::ZERO)));
        let runs = Arc::new(AtomicU32::new(0));
        let now = at("2026-07-15T03:00:00Z");
        for (i, key) in ["/a", "/b", "/c"].into_iter().enumerate() {
            let when = now + chrono::Duration::seconds(i as i64);
            cache.page(key.into(), when, counting(&runs)).await.unwrap();
        }
        let kept: Vec<String> = {
            let pages = cache.pages.lock().unwrap();
            let mut keys: Vec<String> = pages.keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(kept, ["/b", "/c"]);
    }

    #[tokio::test]
    async fn an_error_is_answered_and_not_kept() {
        let cache = Arc::new(PageCache::new(policy(Duration::ZERO)));
        let failing: Compute = Arc::new(|| Box::pin(async { Err(ApiError::BadRequest("hal".into())) }));
        let now = at("2026-07-15T03:00:00Z");
        assert!(matches!(
            cache.page("/".into(), now, failing).await,
            Err(ApiError::BadRequest(_))
        ));
        assert!(cache.pages.lock().unwrap().is_empty());
    }
}
