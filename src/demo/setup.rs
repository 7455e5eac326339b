//! What a demo run is made of: its directory, the bundled mock SMS gateway
//! and SMTP sink on loopback, and daemon settings that point at them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use mock_sms_gateway::smtp::{SmtpCount, run_smtp_sink};
use mock_sms_gateway::{MockGatewayConfig, ReceiptConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::Settings;
use crate::config::delivery::{GatewaySettings, Preset};

/// The mock gateway's Kannel user and password (its defaults).
const KANNEL_USER: &str = "kannel";
/// The token receipts and payments carry in the demo.
const DEMO_TOKEN: &str = "demo-token";

/// The mock SMS gateway and SMTP sink of a demo, running.
pub struct Mocks {
    /// The gateway's base URL.
    pub gateway_url: String,
    /// The SMTP sink's port.
    pub smtp_port: u16,
    /// E-mails the sink accepted.
    pub emails: Arc<SmtpCount>,
    /// Stops both.
    pub cancel: CancellationToken,
}

/// Starts the mock SMS gateway (receipts at once, 90% delivered, on the
/// demo's clock) and the SMTP sink, each on a free loopback port.
pub async fn start_mocks(clock: Arc<dyn Clock>, seed: u64) -> anyhow::Result<Mocks> {
    let cancel = CancellationToken::new();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot start the mock gateway")?;
    let gateway_url = format!("http://{}", listener.local_addr()?);
    let config = MockGatewayConfig {
        receipts: ReceiptConfig {
            delay: Duration::ZERO,
            delivered_ratio: 0.9,
            seed,
            ..ReceiptConfig::default()
        },
        clock: Arc::new(DemoClock(clock)),
        ..MockGatewayConfig::default()
    };
    let stop = cancel.clone();
    tokio::spawn(mock_sms_gateway::run(listener, config, async move {
        stop.cancelled().await
    }));
    let smtp = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot start the SMTP sink")?;
    let smtp_port = smtp.local_addr()?.port();
    let emails = Arc::new(SmtpCount::default());
    tokio::spawn(run_smtp_sink(smtp, emails.clone(), cancel.clone()));
    Ok(Mocks {
        gateway_url,
        smtp_port,
        emails,
        cancel,
    })
}

/// The demo's clock as the mock gateway's source of timestamps.
#[derive(Debug)]
struct DemoClock(Arc<dyn Clock>);

impl mock_sms_gateway::Clock for DemoClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

/// Writes `value` as the secret file `name` under `dir/secrets`.
fn secret(dir: &Path, name: &str, value: &str) -> anyhow::Result<PathBuf> {
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&secrets).with_context(|| format!("cannot create {}", secrets.display()))?;
    let path = secrets.join(name);
    std::fs::write(&path, value).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Daemon settings for the demo: SQLite in `dir`, the shipped schedules,
/// SMS through the mock gateway, e-mail to the sink, receipts back to
/// `public_url`, and a payments API token.
pub fn demo_settings(dir: &Path, mocks: &Mocks, public_url: &str) -> anyhow::Result<Settings> {
    let mut settings = Settings::default();
    settings.database.url = format!("sqlite://{}", dir.join("pengingat.db").display());
    settings.delivery.public_url = public_url.to_string();
    settings.sms.gateways = vec![GatewaySettings {
        name: "mock".into(),
        preset: Preset::Kannel,
        base_url: mocks.gateway_url.clone(),
        username: Some(KANNEL_USER.into()),
        password_env: None,
        password_file: Some(secret(dir, "kannel_password", KANNEL_USER)?),
        sender: Some("BPJSTK".into()),
        rate_limit_per_second: 100_000.0,
        timeout_ms: 5_000,
        priority: 1,
        receipt_token_env: None,
        receipt_token_file: Some(secret(dir, "receipt_token", DEMO_TOKEN)?),
        receipt_auth: Default::default(),
        max_segments: None,
        ca_file: None,
        webhook: None,
    }];
    settings.email.enabled = true;
    settings.email.host = "127.0.0.1".into();
    settings.email.port = mocks.smtp_port;
    settings.email.tls = "none".into();
    settings.payments.token_file = Some(secret(dir, "payments_token", DEMO_TOKEN)?);
    Ok(settings)
}

/// The payments API token of the demo.
pub fn payments_token() -> &'static str {
    DEMO_TOKEN
}

/// Removes the database of an earlier demo run in `dir`, so each run starts
/// from the same seeded population.
pub fn fresh_database(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for name in ["pengingat.db", "pengingat.db-wal", "pengingat.db-shm"] {
        let path = dir.join(name);
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
}
