//! Faults injected on request: failures, rate limits, latency, requests held
//! until the client gives up, rejected numbers, and the gateway being down.
//!
//! Every setting is an atomic so the send path reads them without a lock;
//! only the rejected-number set sits behind a read-write lock, and it is only
//! consulted when non-empty.

use std::collections::HashSet;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::outcome::number_key;

/// The fault settings as `GET /control` shows them and as the gateway is
/// started with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSettings {
    /// The next this-many sends fail with `status`.
    pub fail_next: u64,
    /// HTTP status of those failures (4xx or 5xx).
    pub status: u16,
    /// The next this-many sends are refused with 429.
    pub rate_limit_next: u64,
    /// `Retry-After` seconds on 429 answers.
    pub retry_after_secs: u64,
    /// Delay added to every send.
    pub latency_ms: u64,
    /// The next this-many sends get no answer until the client gives up.
    pub timeout_next: u64,
    /// Recipients refused with the preset's permanent error.
    pub reject_numbers: Vec<String>,
    /// Every send gets 503 and its connection closed until cleared.
    pub down: bool,
}

impl Default for FaultSettings {
    fn default() -> Self {
        Self {
            fail_next: 0,
            status: 503,
            rate_limit_next: 0,
            retry_after_secs: 1,
            latency_ms: 0,
            timeout_next: 0,
            reject_numbers: Vec::new(),
            down: false,
        }
    }
}

/// A change posted to `POST /control`; absent fields stay as they are.
///
/// Examples: `{"fail_next": 5, "status": 503}`, `{"rate_limit_next": 3,
/// "retry_after_secs": 2}`, `{"latency_ms": 200}`, `{"timeout_next": 2}`,
/// `{"reject_numbers": ["+6281234567890"]}`, `{"down": true}`,
/// `{"reset": true}` (back to no faults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultUpdate {
    /// Clears every fault before the other fields apply.
    #[serde(default)]
    pub reset: bool,
    /// See [`FaultSettings::fail_next`].
    pub fail_next: Option<u64>,
    /// See [`FaultSettings::status`].
    pub status: Option<u16>,
    /// See [`FaultSettings::rate_limit_next`].
    pub rate_limit_next: Option<u64>,
    /// See [`FaultSettings::retry_after_secs`].
    pub retry_after_secs: Option<u64>,
    /// See [`FaultSettings::latency_ms`].
    pub latency_ms: Option<u64>,
    /// See [`FaultSettings::timeout_next`].
    pub timeout_next: Option<u64>,
    /// Replaces the rejected numbers (an empty list clears them).
    pub reject_numbers: Option<Vec<String>>,
    /// See [`FaultSettings::down`].
    pub down: Option<bool>,
}

/// A fault that decides a send's answer before the preset looks at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The gateway is down: 503, connection closed.
    Down,
    /// An injected failure with this status.
    Fail { status: u16 },
    /// Too many requests; retry after this many seconds.
    RateLimited { retry_after_secs: u64 },
    /// A held request released without the client giving up (shutdown or
    /// the hold limit); answered 503.
    Released,
}

/// The live fault state.
#[derive(Debug)]
pub struct Faults {
    /// See [`FaultSettings::down`].
    down: AtomicBool,
    /// See [`FaultSettings::latency_ms`].
    latency_ms: AtomicU64,
    /// See [`FaultSettings::fail_next`].
    fail_next: AtomicU64,
    /// See [`FaultSettings::status`].
    status: AtomicU16,
    /// See [`FaultSettings::rate_limit_next`].
    rate_limit_next: AtomicU64,
    /// See [`FaultSettings::retry_after_secs`].
    retry_after_secs: AtomicU64,
    /// See [`FaultSettings::timeout_next`].
    timeout_next: AtomicU64,
    /// Rejected recipients as written, for `GET /control`.
    reject_written: RwLock<Vec<String>>,
    /// Rejected recipients by [`number_key`], for matching.
    reject_keys: RwLock<HashSet<String>>,
    /// Whether `reject_keys` is non-empty; lets the send path skip the lock.
    any_rejected: AtomicBool,
    /// Sends answered by an injected fault (rejections included).
    injected: AtomicU64,
}

