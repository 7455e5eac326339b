//! What the receipt modules of the presets send with: the callback client,
//! the clock, the credentials (the Twilio token signs callbacks), the receipt
//! settings, the counters of `GET /stats`, and the limit of callbacks in
//! flight. It sits below both the presets and the receipt scheduler.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::Clock;
use crate::{Credentials, MockGatewayConfig, ReceiptConfig};

/// Counters shown by `GET /stats`.
#[derive(Debug, Default)]
pub struct ReceiptStats {
    /// Receipts queued.
    pub queued: AtomicU64,
    /// Receipts dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Callback requests the target accepted.
    pub callbacks_sent: AtomicU64,
    /// Callback requests that failed (no answer, error status, no Jasmin ACK).
    pub callbacks_failed: AtomicU64,
}

/// What callback tasks need.
#[derive(Debug)]
pub struct Courier {
    /// The HTTP client (pooled, no proxy: targets are the sender's own).
    pub client: reqwest::Client,
    /// Source of receipt timestamps.
    pub clock: Arc<dyn Clock>,
    /// Credentials (the Twilio token signs callbacks).
    pub credentials: Credentials,
    /// Receipt settings.
    pub config: ReceiptConfig,
    /// Shared counters.
    pub stats: Arc<ReceiptStats>,
    /// Callback requests in flight.
    permits: Arc<Semaphore>,
}

impl Courier {
    /// A courier for callbacks sent over `client`, at most `concurrency` in flight.
    pub fn new(
        client: reqwest::Client,
        config: &MockGatewayConfig,
        stats: Arc<ReceiptStats>,
        concurrency: usize,
    ) -> Self {
        Self {
            client,
            clock: config.clock.clone(),
            credentials: config.credentials.clone(),
            config: config.receipts.clone(),
            stats,
            permits: Arc::new(Semaphore::new(concurrency)),
        }
    }

    /// Counts one callback request's outcome.
    pub fn count(&self, ok: bool) {
        let counter = if ok {
            &self.stats.callbacks_sent
        } else {
            &self.stats.callbacks_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A slot for one callback request in flight.
    pub async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().acquire_owned().await.ok()
    }
}
