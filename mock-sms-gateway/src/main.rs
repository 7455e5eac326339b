//! `mock-sms-gateway`: a stand-in SMS gateway speaking Kannel, Jasmin, Twilio,
//! Infobip and a generic JSON webhook, for tests, benchmarks and dry runs.
//! See the `mock_sms_gateway` library for the endpoints.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use mock_sms_gateway::{Credentials, FaultSettings, MockGatewayConfig, ReceiptConfig, SystemClock};
use tracing_subscriber::EnvFilter;

/// A stand-in SMS gateway for tests, benchmarks and operators' dry runs.
///
/// Send endpoints, each in the real gateway's wire format:
///   GET /cgi-bin/sendsms                          Kannel smsbox
///   GET|POST /send                                Jasmin HTTP API
///   POST /2010-04-01/Accounts/{Sid}/Messages.json Twilio
///   POST /sms/3/messages                          Infobip SMS API v3
///   POST /webhook/send                            generic JSON webhook:
///        {"to","text","id","callback_url","from"} -> {"message_id"};
///        receipt POSTed to callback_url as {"id","message_id","status","at"}
///
/// Infobip (by destinations[].messageId) and the webhook (by an Idempotency-Key
/// header) are idempotent: a key sent again gets the first answer and is not
/// delivered twice (logged at info, counted as duplicates_suppressed).
///
/// For tests and operators:
///   GET /messages[?to=&preset=]   accepted messages (with their decided final_status)
///   GET /messages/count           {"count": n}
///   DELETE /messages              forget them
///   GET /control                  faults in force and receipt settings
///   POST /control                 change faults, e.g. {"fail_next":5,"status":503},
///                                 {"rate_limit_next":3,"retry_after_secs":2}, {"latency_ms":200},
///                                 {"timeout_next":2}, {"reject_numbers":["+6281..."]},
///                                 {"down":true}, {"reset":true}
///   GET /stats                    counters of sends, faults, suppressed duplicates and receipts
///   any method /sink              a receipt target that answers ACK/Jasmin to anything
///
/// Prints `listening on ADDRESS` on stdout once bound; stops cleanly on
/// SIGTERM or Ctrl-C. Logs go to stderr (RUST_LOG, default "warn").
#[derive(Debug, Parser)]
#[command(name = "mock-sms-gateway", version, verbatim_doc_comment)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "MOCK_SMS_GATEWAY_LISTEN", default_value = "127.0.0.1:13013")]
    listen: SocketAddr,

    /// Kannel sendsms-user name (`username` or `user`).
    #[arg(long, default_value = "kannel")]
    kannel_username: String,
    /// Kannel sendsms-user password (`password` or `pass`).
    #[arg(long, default_value = "kannel")]
    kannel_password: String,
    /// Jasmin user name.
    #[arg(long, default_value = "jasmin")]
    jasmin_username: String,
    /// Jasmin password.
    #[arg(long, default_value = "jasmin")]
    jasmin_password: String,
    /// Twilio Account SID (AC + 32 hex digits), the Basic auth user.
    #[arg(long, default_value = "AC00000000000000000000000000000000")]
    twilio_account_sid: String,
    /// Twilio Auth Token: the Basic auth password and the key that signs
    /// status callbacks (X-Twilio-Signature).
    #[arg(long, env = "MOCK_SMS_GATEWAY_TWILIO_AUTH_TOKEN", default_value = "mock-auth-token")]
    twilio_auth_token: String,
    /// Infobip API key, expected as `Authorization: App <key>`.
    #[arg(long, env = "MOCK_SMS_GATEWAY_INFOBIP_API_KEY", default_value = "mock-infobip-key")]
    infobip_api_key: String,
    /// Bearer token the generic webhook requires; without it any caller is
    /// accepted.
    #[arg(long, env = "MOCK_SMS_GATEWAY_WEBHOOK_TOKEN")]
    webhook_token: Option<String>,

    /// Send no delivery receipts (final statuses are still decided and shown
    /// in GET /messages).
    #[arg(long)]
    no_receipts: bool,
    /// Milliseconds from acceptance to the delivery receipt.
    #[arg(long, default_value_t = 1000)]
    receipt_delay_ms: u64,
    /// Share of messages that end delivered (0.0 to 1.0); the rest end
    /// undelivered.
    #[arg(long, default_value_t = 0.9)]
    delivered_ratio: f64,
    /// Seed of the delivered/undelivered decision, which depends only on the
    /// seed, the recipient and the text; random when not given (GET /control
    /// shows it).
    #[arg(long)]
    seed: Option<u64>,
    /// Receipts that may wait to be sent; beyond this they are dropped and
    /// counted, never slowing sends.
    #[arg(long, default_value_t = 100_000)]
    receipt_queue: usize,
    /// Callback requests in flight at once.
    #[arg(long, default_value_t = 64)]
    receipt_concurrency: usize,
    /// Timeout of one callback request, milliseconds.
    #[arg(long, default_value_t = 5000)]
    callback_timeout_ms: u64,
    /// Retries of a Jasmin receipt the receiver did not answer `ACK/Jasmin`
    /// to (Jasmin's max_retries).
    #[arg(long, default_value_t = 3)]
    jasmin_max_retries: u32,
    /// Milliseconds between Jasmin retries (Jasmin itself waits 30 s).
    #[arg(long, default_value_t = 1000)]
    jasmin_retry_delay_ms: u64,
    /// SMSC / connector id named in Kannel (%i) and Jasmin (connector)
    /// receipts.
    #[arg(long, default_value = "mock")]
    smsc_id: String,

    /// Fail the first N sends with --fail-status.
    #[arg(long, default_value_t = 0)]
    fail_first: u64,
    /// HTTP status of injected failures (400-599).
    #[arg(long, default_value_t = 503)]
    fail_status: u16,
    /// Answer the first N sends with 429 and Retry-After.
    #[arg(long, default_value_t = 0)]
    rate_limit_first: u64,
    /// Retry-After seconds of 429 answers.
    #[arg(long, default_value_t = 1)]
    retry_after_secs: u64,
    /// Milliseconds added to every send.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Hold the first N sends without answering until the client gives up.
    #[arg(long, default_value_t = 0)]
    timeout_first: u64,
    /// Longest a held send is kept, seconds.
    #[arg(long, default_value_t = 300)]
    timeout_hold_secs: u64,
    /// Refuse this recipient with the gateway's permanent error (repeatable;
    /// matched on digits, so +62812…, 62812… and 0812… are one number).
    #[arg(long = "reject-number", value_name = "NUMBER")]
    reject_numbers: Vec<String>,
    /// Start down: sends get 503 and their connection closed until
    /// POST /control {"down": false}.
    #[arg(long)]
    start_down: bool,

    /// Accepted messages kept for GET /messages (later ones are still
    /// accepted and counted).
    #[arg(long, default_value_t = 1_000_000)]
    max_recorded: usize,
}