/// Why a control update was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// A failure status must be an HTTP error status, or clients would read
    /// the failure as success.
    #[error("status must be between 400 and 599, got {0}")]
    Status(u16),
}

impl Faults {
    pub fn new(initial: &FaultSettings) -> Result<Self, FaultError> {
        let faults = Self {
            down: AtomicBool::new(false),
            latency_ms: AtomicU64::new(0),
            fail_next: AtomicU64::new(0),
            status: AtomicU16::new(503),
            rate_limit_next: AtomicU64::new(0),
            retry_after_secs: AtomicU64::new(1),
            timeout_next: AtomicU64::new(0),
            reject_written: RwLock::new(Vec::new()),
            reject_keys: RwLock::new(HashSet::new()),
            any_rejected: AtomicBool::new(false),
            injected: AtomicU64::new(0),
        };
        faults.apply(&FaultUpdate {
            reset: true,
            fail_next: Some(initial.fail_next),
            status: Some(initial.status),
            rate_limit_next: Some(initial.rate_limit_next),
            retry_after_secs: Some(initial.retry_after_secs),
            latency_ms: Some(initial.latency_ms),
            timeout_next: Some(initial.timeout_next),
            reject_numbers: Some(initial.reject_numbers.clone()),
            down: Some(initial.down),
        })?;
        Ok(faults)
    }

    /// Applies a control update; on error nothing changes.
    pub fn apply(&self, update: &FaultUpdate) -> Result<(), FaultError> {
        if let Some(status) = update.status
            && !(400..=599).contains(&status)
        {
            return Err(FaultError::Status(status));
        }
        if update.reset {
            self.set_rejected(Vec::new());
            self.down.store(false, Ordering::Relaxed);
            self.latency_ms.store(0, Ordering::Relaxed);
            self.fail_next.store(0, Ordering::Relaxed);
            self.status.store(503, Ordering::Relaxed);
            self.rate_limit_next.store(0, Ordering::Relaxed);
            self.retry_after_secs.store(1, Ordering::Relaxed);
            self.timeout_next.store(0, Ordering::Relaxed);
        }
        let store = |cell: &AtomicU64, value: Option<u64>| {
            if let Some(v) = value {
                cell.store(v, Ordering::Relaxed);
            }
        };
        store(&self.fail_next, update.fail_next);
        store(&self.rate_limit_next, update.rate_limit_next);
        store(&self.retry_after_secs, update.retry_after_secs);
        store(&self.latency_ms, update.latency_ms);
        store(&self.timeout_next, update.timeout_next);
        if let Some(status) = update.status {
            self.status.store(status, Ordering::Relaxed);
        }
        if let Some(down) = update.down {
            self.down.store(down, Ordering::Relaxed);
        }
        if let Some(numbers) = &update.reject_numbers {
            self.set_rejected(numbers.clone());
        }
        Ok(())
    }

    fn set_rejected(&self, numbers: Vec<String>) {
        let keys: HashSet<String> = numbers.iter().map(|n| number_key(n)).collect();
        self.any_rejected.store(!keys.is_empty(), Ordering::Relaxed);
        *self.reject_keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        *self.reject_written.write().unwrap_or_else(|e| e.into_inner()) = numbers;
    }

    /// The current settings.
    pub fn settings(&self) -> FaultSettings {
        FaultSettings {
            fail_next: self.fail_next.load(Ordering::Relaxed),
            status: self.status.load(Ordering::Relaxed),
            rate_limit_next: self.rate_limit_next.load(Ordering::Relaxed),
            retry_after_secs: self.retry_after_secs.load(Ordering::Relaxed),
            latency_ms: self.latency_ms.load(Ordering::Relaxed),
            timeout_next: self.timeout_next.load(Ordering::Relaxed),
            reject_numbers: self.reject_written.read().unwrap_or_else(|e| e.into_inner()).clone(),
            down: self.down.load(Ordering::Relaxed),
        }
    }

