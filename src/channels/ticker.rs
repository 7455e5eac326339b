//! The monotonic time source of token buckets and circuit breakers.
//!
//! [`crate::clock::Clock`] gives wall-clock instants for decisions about
//! calendars; rate limits and breakers need monotonic time instead, and tests
//! need to move it without sleeping. [`TokioTicker`] follows tokio's clock
//! (so `#[tokio::test(start_paused = true)]` controls it); [`ManualTicker`]
//! moves only when told, for tests that talk to real sockets, where paused
//! tokio time would fire every timeout at once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// A source of monotonic instants.
pub trait Ticker: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Instant;
}

/// Tokio's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTicker;

impl Ticker for TokioTicker {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that stands still until [`ManualTicker::advance`]; clones share it.
#[derive(Debug, Clone)]
pub struct ManualTicker {
    /// The current instant.
    now: Arc<Mutex<Instant>>,
}

impl ManualTicker {
    /// Starts at tokio's current instant.
    pub fn new() -> Self {
        Self {
            now: Arc::new(Mutex::new(Instant::now())),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Default for ManualTicker {
    fn default() -> Self {
        Self::new()
    }
}

impl Ticker for ManualTicker {
    fn now(&self) -> Instant {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}
