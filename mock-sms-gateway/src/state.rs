//! The gateway's shared state and the acceptance of one message.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::faults::{Fault, FaultError, Faults};
use crate::idempotency::Idempotency;
use crate::outcome::decides_delivered;
use crate::receipts::{ReceiptKind, ReceiptQueue};
use crate::store::{FinalStatus, MessageStore, Preset, RecordedMessage};
use crate::{Credentials, MockGatewayConfig, ReceiptConfig};

/// What every handler shares.
pub type Shared = Arc<Gateway>;

/// The running gateway.
#[derive(Debug)]
pub struct Gateway {
    /// Credentials each preset checks.
    pub credentials: Credentials,
    /// Receipt settings (the decision's seed and ratio among them).
    pub receipt_config: ReceiptConfig,
    /// Longest hold of a `timeout_next` request.
    pub timeout_hold: Duration,
    /// Source of timestamps.
    pub clock: Arc<dyn Clock>,
    /// Accepted messages.
    pub store: MessageStore,
    /// Idempotency keys accepted, and the duplicates suppressed.
    pub idempotency: Idempotency,
    /// Injected faults.
    pub faults: Faults,
    /// Where receipts are queued.
    pub receipts: ReceiptQueue,
    /// Cancelled when the gateway shuts down; releases held requests.
    pub shutdown: CancellationToken,
    /// Requests `/sink` received.
    pub sink_hits: AtomicU64,
    /// Send requests refused for wrong credentials.
    pub unauthenticated: AtomicU64,
}

/// A message a preset accepted, in the preset-neutral form that is recorded.
#[derive(Debug)]
pub struct Accepted {
    /// The wire format it came in.
    pub preset: Preset,
    /// The recipient as sent.
    pub to: String,
    /// The sender, when given.
    pub from: Option<String>,
    /// The decoded text.
    pub text: String,
    /// The data coding asked for.
    pub coding: Option<u8>,
    /// The sender's own reference, when there is one.
    pub reference: Option<String>,
    /// The id the gateway gave it.
    pub message_id: String,
    /// Where receipts go, when asked for.
    pub callback_url: Option<String>,
}

impl Gateway {
    pub fn new(
        config: MockGatewayConfig,
        receipts: ReceiptQueue,
        shutdown: CancellationToken,
    ) -> Result<Self, FaultError> {
        Ok(Self {
            faults: Faults::new(&config.faults)?,
            store: MessageStore::new(config.max_recorded),
            idempotency: Idempotency::default(),
            credentials: config.credentials,
            receipt_config: config.receipts,
            timeout_hold: config.timeout_hold,
            clock: config.clock,
            receipts,
            shutdown,
            sink_hits: AtomicU64::new(0),
            unauthenticated: AtomicU64::new(0),
        })
    }

    /// The faults that answer a send before its preset looks at it.
    pub async fn before_send(&self) -> Option<Fault> {
        self.faults.before_send(&self.shutdown, self.timeout_hold).await
    }

    /// Whether receipts are sent at all; presets skip building them if not.
    pub fn sends_receipts(&self) -> bool {
        self.receipts.enabled()
    }

    /// Decides how the message ends and records it.
    pub fn accept(&self, message: Accepted) -> FinalStatus {
        let config = &self.receipt_config;
        let status = if decides_delivered(config.seed, config.delivered_ratio, &message.to, &message.text) {
            FinalStatus::Delivered
        } else {
            FinalStatus::Undelivered
        };
        self.store.record(RecordedMessage {
            seq: 0,
            preset: message.preset,
            to: message.to,
            from: message.from,
            text: message.text,
            coding: message.coding,
            reference: message.reference,
            message_id: message.message_id,
            callback_url: message.callback_url,
            final_status: status,
            received_at: self.clock.now(),
        });
        status
    }

    /// Queues the receipt of a message that ends with `status`.
    pub fn queue_receipt(&self, status: FinalStatus, kind: ReceiptKind) {
        self.receipts.enqueue(status == FinalStatus::Delivered, kind);
    }
}
