//! A stand-in SMS gateway for tests, benchmarks and operators' dry runs.
//!
//! It speaks the real wire formats of the gateways pengingat supports (each
//! vendor's published API documentation), records every accepted message, injects faults on
//! request and sends delivery receipts back in each gateway's own format.
//!
//! | Endpoint | Gateway |
//! |---|---|
//! | `GET /cgi-bin/sendsms` | Kannel smsbox |
//! | `GET` or `POST /send` | Jasmin HTTP API |
//! | `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` | Twilio |
//! | `POST /sms/3/messages` | Infobip SMS API v3 |
//! | `POST /webhook/send` | generic JSON webhook (below) |
//! | `GET /messages[?to=&preset=]`, `GET /messages/count`, `DELETE /messages` | recorded messages |
//! | `GET`/`POST /control` | faults (see [`FaultUpdate`]) |
//! | `GET /stats` | counters of sends, faults, suppressed duplicates, refused Twilio credentials (`unauthenticated`) and receipts |
//! | any method `/sink` | a callback target that answers `ACK/Jasmin` to anything |
//!
//! The generic webhook is the mock's own minimal JSON protocol, the one
//! pengingat's generic webhook preset is configured against:
//!
//! - request: `POST /webhook/send`, JSON `{"to": "+6281…", "text": "…",
//!   "id": "<sender's reference>", "callback_url": "http://…", "from": "…"}`
//!   (`to` and `text` required; `Authorization: Bearer <token>` when the
//!   gateway was given a webhook token);
//! - answer: `200 {"message_id": "<uuid>"}`; errors are `{"error": "…"}`
//!   with 400 (bad request or rejected recipient), 401, 429 or 5xx;
//! - receipt: `POST callback_url`, JSON `{"id": "<sender's reference>",
//!   "message_id": "<uuid>", "status": "delivered" | "undelivered", "at":
//!   "<RFC 3339 time>"}`; any 2xx answer acknowledges it.
//!
//! Sends are idempotent where the real gateway offers it (see
//! [`idempotency`]): Infobip by the client's `messageId`, the generic webhook
//! by an `Idempotency-Key` header. A duplicate gets the first answer and is
//! neither recorded nor delivered again; `GET /stats` counts them as
//! `duplicates_suppressed`. Kannel, Jasmin and Twilio have no such key: a
//! message sent twice is delivered twice, as it would be for real.
//!
//! It must never be the bottleneck of a benchmark: handlers parse in place,
//! recording is one short mutex-protected push, faults are atomics, and
//! receipts leave through a bounded queue drained by a scheduler task, so a
//! slow callback target costs dropped receipts, never slower sends.

mod admin;
pub mod clock;
mod courier;
mod faults;
mod form;
mod idempotency;
mod ids;
mod outcome;
mod presets;
mod receipts;
mod segments;
pub mod smtp;
mod state;
mod store;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use clock::{Clock, SystemClock};
pub use faults::{FaultSettings, FaultUpdate};
pub use outcome::{decides_delivered, number_key};
pub use presets::kannel_dlr::{Failure as KannelFailure, failure_of as kannel_failure_of};
pub use segments::count_segments;
pub use store::{FinalStatus, Preset, RecordedMessage};

/// Everything the mock gateway is started with.
#[derive(Debug, Clone)]
pub struct MockGatewayConfig {
    /// The credentials each preset accepts.
    pub credentials: Credentials,
    /// How delivery receipts are decided and sent.
    pub receipts: ReceiptConfig,
    /// Faults in force from the start (the control endpoint changes them).
    pub faults: FaultSettings,
    /// How many accepted messages are kept for `GET /messages`; later ones
    /// are still accepted and counted. Bounds memory in long benchmarks.
    pub max_recorded: usize,
    /// The longest a `timeout_next` request is held when the client does
    /// not give up first.
    pub timeout_hold: Duration,
    /// The source of timestamps (recorded `received_at`, receipt dates).
    pub clock: Arc<dyn Clock>,
}

impl Default for MockGatewayConfig {
    fn default() -> Self {
        Self {
            credentials: Credentials::default(),
            receipts: ReceiptConfig::default(),
            faults: FaultSettings::default(),
            max_recorded: 1_000_000,
            timeout_hold: Duration::from_secs(300),
            clock: Arc::new(SystemClock),
        }
    }
}

