//! The outbound channels against stand-ins that speak the real protocols:
//! the mock SMS gateway (in-process, 127.0.0.1:0) for every SMS preset and
//! fault, a tiny misbehaving HTTP server for garbage answers, and a real
//! SMTP server (aiosmtpd, tests/support/smtp_sink.py) on loopback for e-mail.

pub mod email;
mod faults;
mod garbage;
mod idempotency;
mod presets;
mod segments;
mod tls;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use mock_sms_gateway::{Credentials, MockGatewayConfig, RecordedMessage};
use pengingat::channels::{DeploymentId, GatewayPool, OutboundSms, Ticker};
use pengingat::config::delivery::{GatewaySettings, Preset, SmsSettings, WebhookSettings};
use tempfile::TempDir;

use crate::mock_gateway::{self, Gateway};

/// The recipient of most tests.
pub const TO: &str = "+6281234567890";
/// Where receipts would come back to.
pub const PUBLIC_URL: &str = "https://pengingat.metrokota.go.id";
/// The receipt token every gateway is given.
pub const RECEIPT_TOKEN: &str = "rahasia-kuitansi";
/// The deployment id of the database the pools send for.
pub const DEPLOYMENT: &str = "7e57d3910c8a4b21";
/// The bearer token the mock's generic webhook demands.
pub const WEBHOOK_TOKEN: &str = "rahasia-webhook";
/// A GSM-7 reminder of one segment.
pub const GSM_TEXT: &str =
    "Yth. SITI AMINAH, iuran BPJS Ketenagakerjaan Rp16.800 bulan Juli 2025 jatuh tempo 15/07/2025.";
/// The same with an en dash: UCS-2.
pub const UCS2_TEXT: &str = "Yth. SITI AMINAH – iuran Juli 2025 jatuh tempo 15/07/2025.";

/// The mock with receipts off (nothing listens at [`PUBLIC_URL`]) and a
/// webhook token.
pub fn mock_config() -> MockGatewayConfig {
    let mut config = mock_gateway::config();
    config.receipts.enabled = false;
    config.credentials.webhook_token = Some(WEBHOOK_TOKEN.into());
    config
}

/// Secret files, as systemd credentials would be.
pub struct Secrets {
    /// Holds the files.
    dir: TempDir,
}

impl Secrets {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `value` (with a trailing newline, as editors leave it) to a file.
    pub fn file(&self, name: &str, value: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("{value}\n")).unwrap();
        path
    }
}

/// A gateway of `preset` at `base_url` with the mock's credentials, fast
/// enough never to wait for a token, a receipt token and priority 1.
pub fn gateway(name: &str, preset: Preset, base_url: &str, secrets: &Secrets) -> GatewaySettings {
    let credentials = Credentials::default();
    let (username, password) = match preset {
        Preset::Kannel => (Some(credentials.kannel_username), credentials.kannel_password),
        Preset::Jasmin => (Some(credentials.jasmin_username), credentials.jasmin_password),
        Preset::Twilio => (Some(credentials.twilio_account_sid), credentials.twilio_auth_token),
        Preset::Infobip => (None, credentials.infobip_api_key),
        Preset::Webhook => (None, WEBHOOK_TOKEN.to_string()),
    };
    GatewaySettings {
        name: name.into(),
        preset,
        base_url: base_url.into(),
        username,
        password_env: None,
        password_file: Some(secrets.file(&format!("{name}.password"), &password)),
        sender: Some("BPJSTKU".into()),
        rate_limit_per_second: 1000.0,
        timeout_ms: 5_000,
        priority: 1,
        receipt_token_env: None,
        receipt_token_file: Some(secrets.file(&format!("{name}.token"), RECEIPT_TOKEN)),
        receipt_auth: Default::default(),
        max_segments: None,
        ca_file: None,
        webhook: (preset == Preset::Webhook).then(webhook_settings),
    }
}

/// The mock's generic webhook protocol, described as an operator would.
pub fn webhook_settings() -> WebhookSettings {
    let fields = [
        ("to", "{to}"),
        ("text", "{text}"),
        ("id", "{id}"),
        ("callback_url", "{callback_url}"),
        ("from", "{sender}"),
    ];
    WebhookSettings {
        method: "POST".into(),
        path: "/webhook/send".into(),
        headers: BTreeMap::from([("Authorization".to_string(), "Bearer {password}".to_string())]),
        body: "json".into(),
        fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        message_id_pointer: Some("/message_id".into()),
        success_status: vec![200],
        receipt: Default::default(),
        idempotency_header: "Idempotency-Key".into(),
    }
}

/// A pool of `gateways` sending for [`DEPLOYMENT`], on tokio's clock.
pub fn pool(gateways: Vec<GatewaySettings>) -> GatewayPool {
    let settings = SmsSettings {
        gateways,
        ..SmsSettings::default()
    };
    GatewayPool::from_settings(&settings, PUBLIC_URL, mock_gateway::http())
        .unwrap()
        .for_deployment(DeploymentId::parse(DEPLOYMENT).unwrap())
}

/// A pool of `gateways` whose breakers read `ticker`.
pub fn pool_with_ticker(gateways: Vec<GatewaySettings>, ticker: Arc<dyn Ticker>) -> GatewayPool {
    let settings = SmsSettings {
        gateways,
        ..SmsSettings::default()
    };
    GatewayPool::with_ticker(&settings, PUBLIC_URL, mock_gateway::http(), ticker)
        .unwrap()
        .for_deployment(DeploymentId::parse(DEPLOYMENT).unwrap())
}

/// A reminder SMS to [`TO`].
pub fn sms(reminder_id: i64, text: &str) -> OutboundSms {
    OutboundSms {
        reminder_id,
        to: TO.into(),
        text: text.into(),
    }
}

/// The one message the mock recorded.
pub async fn only_message(mock: &Gateway) -> RecordedMessage {
    let mut messages = mock.messages().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    messages.remove(0)
}