impl Cli {
    fn config(self) -> MockGatewayConfig {
        MockGatewayConfig {
            credentials: Credentials {
                kannel_username: self.kannel_username,
                kannel_password: self.kannel_password,
                jasmin_username: self.jasmin_username,
                jasmin_password: self.jasmin_password,
                twilio_account_sid: self.twilio_account_sid,
                twilio_auth_token: self.twilio_auth_token,
                infobip_api_key: self.infobip_api_key,
                webhook_token: self.webhook_token,
            },
            receipts: ReceiptConfig {
                enabled: !self.no_receipts,
                delay: Duration::from_millis(self.receipt_delay_ms),
                delivered_ratio: self.delivered_ratio.clamp(0.0, 1.0),
                seed: self.seed.unwrap_or_else(rand::random),
                queue_capacity: self.receipt_queue,
                concurrency: self.receipt_concurrency,
                callback_timeout: Duration::from_millis(self.callback_timeout_ms),
                jasmin_max_retries: self.jasmin_max_retries,
                jasmin_retry_delay: Duration::from_millis(self.jasmin_retry_delay_ms),
                smsc_id: self.smsc_id,
            },
            faults: FaultSettings {
                fail_next: self.fail_first,
                status: self.fail_status,
                rate_limit_next: self.rate_limit_first,
                retry_after_secs: self.retry_after_secs,
                latency_ms: self.latency_ms,
                timeout_next: self.timeout_first,
                reject_numbers: self.reject_numbers,
                down: self.start_down,
            },
            max_recorded: self.max_recorded,
            timeout_hold: Duration::from_secs(self.timeout_hold_secs),
            clock: Arc::new(SystemClock),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")))
        .with_writer(std::io::stderr)
        .init();
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("binding {}", cli.listen))?;
    let address = listener.local_addr().context("reading the bound address")?;
    let config = cli.config();
    tracing::info!(seed = config.receipts.seed, "mock SMS gateway started");
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {address}").context("writing the bound address")?;
    stdout.flush().context("writing the bound address")?;
    drop(stdout);
    mock_sms_gateway::run(listener, config, shutdown_signal()).await
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
