//! The mock SMS gateway, run in-process on 127.0.0.1:0 through
//! `mock_sms_gateway::run`, with a small receiver on 127.0.0.1:0 that records the
//! receipts it is sent. Every send is made in the real gateway's wire format
//! and every answer is checked exactly. Timestamps come from a fixed clock;
//! receipts are due at once (delay 0) unless a test needs them grouped.

mod faults;
mod infobip;
mod jasmin;
mod kannel;
mod twilio;
mod webhook;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use chrono::{DateTime, TimeZone, Utc};
use mock_sms_gateway::{MockGatewayConfig, ReceiptConfig, RecordedMessage};
use pengingat::clock::{Clock, FixedClock};
use serde_json::Value;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// The fixed instant every test runs at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 10, 8, 30, 0).unwrap()
}

/// The longest any test waits for an asynchronous event before failing.
const PATIENCE: Duration = Duration::from_secs(10);

/// Receipts at once, all delivered, short Jasmin retries, fixed clock.
pub fn config() -> MockGatewayConfig {
    MockGatewayConfig {
        receipts: ReceiptConfig {
            delay: Duration::ZERO,
            delivered_ratio: 1.0,
            seed: 7,
            jasmin_retry_delay: Duration::from_millis(5),
            ..ReceiptConfig::default()
        },
        clock: Arc::new(MockClock(FixedClock::at(now()))),
        ..MockGatewayConfig::default()
    }
}

/// One of pengingat's clocks as the mock gateway's, which has a clock trait
/// of its own.
#[derive(Debug)]
pub struct MockClock<C>(pub C);

