//! The mock's source of timestamps (recorded `received_at`, receipt dates).
//! Its own small trait, so the mock depends on nothing of the service it
//! stands in for; a test pins time by giving it a clock that stands still.

use chrono::{DateTime, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