/// The credentials of every preset. A request with others is refused the way
/// the real gateway refuses it.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Kannel `sendsms-user` name (`username` or `user`).
    pub kannel_username: String,
    /// Kannel `sendsms-user` password (`password` or `pass`).
    pub kannel_password: String,
    /// Jasmin user name.
    pub jasmin_username: String,
    /// Jasmin password.
    pub jasmin_password: String,
    /// Twilio Account SID, `AC` + 32 hex digits; the Basic auth user.
    pub twilio_account_sid: String,
    /// Twilio Auth Token; the Basic auth password and the key that signs
    /// status callbacks.
    pub twilio_auth_token: String,
    /// Infobip API key, sent as `Authorization: App <key>`.
    pub infobip_api_key: String,
    /// Bearer token the generic webhook requires; `None` accepts any caller.
    pub webhook_token: Option<String>,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            kannel_username: "kannel".into(),
            kannel_password: "kannel".into(),
            jasmin_username: "jasmin".into(),
            jasmin_password: "jasmin".into(),
            twilio_account_sid: "AC00000000000000000000000000000000".into(),
            twilio_auth_token: "mock-auth-token".into(),
            infobip_api_key: "mock-infobip-key".into(),
            webhook_token: None,
        }
    }
}

/// How delivery receipts are decided and sent.
#[derive(Debug, Clone)]
pub struct ReceiptConfig {
    /// Whether receipts are sent at all (the final status is decided and
    /// recorded either way).
    pub enabled: bool,
    /// Time from acceptance to the receipt.
    pub delay: Duration,
    /// Share of messages that end delivered, 0.0 to 1.0.
    pub delivered_ratio: f64,
    /// Seed of the deterministic delivered/undelivered decision.
    pub seed: u64,
    /// Receipts waiting to be sent; beyond this they are dropped and counted.
    pub queue_capacity: usize,
    /// Callback requests in flight at once.
    pub concurrency: usize,
    /// Timeout of one callback request.
    pub callback_timeout: Duration,
    /// Retries after a Jasmin receipt was not acknowledged (Jasmin's
    /// `max_retries`, default 3).
    pub jasmin_max_retries: u32,
    /// Wait between Jasmin retries (Jasmin's own default is 30 s).
    pub jasmin_retry_delay: Duration,
    /// SMSC / connector id named in Kannel (`%i`) and Jasmin (`connector`)
    /// receipts.
    pub smsc_id: String,
}

impl Default for ReceiptConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            delay: Duration::from_millis(1000),
            delivered_ratio: 0.9,
            seed: 0,
            queue_capacity: 100_000,
            concurrency: 64,
            callback_timeout: Duration::from_secs(5),
            jasmin_max_retries: 3,
            jasmin_retry_delay: Duration::from_secs(1),
            smsc_id: "mock".into(),
        }
    }
}

/// Serves the mock gateway on `listener` until `shutdown` completes, then
/// finishes the requests in progress (held `timeout_next` requests are
/// released) and stops the receipt scheduler; receipts not yet sent are
/// dropped.
pub async fn run(
    listener: TcpListener,
    config: MockGatewayConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let token = CancellationToken::new();
    let (queue, scheduler) = receipts::start(&config, token.clone()).context("starting the receipt sender")?;
    let gateway = Arc::new(state::Gateway::new(config, queue, token.clone()).context("fault settings")?);
    let app = router(gateway);
    let stop = token.clone();
    let listener = listener.tap_io(|tcp| {
        // Small request/response pairs: without this Nagle's algorithm adds
        // delay on connections that are not pipelined.
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop.cancel();
        })
        .await;
    token.cancel();
    scheduler.await.context("receipt scheduler")?;
    served.context("serving the mock gateway")
}

/// All routes, with the gateway's shared state: every preset's send route,
/// then the endpoints for tests and operators.
fn router(gateway: Arc<state::Gateway>) -> Router {
    Router::new()
        .merge(presets::kannel::routes())
        .merge(presets::jasmin::routes())
        .merge(presets::twilio::routes())
        .merge(presets::infobip::routes())
        .merge(presets::webhook::routes())
        .merge(admin::routes())
        .with_state(gateway)
}