impl<C: Clock> mock_sms_gateway::Clock for MockClock<C> {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

/// The `mock-sms-gateway` binary. Cargo tells a package's tests only where
/// that package's own binaries are; the mock's is built beside pengingat's by
/// `cargo build` and `cargo test` at the workspace root (both packages are
/// default members). After changing the mock, build it again before running
/// only pengingat's tests (`cargo build -p mock-sms-gateway`).
pub fn binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_pengingat"))
        .with_file_name(format!("mock-sms-gateway{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build -p mock-sms-gateway`",
        path.display()
    );
    path
}

/// An HTTP client that never goes through a proxy.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A running mock gateway.
pub struct Gateway {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client for it.
    pub http: reqwest::Client,
    /// Completes `run`'s shutdown future.
    stop: oneshot::Sender<()>,
    /// The `run` task.
    task: JoinHandle<anyhow::Result<()>>,
}

impl Gateway {
    pub async fn start(config: MockGatewayConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(mock_sms_gateway::run(listener, config, async move {
            let _ = stopped.await;
        }));
        Self {
            base,
            http: http(),
            stop,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET /messages`.
    pub async fn messages(&self) -> Vec<RecordedMessage> {
        let response = self.http.get(self.url("/messages")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// `POST /control`; returns the settings now in force.
    pub async fn control(&self, update: Value) -> Value {
        let response = self.http.post(self.url("/control")).json(&update).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// `POST path` with `form` as its body.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(self.url(path)).form(form).send().await.unwrap()
    }

    /// `POST path` with `body` as JSON.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http.post(self.url(path)).json(body).send().await.unwrap()
    }

    /// `GET path`: its JSON answer.
    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `GET /control`: the settings in force.
    pub async fn control_state(&self) -> Value {
        self.get_json("/control").await
    }

    /// `GET /stats`.
    pub async fn stats(&self) -> Value {
        self.get_json("/stats").await
    }

    /// Waits until `GET /stats` satisfies `done`.
    pub async fn stats_until(&self, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let stats = self.stats().await;
            if done(&stats) {
                return stats;
            }
            assert!(tokio::time::Instant::now() < deadline, "stats never got there: {stats}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Shuts down and checks `run` ended cleanly.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let ended = tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("run ends after shutdown");
        ended.unwrap().unwrap();
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The method.
    pub method: Method,
    /// The path.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: String,
}

impl Captured {
    /// Form pairs from the body (POST) or the query (GET).
    pub fn form(&self) -> Vec<(String, String)> {
        let encoded = if self.method == Method::GET {
            self.query.clone().unwrap_or_default()
        } else {
            self.body.clone()
        };
        let url = reqwest::Url::parse(&format!("http://x/?{encoded}")).unwrap();
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The first form value called `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.form().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    }
}

/// Shared between the receiver's handler and the test.
#[derive(Default)]
struct Inbox {
    /// Requests in arrival order.
    captured: Mutex<Vec<Captured>>,
    /// Woken on every request.
    notify: Notify,
}

/// A callback target recording what it is sent. Its answer depends on the
/// path: `/jasmin/ack…` answers `ACK/Jasmin`, `/jasmin/nack` answers 200
/// without the acknowledgement, `/jasmin/third` acknowledges only the third
/// request, `/jasmin/gone` answers 404, anything else 200 with no body.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// What it got.
    inbox: Arc<Inbox>,
    /// The server task.
    task: JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inbox = Arc::new(Inbox::default());
        let shared = inbox.clone();
        let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let inbox = shared.clone();
            async move {
                let path = uri.path().to_string();
                let captured = Captured {
                    method,
                    path: path.clone(),
                    query: uri.query().map(str::to_string),
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                };
                let same_path = {
                    let mut all = inbox.captured.lock().unwrap();
                    all.push(captured);
                    all.iter().filter(|c| c.path == path).count()
                };
                inbox.notify.notify_waiters();
                match path.as_str() {
                    "/jasmin/nack" => (StatusCode::OK, "Received").into_response(),
                    "/jasmin/gone" => StatusCode::NOT_FOUND.into_response(),
                    "/jasmin/third" if same_path < 3 => (StatusCode::OK, "not yet").into_response(),
                    p if p.starts_with("/jasmin/") => (StatusCode::OK, "ACK/Jasmin").into_response(),
                    _ => StatusCode::OK.into_response(),
                }
            }
        });
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, inbox, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits until at least `n` requests arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Captured> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let notified = self.inbox.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let all = self.captured();
            if all.len() >= n {
                return all;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("expected {n} callbacks, got {}: {all:#?}", all.len());
            }
        }
    }

    /// Everything received so far.
    pub fn captured(&self) -> Vec<Captured> {
        self.inbox.captured.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn recorded_messages_filter_count_and_reset() {
    let gateway = Gateway::start(config()).await;
    for to in ["+6281111111111", "+6282222222222", "+6281111111111"] {
        let body = serde_json::json!({"to": to, "text": "Halo", "id": "r"});
        let response = gateway.post_json("/webhook/send", &body).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let filtered: Vec<RecordedMessage> = gateway
        .http
        .get(gateway.url("/messages?to=%2B6281111111111"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filtered.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 3]);
    let count: Value = gateway
        .http
        .get(gateway.url("/messages/count"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count, serde_json::json!({"count": 3}));
    let cleared = gateway.http.delete(gateway.url("/messages")).send().await.unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert!(gateway.messages().await.is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn the_final_status_is_decided_by_seed_recipient_and_text() {
    let receiver = Receiver::start().await;
    let mut config = config();
    config.receipts.delivered_ratio = 0.5;
    config.receipts.seed = 42;
    let gateway = Gateway::start(config).await;
    for i in 0..20 {
        let body = serde_json::json!({
            "to": "+6281234567890", "text": format!("Pengingat {i}"), "id": format!("r{i}"),
            "callback_url": receiver.url("/hook"),
        });
        gateway.post_json("/webhook/send", &body).await;
    }
    let messages = gateway.messages().await;
    let receipts = receiver.wait_for(20).await;
    let mut delivered = 0;
    for message in &messages {
        let expected = mock_sms_gateway::decides_delivered(42, 0.5, &message.to, &message.text);
        delivered += usize::from(expected);
        let status = if expected { "delivered" } else { "undelivered" };
        assert_eq!(serde_json::to_value(message.final_status).unwrap(), status);
        let receipt = receipts
            .iter()
            .map(Captured::json)
            .find(|r| r["message_id"] == message.message_id.as_str())
            .unwrap();
        assert_eq!(receipt["status"], status);
    }
    assert!(
        delivered > 0 && delivered < 20,
        "a 0.5 ratio over 20 texts mixes outcomes"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn control_shows_and_validates_settings() {
    let gateway = Gateway::start(config()).await;
    let shown = gateway
        .control(serde_json::json!({"latency_ms": 1, "reject_numbers": ["+6281234567890"], "fail_next": 0}))
        .await;
    assert_eq!(shown["latency_ms"], 1);
    assert_eq!(shown["reject_numbers"], serde_json::json!(["+6281234567890"]));
    assert_eq!(shown["receipts"]["seed"], 7);
    let refused = gateway
        .http
        .post(gateway.url("/control"))
        .json(&serde_json::json!({"fail_next": 1, "status": 200}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let unknown = gateway
        .http
        .post(gateway.url("/control"))
        .json(&serde_json::json!({"fail_nxt": 1}))
        .send()
        .await
        .unwrap();
    assert!(unknown.status().is_client_error());
    let reset = gateway.control(serde_json::json!({"reset": true})).await;
    assert_eq!(reset["latency_ms"], 0);
    assert_eq!(reset["reject_numbers"], serde_json::json!([]));
    let shown: Value = gateway.control_state().await;
    assert_eq!(shown["fail_next"], 0);
    gateway.stop().await;
}

#[tokio::test]
async fn the_sink_acknowledges_receipts_sent_to_it() {
    let gateway = Gateway::start(config()).await;
    let sink = gateway.url("/sink");
    let form = [
        ("username", "jasmin"),
        ("password", "jasmin"),
        ("to", "+6281234567890"),
        ("content", "Halo"),
        ("dlr", "yes"),
        ("dlr-url", sink.as_str()),
        ("dlr-level", "2"),
    ];
    let response = gateway.post_form("/send", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let stats = gateway.stats_until(|s| s["callbacks_sent"] == 1).await;
    assert_eq!(stats["sink_received"], 1);
    assert_eq!(stats["callbacks_failed"], 0);
    gateway.stop().await;
}

#[tokio::test]
async fn an_unreachable_callback_target_costs_receipts_not_sends() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/dlr", listener.local_addr().unwrap())
    };
    let gateway = Gateway::start(config()).await;
    for i in 0..3 {
        let body = serde_json::json!({"to": "+6281234567890", "text": format!("Halo {i}"), "callback_url": closed});
        let response = gateway.post_json("/webhook/send", &body).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let stats = gateway.stats_until(|s| s["callbacks_failed"] == 3).await;
    assert_eq!(stats["accepted"], 3);
    assert_eq!(stats["callbacks_sent"], 0);
    gateway.stop().await;
}
