//! A token bucket per gateway, so we never send faster than a gateway (or
//! the SMSC behind it) accepts: Jasmin's connectors default to 1 message/s,
//! and an SMSC answers a faster sender with throttling errors.
//!
//! Our own rather than a rate-limiting crate's: one bucket of a few lines,
//! on the same [`Ticker`] as the circuit breaker, that serves waiting
//! callers in arrival order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::ticker::Ticker;

/// Tokens refill at `rate` per second up to `burst`. A caller that finds the
/// bucket empty reserves the next token (the level goes below zero) and
/// waits for it, so waiting callers are served in arrival order without
/// polling.
#[derive(Debug)]
pub struct TokenBucket {
    /// Tokens per second.
    rate: f64,
    /// The most tokens the bucket holds: `max(1, rate)`, one second's worth.
    burst: f64,
    /// Source of time.
    ticker: Arc<dyn Ticker>,
    /// The level and when it was last brought up to date.
    state: Mutex<Level>,
}

/// The bucket's level at an instant.
#[derive(Debug, Clone, Copy)]
struct Level {
    /// Tokens available; negative while callers wait for reserved ones.
    tokens: f64,
    /// When `tokens` was computed.
    at: Instant,
}

impl TokenBucket {
    /// A full bucket. `rate` must be positive (settings validation refuses
    /// anything else; a non-positive rate is treated as one per hour here
    /// rather than dividing by zero).
    pub fn new(rate: f64, ticker: Arc<dyn Ticker>) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0 / 3600.0
        };
        let burst = rate.max(1.0);
        let at = ticker.now();
        Self {
            rate,
            burst,
            ticker,
            state: Mutex::new(Level { tokens: burst, at }),
        }
    }

    /// Tokens per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Takes a token, returning how long the caller must wait before using
    /// it (zero when one was available).
    pub(crate) fn reserve(&self) -> Duration {
        let now = self.ticker.now();
        let mut level = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now.saturating_duration_since(level.at).as_secs_f64();
        level.tokens = (level.tokens + elapsed * self.rate).min(self.burst);
        level.at = now;
        level.tokens -= 1.0;
        if level.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-level.tokens / self.rate)
        }
    }

    /// Waits until a token is ours.
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::ticker::{ManualTicker, TokioTicker};

    #[test]
    fn a_burst_then_one_token_per_interval() {
        let ticker = ManualTicker::new();
        let bucket = TokenBucket::new(2.0, Arc::new(ticker.clone()));
        assert_eq!(bucket.reserve(), Duration::ZERO);
        assert_eq!(bucket.reserve(), Duration::ZERO);
        assert_eq!(bucket.reserve(), Duration::from_millis(500));
        assert_eq!(bucket.reserve(), Duration::from_millis(1000));
        ticker.advance(Duration::from_secs(10));
        // Refilled to the burst, never beyond it.
        assert_eq!(bucket.reserve(), Duration::ZERO);
        assert_eq!(bucket.reserve(), Duration::ZERO);
        assert_eq!(bucket.reserve(), Duration::from_millis(500));
    }

    #[test]
    fn a_slow_gateway_still_bursts_one() {
        let ticker = ManualTicker::new();
        let bucket = TokenBucket::new(0.5, Arc::new(ticker.clone()));
        assert_eq!(bucket.reserve(), Duration::ZERO);
        assert_eq!(bucket.reserve(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_waits_in_tokio_time() {
        let bucket = TokenBucket::new(1.0, Arc::new(TokioTicker));
        let start = Instant::now();
        for _ in 0..3 {
            bucket.acquire().await;
        }
        // Virtual time: exact, and the test takes no real time.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
