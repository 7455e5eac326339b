//! A circuit breaker per gateway: after repeated transient failures the
//! gateway is skipped (the pool fails over at once instead of waiting out a
//! timeout per message), then one probe is let through to see whether it
//! is back.
//!
//! Our own rather than a crate's: three states in one mutex, on the same
//! [`Ticker`] as the rate limit so tests move time without sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::ticker::Ticker;

/// Consecutive transient failures that open the breaker.
pub(crate) const FAILURE_THRESHOLD: u32 = 5;
/// How long an open breaker stays open before a probe.
pub(crate) const OPEN_FOR: Duration = Duration::from_secs(30);

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Sends go through; this many transient failures in a row so far.
    Closed { failures: u32 },
    /// Sends are refused until this instant.
    Open { until: Instant },
    /// The open period is over: the next send is a probe; while it is in
    /// flight other sends are refused.
    HalfOpen { probing: bool },
}

impl BreakerState {
    /// A name for logs and status pages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Closed { .. } => "closed",
            Self::Open { .. } => "open",
            Self::HalfOpen { .. } => "half-open",
        }
    }
}

/// A consecutive-failure circuit breaker.
#[derive(Debug)]
pub struct CircuitBreaker {
    /// Failures that open it.
    threshold: u32,
    /// How long it stays open.
    open_for: Duration,
    /// Source of time.
    ticker: Arc<dyn Ticker>,
    /// The state.
    state: Mutex<BreakerState>,
}

/// Leave to send one message; report how it went with [`Permit::succeeded`]
/// or [`Permit::failed`]. A permit dropped without a report (the send was
/// cancelled) frees a probe slot without judging the gateway.
#[derive(Debug)]
pub struct Permit<'a> {
    /// The breaker that gave it.
    breaker: &'a CircuitBreaker,
    /// Whether this send is the half-open probe.
    probe: bool,
    /// Whether the outcome was reported.
    reported: bool,
}

impl CircuitBreaker {
    /// A closed breaker with the default threshold and open period.
    pub fn new(ticker: Arc<dyn Ticker>) -> Self {
        Self::with_limits(FAILURE_THRESHOLD, OPEN_FOR, ticker)
    }

    /// A closed breaker that opens after `threshold` (at least 1) consecutive
    /// failures, for `open_for`.
    pub(crate) fn with_limits(threshold: u32, open_for: Duration, ticker: Arc<dyn Ticker>) -> Self {
        Self {
            threshold: threshold.max(1),
            open_for,
            ticker,
            state: Mutex::new(BreakerState::Closed { failures: 0 }),
        }
    }

    /// The state now (an open breaker whose time is up reads half-open).
    pub fn state(&self) -> BreakerState {
        let mut state = self.lock();
        self.expire(&mut state);
        *state
    }

    /// Leave to send, or `Err(until)` with when the breaker may let a probe
    /// through (`None`: a probe is already in flight).
    pub(crate) fn try_acquire(&self) -> Result<Permit<'_>, Option<Instant>> {
        let mut state = self.lock();
        self.expire(&mut state);
        match *state {
            BreakerState::Closed { .. } => Ok(Permit {
                breaker: self,
                probe: false,
                reported: false,
            }),
            BreakerState::Open { until } => Err(Some(until)),
            BreakerState::HalfOpen { probing: true } => Err(None),
            BreakerState::HalfOpen { probing: false } => {
                *state = BreakerState::HalfOpen { probing: true };
                Ok(Permit {
                    breaker: self,
                    probe: true,
                    reported: false,
                })
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Turns an open breaker whose time is up half-open.
    fn expire(&self, state: &mut BreakerState) {
        if let BreakerState::Open { until } = *state
            && self.ticker.now() >= until
        {
            *state = BreakerState::HalfOpen { probing: false };
        }
    }

    fn record_success(&self) {
        *self.lock() = BreakerState::Closed { failures: 0 };
    }

    fn record_failure(&self, probe: bool) {
        let mut state = self.lock();
        let open = BreakerState::Open {
            until: self.ticker.now() + self.open_for,
        };
        *state = match *state {
            BreakerState::Closed { failures } if failures + 1 >= self.threshold => open,
            BreakerState::Closed { failures } => BreakerState::Closed { failures: failures + 1 },
            // A failed probe opens it again; a send that started before the
            // breaker opened and failed after changes nothing.
            BreakerState::HalfOpen { .. } if probe => open,
            other => other,
        };
    }

    fn release_probe(&self) {
        let mut state = self.lock();
        if *state == (BreakerState::HalfOpen { probing: true }) {
            *state = BreakerState::HalfOpen { probing: false };
        }
    }
}

impl Permit<'_> {
    /// The gateway answered (an acceptance, or a refusal that is about the
    /// message, not the gateway): it is healthy.
    pub fn succeeded(mut self) {
        self.reported = true;
        self.breaker.record_success();
    }

    /// The gateway failed transiently.
    pub fn failed(mut self) {
        self.reported = true;
        self.breaker.record_failure(self.probe);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.reported {
            self.breaker.release_probe();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::ticker::ManualTicker;

    fn breaker() -> (CircuitBreaker, ManualTicker) {
        let ticker = ManualTicker::new();
        (CircuitBreaker::new(Arc::new(ticker.clone())), ticker)
    }

    fn fail(breaker: &CircuitBreaker, times: u32) {
        for _ in 0..times {
            breaker.try_acquire().unwrap().failed();
        }
    }

    #[test]
    fn opens_after_five_consecutive_failures() {
        let (breaker, _) = breaker();
        fail(&breaker, 4);
        breaker.try_acquire().unwrap().succeeded();
        fail(&breaker, 4);
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 4 });
        fail(&breaker, 1);
        assert!(matches!(breaker.state(), BreakerState::Open { .. }));
        assert!(matches!(breaker.try_acquire(), Err(Some(_))));
    }

    #[test]
    fn half_open_lets_one_probe_through_and_success_closes() {
        let (breaker, ticker) = breaker();
        fail(&breaker, 5);
        ticker.advance(OPEN_FOR - Duration::from_millis(1));
        assert!(breaker.try_acquire().is_err());
        ticker.advance(Duration::from_millis(1));
        let probe = breaker.try_acquire().unwrap();
        assert_eq!(breaker.try_acquire().err(), Some(None), "one probe at a time");
        probe.succeeded();
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 0 });
    }

    #[test]
    fn a_failed_probe_opens_it_again_and_a_dropped_one_frees_the_slot() {
        let (breaker, ticker) = breaker();
        fail(&breaker, 5);
        ticker.advance(OPEN_FOR);
        breaker.try_acquire().unwrap().failed();
        assert!(matches!(breaker.state(), BreakerState::Open { .. }));
        ticker.advance(OPEN_FOR);
        drop(breaker.try_acquire().unwrap());
        assert_eq!(breaker.state(), BreakerState::HalfOpen { probing: false });
        assert!(breaker.try_acquire().is_ok());
    }
}
