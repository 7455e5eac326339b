//! `[[sms.gateway]]`: one gateway's settings, whatever its preset.

use std::path::PathBuf;

use serde::Deserialize;

use super::Preset;
use super::webhook::settings::WebhookSettings;

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
