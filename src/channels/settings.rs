//! `[sms]`, `[email]` and `[delivery]`: the gateways reminders go out
//! through, the SMTP relay, and the dispatcher's pace.
//!
//! Secrets (gateway passwords, API keys, receipt tokens, the SMTP password)
//! never need to be in the file: each is read from an environment variable
//! (`*_env`) or a file (`*_file`, relative paths resolved in systemd's
//! `$CREDENTIALS_DIRECTORY` when set).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

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

/// The wire format a gateway speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Kannel `GET /cgi-bin/sendsms`, receipts to `dlr-url` with `%d`.
    Kannel,
    /// Jasmin HTTP API `/send`, receipts answered `ACK/Jasmin`.
    Jasmin,
    /// Twilio Messages API, `StatusCallback` signed with `X-Twilio-Signature`.
    Twilio,
    /// Infobip SMS API v3, delivery reports as `{"results": [...]}`.
    Infobip,
    /// Any HTTP API, described by `[sms.gateway.webhook]`.
    Webhook,
}

impl Preset {
    /// The most segments the gateway sends of one message by default:
    /// Kannel's smsbox `max-messages` (10; a longer text is cut while
    /// smsbox still answers "0: Accepted"), Jasmin's
    /// `long_content_max_parts` (5), Twilio's 1,600-character body limit
    /// (10 GSM-7 segments fit, error 21617 beyond), and 10 for Infobip and
    /// generic webhooks.
    pub fn default_max_segments(self) -> u32 {
        match self {
            Self::Jasmin => 5,
            Self::Kannel | Self::Twilio | Self::Infobip | Self::Webhook => 10,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kannel => "kannel",
            Self::Jasmin => "jasmin",
            Self::Twilio => "twilio",
            Self::Infobip => "infobip",
            Self::Webhook => "webhook",
        }
    }
}

/// `[[sms.gateway]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// Unique name; stored with each reminder it sends and used in its receipt URL
    /// (`{delivery.public_url}/receipts/{name}`).
    pub name: String,
    pub preset: Preset,
    /// Where the gateway's API is, e.g. `http://smsbox:13013`, `https://api.twilio.com`.
    pub base_url: String,
    /// Kannel/Jasmin user name, or the Twilio Account SID.
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the password, Twilio auth token or Infobip API key.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the same (relative: in `$CREDENTIALS_DIRECTORY`).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Sender id or number (`from`).
    #[serde(default)]
    pub sender: Option<String>,
    /// Token bucket: messages per second this gateway accepts.
    #[serde(default = "default_rate")]
    pub rate_limit_per_second: f64,
    /// Per-request timeout in milliseconds; a timeout is a transient failure.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Lower is tried first; the next one takes over while a gateway is down.
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// Environment variable holding the secret receipts to this gateway's
    /// endpoint must carry (query `token` or `Authorization: Bearer`).
    /// Twilio receipts are verified by signature instead.
    #[serde(default)]
    pub receipt_token_env: Option<String>,
    /// File holding the receipt secret.
    #[serde(default)]
    pub receipt_token_file: Option<PathBuf>,
    /// How Kannel's receipts prove they come from our `dlr-url`: `token`
    /// (the receipt token rides in it, and smsbox logs it when a report
    /// fails) or `signature` (an HMAC of the reminder id keyed with the
    /// receipt token; the token never leaves the daemon).
    #[serde(default)]
    pub receipt_auth: ReceiptAuth,
    /// The most SMS segments one message may take through this gateway; a
    /// longer text is refused before it is sent (default: the preset's,
    /// [`Preset::default_max_segments`]).
    #[serde(default)]
    pub max_segments: Option<u32>,
    /// PEM file of a CA trusted in addition to the system's roots, for an
    /// HTTPS gateway with a private CA or a self-signed certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Only for `preset = "webhook"`.
    #[serde(default)]
    pub webhook: Option<WebhookSettings>,
}

impl GatewaySettings {
    /// `max_segments`, or the preset's default.
    pub fn max_segments(&self) -> u32 {
        self.max_segments.unwrap_or_else(|| self.preset.default_max_segments())
    }
}