    /// Sends answered by an injected fault so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// Runs the faults that apply before a send is looked at: down, latency,
    /// a held request, an injected failure, a rate limit. `None` lets the
    /// send through.
    ///
    /// A held request waits until the client disconnects (the server then
    /// drops this future), the gateway shuts down, or `hold` passes.
    pub async fn before_send(&self, shutdown: &CancellationToken, hold: Duration) -> Option<Fault> {
        if self.down.load(Ordering::Relaxed) {
            return Some(self.count(Fault::Down));
        }
        let latency = self.latency_ms.load(Ordering::Relaxed);
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        if take_one(&self.timeout_next) {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep(hold) => {}
            }
            return Some(self.count(Fault::Released));
        }
        if take_one(&self.fail_next) {
            let status = self.status.load(Ordering::Relaxed);
            return Some(self.count(Fault::Fail { status }));
        }
        if take_one(&self.rate_limit_next) {
            let retry_after_secs = self.retry_after_secs.load(Ordering::Relaxed);
            return Some(self.count(Fault::RateLimited { retry_after_secs }));
        }
        None
    }

    /// Whether `to` is on the rejected list; counts the rejection.
    pub fn rejects(&self, to: &str) -> bool {
        if !self.any_rejected.load(Ordering::Relaxed) {
            return false;
        }
        let rejected = self
            .reject_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&number_key(to));
        if rejected {
            self.injected.fetch_add(1, Ordering::Relaxed);
        }
        rejected
    }

    fn count(&self, fault: Fault) -> Fault {
        self.injected.fetch_add(1, Ordering::Relaxed);
        fault
    }
}

/// Takes one from a countdown; false when it is already zero.
fn take_one(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn countdowns_run_out_in_order() {
        let faults = Faults::new(&FaultSettings::default()).unwrap();
        faults
            .apply(&FaultUpdate {
                fail_next: Some(1),
                status: Some(500),
                rate_limit_next: Some(1),
                retry_after_secs: Some(7),
                ..FaultUpdate::default()
            })
            .unwrap();
        let token = CancellationToken::new();
        let hold = Duration::from_secs(1);
        assert_eq!(
            faults.before_send(&token, hold).await,
            Some(Fault::Fail { status: 500 })
        );
        assert_eq!(
            faults.before_send(&token, hold).await,
            Some(Fault::RateLimited { retry_after_secs: 7 })
        );
        assert_eq!(faults.before_send(&token, hold).await, None);
        assert_eq!(faults.injected(), 2);
    }

    #[tokio::test]
    async fn a_held_request_is_released_at_shutdown() {
        let faults = Faults::new(&FaultSettings {
            timeout_next: 1,
            ..FaultSettings::default()
        })
        .unwrap();
        let token = CancellationToken::new();
        token.cancel();
        assert_eq!(
            faults.before_send(&token, Duration::from_secs(3600)).await,
            Some(Fault::Released)
        );
        assert_eq!(faults.settings().timeout_next, 0);
    }

    #[test]
    fn rejected_numbers_match_in_any_written_form_and_reset_clears() {
        let faults = Faults::new(&FaultSettings {
            reject_numbers: vec!["+62 812-3456-7890".into()],
            down: true,
            ..FaultSettings::default()
        })
        .unwrap();
        assert!(faults.rejects("6281234567890"));
        assert!(faults.rejects("081234567890"));
        assert!(!faults.rejects("+6281234567891"));
        faults
            .apply(&FaultUpdate {
                reset: true,
                ..FaultUpdate::default()
            })
            .unwrap();
        assert_eq!(faults.settings(), FaultSettings::default());
        assert!(!faults.rejects("6281234567890"));
    }

    #[test]
    fn a_success_status_is_refused() {
        let faults = Faults::new(&FaultSettings::default()).unwrap();
        let update = FaultUpdate {
            fail_next: Some(3),
            status: Some(200),
            ..FaultUpdate::default()
        };
        assert_eq!(faults.apply(&update), Err(FaultError::Status(200)));
        assert_eq!(faults.settings().fail_next, 0);
    }
}
