//! `[sms]`, `[email]` and `[delivery]`: the gateways reminders go out
//! through, the SMTP relay, and the dispatcher's pace.
//!
//! One gateway's settings (`[[sms.gateway]]`) belong to the gateways'
//! module, [`crate::channels::sms::providers`], and are re-exported here.
//!
//! Secrets (gateway passwords, API keys, receipt tokens, the SMTP password)
//! never need to be in the file: each is read from an environment variable
//! (`*_env`) or a file (`*_file`, relative paths resolved in systemd's
//! `$CREDENTIALS_DIRECTORY` when set; [`read_secret`]).

use std::path::PathBuf;

use serde::Deserialize;

pub use super::secret::{SecretError, read_secret};
pub use super::sms::providers::Preset;
pub use super::sms::providers::settings::{GatewaySettings, ReceiptAuth};
pub use super::sms::providers::{WebhookReceiptSettings, WebhookSettings, default_idempotency_header};

/// `[sms]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsSettings {
    /// The gateways, tried in `priority` order (lowest first) with failover.
    #[serde(rename = "gateway")]
    pub gateways: Vec<GatewaySettings>,
    /// When to retry a transient failure.
    pub retry: RetrySettings,
}

/// `[sms.retry]`: exponential backoff with jitter for transient failures.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySettings {
    /// Attempts in all before a reminder fails.
    pub max_attempts: u32,
    /// The first wait, in seconds; each retry doubles it (with jitter).
    pub base_secs: u64,
    /// The longest wait, in seconds.
    pub max_secs: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_secs: 30,
            max_secs: 3_600,
        }
    }
}

/// `[email]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSettings {
    /// Send e-mail reminders at all.
    pub enabled: bool,
    /// SMTP relay host.
    pub host: String,
    /// 587 for STARTTLS, 465 for implicit TLS, 25 or any for a plain local relay.
    pub port: u16,
    /// `starttls`, `tls` or `none` (plain, for a relay on localhost only).
    pub tls: String,
    /// SMTP AUTH user; none: no AUTH.
    pub username: Option<String>,
    /// Environment variable holding the SMTP password.
    pub password_env: Option<String>,
    /// File holding the SMTP password (relative: in `$CREDENTIALS_DIRECTORY`).
    pub password_file: Option<PathBuf>,
    /// The From address, e.g. `BPJS Ketenagakerjaan Kota Metro <pengingat@metrokota.go.id>`.
    pub from: String,
    /// Reply-To address, if replies should go elsewhere.
    pub reply_to: Option<String>,
    /// Pooled SMTP connections.
    pub pool_size: u32,
    /// Seconds before an SMTP exchange counts as failed (transient).
    pub timeout_secs: u64,
    /// PEM file of a CA (or the relay's self-signed certificate) trusted in
    /// addition to the system's roots, for a relay with a private CA.
    pub ca_file: Option<PathBuf>,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            host: "127.0.0.1".into(),
            port: 25,
            tls: "none".into(),
            username: None,
            password_env: None,
            password_file: None,
            from: "pengingat@localhost.localdomain".into(),
            reply_to: None,
            pool_size: 4,
            timeout_secs: 30,
            ca_file: None,
        }
    }
}

/// `[delivery]`: the dispatcher.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySettings {
    /// Dispatch reminders at all (off: the daemon only scans).
    pub enabled: bool,
    /// The URL gateways reach this daemon at, for receipts (`…/receipts/{gateway}`).
    pub public_url: String,
    /// The most reminders one claim takes (SMS claims are also bounded by
    /// what the gateways' rate limits send within `lease_secs`).
    pub batch_size: u32,
    /// Messages in flight at once per daemon: at most this many can be
    /// re-sent after a crash.
    pub concurrency: u32,
    /// Batches worked on at once by a stepped dispatcher (`pengingat demo`);
    /// the daemon's dispatcher claims ahead of its senders instead.
    pub batches_in_flight: u32,
    /// Seconds without a heartbeat after which another daemon takes a
    /// daemon for gone and releases its claims to be sent again.
    pub lease_secs: u64,
    /// Seconds between heartbeats; each renews all of a daemon's claims.
    /// Must be well below `lease_secs`.
    pub heartbeat_secs: u64,
    /// Seconds a graceful stop waits for messages already at a gateway
    /// before recording and exiting; below the unit's `TimeoutStopSec`.
    pub stop_deadline_secs: u64,
    /// Milliseconds between polls when nothing is due.
    pub poll_ms: u64,
    /// Hours after sending with no final receipt before a reminder becomes `unknown`.
    pub receipt_timeout_hours: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            public_url: "http://127.0.0.1:8080".into(),
            batch_size: 2_000,
            concurrency: 64,
            batches_in_flight: 2,
            lease_secs: 15,
            heartbeat_secs: 3,
            stop_deadline_secs: 20,
            poll_ms: 1_000,
            receipt_timeout_hours: 72,
        }
    }
}

/// The unit's `TimeoutStopSec`: systemd kills the daemon after this long.
pub const UNIT_STOP_TIMEOUT_SECS: u64 = 30;

impl DeliverySettings {
    /// What is wrong with the dispatcher's timing: (setting, problem).
    pub(crate) fn timing_problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.heartbeat_secs == 0 || self.heartbeat_secs * 2 > self.lease_secs {
            problems.push((
                "delivery.heartbeat_secs",
                format!(
                    "{} must be at least 1 and at most half of delivery.lease_secs ({}), so that a live \
                     daemon's claims are renewed before others take it for gone",
                    self.heartbeat_secs, self.lease_secs
                ),
            ));
        }
        if self.stop_deadline_secs + 5 > UNIT_STOP_TIMEOUT_SECS {
            problems.push((
                "delivery.stop_deadline_secs",
                format!(
                    "{} must leave at least 5 s of the unit's TimeoutStopSec ({UNIT_STOP_TIMEOUT_SECS} s) to \
                     record outcomes and exit; at most {}",
                    self.stop_deadline_secs,
                    UNIT_STOP_TIMEOUT_SECS - 5
                ),
            ));
        }
        problems
    }
}