/// How a gateway's receipts authenticate (`receipt_auth`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptAuth {
    /// The receipt token, in the query (`token`) or `Authorization: Bearer`.
    #[default]
    Token,
    /// Kannel only: `sig`, an HMAC-SHA256 of the gateway and reminder id
    /// keyed with the receipt token. A report carrying the token is still
    /// accepted (messages sent before the switch).
    Signature,
}

fn default_rate() -> f64 {
    10.0
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_priority() -> u32 {
    100
}

/// How a generic HTTP gateway is spoken to. Templates may use `{to}` (E.164),
/// `{to_digits}` (without `+`), `{text}`, `{id}` (our reminder id),
/// `{idempotency_key}`, `{sender}`, `{callback_url}` and `{token}`; values
/// are escaped for where they land (URL, form, JSON).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// HTTP method: GET or POST.
    #[serde(default = "default_method")]
    pub method: String,
    /// Path (appended to `base_url`), a template.
    pub path: String,
    /// Extra headers; values are templates (e.g. `Authorization = "Bearer {password}"`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Where the fields go: `json`, `form` or `query`.
    #[serde(default = "default_body")]
    pub body: String,
    /// The fields sent, name → template.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// JSON pointer to the message id in the response (e.g. `/message_id`); none: no id.
    #[serde(default)]
    pub message_id_pointer: Option<String>,
    /// Statuses that mean accepted; others: 429 and 5xx transient, any other permanent.
    #[serde(default = "default_success")]
    pub success_status: Vec<u16>,
    /// Receipt JSON: pointer to our id, the message id and the status.
    #[serde(default)]
    pub receipt: WebhookReceiptSettings,
    /// The header every send carries the reminder's idempotency key in
    /// (`pengingat-{deployment}-{reminder id}`, the same for every send of
    /// one reminder), as the IETF draft "The Idempotency-Key HTTP Header
    /// Field" describes; a gateway that honours it drops a re-send after a
    /// crash. An empty string sends no such header.
    #[serde(default = "default_idempotency_header")]
    pub idempotency_header: String,
}

fn default_method() -> String {
    "POST".to_string()
}
fn default_body() -> String {
    "json".to_string()
}
pub fn default_idempotency_header() -> String {
    "Idempotency-Key".to_string()
}
fn default_success() -> Vec<u16> {
    vec![200, 201, 202]
}

/// How a generic webhook's delivery receipts read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookReceiptSettings {
    /// JSON pointer to our reminder id.
    pub id_pointer: String,
    /// JSON pointer to the gateway's message id.
    pub message_id_pointer: String,
    /// JSON pointer to the status.
    pub status_pointer: String,
    /// Status values meaning delivered.
    pub delivered: Vec<String>,
    /// Status values meaning not delivered (final).
    pub undelivered: Vec<String>,
}

impl Default for WebhookReceiptSettings {
    fn default() -> Self {
        Self {
            id_pointer: "/id".into(),
            message_id_pointer: "/message_id".into(),
            status_pointer: "/status".into(),
            delivered: vec!["delivered".into()],
            undelivered: vec![
                "undelivered".into(),
                "failed".into(),
                "rejected".into(),
                "expired".into(),
            ],
        }
    }
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
    pub fn timing_problems(&self) -> Vec<(&'static str, String)> {
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

/// A secret that could not be read.
#[derive(Debug, Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    #[error("cannot read secret file {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Reads a secret from an environment variable or a file (a relative file
/// name is looked up in `$CREDENTIALS_DIRECTORY` first); `Ok(None)` when
/// neither is configured. Trailing newlines are dropped.
pub fn read_secret(env: Option<&str>, file: Option<&Path>) -> Result<Option<String>, SecretError> {
    if let Some(name) = env {
        return std::env::var(name)
            .map(Some)
            .map_err(|_| SecretError::MissingEnv(name.to_string()));
    }
    let Some(file) = file else { return Ok(None) };
    let path = match std::env::var_os("CREDENTIALS_DIRECTORY") {
        Some(dir) if file.is_relative() => Path::new(&dir).join(file),
        _ => file.to_path_buf(),
    };
    std::fs::read_to_string(&path)
        .map(|s| Some(s.trim_end_matches(['\n', '\r']).to_string()))
        .map_err(|e| SecretError::File {
            path: path.display().to_string(),
            source: e,
        })
}
