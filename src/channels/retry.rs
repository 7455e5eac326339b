//! When to try a transiently failed message again: exponential backoff with
//! jitter, never sooner than the gateway asked (`Retry-After`), and not
//! forever (the backoff of River and Oban; courier ignoring `Retry-After`
//! is what not to do).
//!
//! Our own rather than a retry crate's: those loop around a future in
//! memory, while here a retry is a reminder's next attempt time stored in
//! the database (it survives a restart); what is left is this one formula.

use std::time::Duration;

use crate::channels::settings::RetrySettings;

/// Jitter spreads retries ±20% so a gateway that comes back is not hit by
/// every waiting reminder in the same second.
const JITTER: f64 = 0.2;

/// The backoff policy of `[sms.retry]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Wait after the first failure.
    pub base: Duration,
    /// The longest wait the backoff produces (a longer `Retry-After` still wins).
    pub max: Duration,
}

impl RetryPolicy {
    pub fn from_settings(settings: &RetrySettings) -> Self {
        Self {
            max_attempts: settings.max_attempts,
            base: Duration::from_secs(settings.base_secs),
            max: Duration::from_secs(settings.max_secs),
        }
    }

    /// The wait before the next attempt after attempt number `attempt`
    /// (1 for the first) failed transiently, or `None` when that was the last
    /// allowed. `jitter` is a number in 0..1 drawn by the caller (injected so
    /// the policy is deterministic under test): 0 waits 20% less, 1 waits
    /// 20% more, 0.5 exactly `base * 2^(attempt-1)` (capped at `max`).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Option<Duration> {
        let attempt = attempt.max(1);
        if attempt >= self.max_attempts {
            return None;
        }
        let doublings = (attempt - 1).min(62) as i32;
        let exponential = self.base.as_secs_f64() * 2f64.powi(doublings);
        let capped = exponential.min(self.max.as_secs_f64());
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let spread = capped * (1.0 + JITTER * (2.0 * jitter - 1.0));
        let wait = Duration::from_secs_f64(spread.min(self.max.as_secs_f64()).max(0.0));
        Some(match retry_after {
            Some(asked) if asked > wait => asked,
            _ => wait,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::from_settings(&RetrySettings {
            max_attempts: 6,
            base_secs: 30,
            max_secs: 600,
        })
    }

    #[test]
    fn doubles_from_the_base() {
        let p = policy();
        let waits: Vec<u64> = (1..=5).map(|a| p.delay(a, None, 0.5).unwrap().as_secs()).collect();
        assert_eq!(waits, vec![30, 60, 120, 240, 480]);
    }

    #[test]
    fn capped_at_the_maximum() {
        let p = RetryPolicy {
            max_attempts: 100,
            ..policy()
        };
        assert_eq!(p.delay(10, None, 0.5), Some(Duration::from_secs(600)));
        assert_eq!(
            p.delay(90, None, 1.0),
            Some(Duration::from_secs(600)),
            "jitter never exceeds the cap"
        );
        assert_eq!(
            p.delay(90, None, 0.0),
            Some(Duration::from_secs(480)),
            "but still spreads below it"
        );
    }

    #[test]
    fn jitter_is_plus_or_minus_twenty_percent() {
        let p = policy();
        assert_eq!(p.delay(2, None, 0.0), Some(Duration::from_secs(48)));
        assert_eq!(p.delay(2, None, 1.0), Some(Duration::from_secs(72)));
        assert_eq!(p.delay(2, None, 0.25), Some(Duration::from_secs(54)));
    }

    #[test]
    fn never_sooner_than_retry_after() {
        let p = policy();
        let asked = Duration::from_secs(90);
        assert_eq!(p.delay(1, Some(asked), 0.5), Some(asked));
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3)), 0.5),
            Some(Duration::from_secs(30))
        );
        let long = Duration::from_secs(7200);
        assert_eq!(
            p.delay(1, Some(long), 0.5),
            Some(long),
            "the gateway's word beats the cap"
        );
    }

    #[test]
    fn exhausted_after_max_attempts() {
        let p = policy();
        assert!(p.delay(5, None, 0.5).is_some());
        assert_eq!(p.delay(6, None, 0.5), None);
        assert_eq!(p.delay(7, Some(Duration::from_secs(1)), 0.5), None);
        let once = RetryPolicy { max_attempts: 1, ..p };
        assert_eq!(once.delay(1, None, 0.5), None, "one attempt: no retry");
    }
}
