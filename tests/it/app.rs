//! `TestApp`: the daemon's HTTP routes served on 127.0.0.1:0 over one test
//! database, with the clock, gateways, tokens and channel health a test asks
//! for, and a client to call them. A test says only what differs:
//!
//! ```ignore
//! let app = TestApp::builder(db).payments_token(TOKEN).spawn().await;
//! let (status, body) = app.post_payment(Some(TOKEN), &payment).await;
//! ```
//!
//! `TestDaemon`: the whole daemon (scans, dispatch, inbox, digests and the
//! same routes) built from its settings and run in-process, with the same
//! client ([`Routes`]):
//!
//! ```ignore
//! let daemon = TestDaemon::start(daemon_settings(db), clock).await;
//! let (status, body) = daemon.get("/healthz").await;
//! daemon.stop().await;
//! ```

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use pengingat::channels::ChannelHealth;
use pengingat::clock::{Clock, SystemClock};
use pengingat::config::Settings;
use pengingat::config::delivery::SmsSettings;
use pengingat::daemon::Daemon;
use pengingat::http::page_cache::{CachePolicy, PageCache};
use pengingat::http::payments::PaymentsApi;
use pengingat::http::{AppState, router};
use pengingat::metrics::Metrics;
use pengingat::receipts::ReceiptGateways;
use pengingat::store::Store;
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::helpers::TestDb;

/// The longest a test waits for the server to stop.
const PATIENCE: Duration = Duration::from_secs(10);

/// The attribution window the payments API is served with: 14 days.
pub const ATTRIBUTION_SECS: i64 = 14 * 86_400;

/// A client for the daemon's routes at `base`.
pub struct Routes {
    /// `http://127.0.0.1:PORT`; with a trailing `/`, the configured
    /// `delivery.public_url` (what Twilio signs).
    pub base: String,
    /// A client that never goes through a proxy.
    pub http: reqwest::Client,
}

/// The daemon's routes, serving one test database until stopped or dropped.
pub struct TestApp {
    /// Its routes.
    routes: Routes,
    /// The counters the routes write.
    pub metrics: Arc<Metrics>,
    /// Stops the server.
    stop: Option<oneshot::Sender<()>>,
    /// The server task.
    task: Option<JoinHandle<()>>,
    /// Holds secret files the gateways read, for as long as the app runs.
    _secrets: Option<TempDir>,
}

/// What a [`TestApp`] is served with; every part has a default.
pub struct TestAppBuilder {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sms: SmsSettings,
    secrets: Option<TempDir>,
    payments_token: Option<String>,
    channels: ChannelHealth,
    dashboard_open: bool,
    dashboard_pages: CachePolicy,
}

impl TestApp {
    /// An app on `db` with the system clock, no gateways, no payments token
    /// and every channel in service.
    pub fn builder(db: &TestDb) -> TestAppBuilder {
        TestAppBuilder {
            store: db.store.clone(),
            clock: Arc::new(SystemClock),
            sms: SmsSettings::default(),
            secrets: None,
            payments_token: None,
            channels: ChannelHealth::default(),
            dashboard_open: false,
            dashboard_pages: CachePolicy::default(),
        }
    }

    /// Stops the server and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(PATIENCE, task).await.unwrap().unwrap();
        }
    }
}

impl Deref for TestApp {
    type Target = Routes;

    fn deref(&self) -> &Routes {
        &self.routes
    }
}

impl Routes {
    /// The routes at `base`, called through a client that never goes
    /// through a proxy.
    pub fn at(base: String) -> Self {
        Self {
            base,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    /// `base` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path`: the status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// `POST path` with a body of `content_type`: the status and body.
    pub async fn post(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let response = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// A form POST to `path`, with `X-Twilio-Signature` if given.
    pub async fn post_twilio(&self, path: &str, form: &[(&str, &str)], signature: Option<String>) -> (u16, String) {
        let mut request = self.http.post(self.url(path)).form(form);
        if let Some(signature) = signature {
            request = request.header("X-Twilio-Signature", signature);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// `POST /api/v1/payments` with `body`, as a bearer of `token`: the
    /// status and the JSON answer (`null` when it is not JSON).
    pub async fn post_payment(&self, token: Option<&str>, body: &str) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(self.url("/api/v1/payments"))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `GET /readyz`: the status and text.
    pub async fn readyz(&self) -> (u16, String) {
        self.get("/readyz").await
    }

    /// Polls `GET /metrics` until it contains `needle` (at most 10 s),
    /// returning the text.
    pub async fn wait_for_metric(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let (_, text) = self.get("/metrics").await;
            if text.contains(needle) || std::time::Instant::now() > deadline {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestAppBuilder {
    /// The clock the routes and receipts read "now" from.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The gateways receipts and inbound SMS are accepted from, with the
    /// folder holding their secret files (kept until the app is dropped).
    pub fn gateways(mut self, sms: SmsSettings, secrets: Option<TempDir>) -> Self {
        self.sms = sms;
        self.secrets = secrets;
        self
    }

    /// The payments API's bearer token (without one it refuses every call).
    pub fn payments_token(mut self, token: Option<&str>) -> Self {
        self.payments_token = token.map(str::to_string);
        self
    }

    /// Where the channels report being out of service (for `/readyz`).
    /// Serves the dashboard without a token (as on a loopback address).
    pub fn open_dashboard(mut self) -> Self {
        self.dashboard_open = true;
        self
    }

    /// Which dashboard pages are kept, and for how long.
    pub fn dashboard_pages(mut self, policy: CachePolicy) -> Self {
        self.dashboard_pages = policy;
        self
    }

    pub fn channels(mut self, health: ChannelHealth) -> Self {
        self.channels = health;
        self
    }

    /// Binds 127.0.0.1:0 and serves the daemon's router there.
    pub async fn spawn(self) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let receipts = ReceiptGateways::from_settings(&self.sms, &format!("{base}/"))
            .unwrap()
            .with_clock(self.clock.clone());
        let metrics = Arc::new(Metrics::default());
        let state = AppState {
            store: self.store,
            metrics: metrics.clone(),
            receipts: Arc::new(receipts),
            clock: self.clock,
            payments: Arc::new(PaymentsApi {
                token: self.payments_token,
                attribution_secs: ATTRIBUTION_SECS,
            }),
            dashboard: Arc::new(pengingat::http::dashboard::DashboardContext {
                open: self.dashboard_open,
                pages: Arc::new(PageCache::new(self.dashboard_pages)),
                ..Default::default()
            }),
            channels: self.channels,
        };
        let app = router(state);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        TestApp {
            routes: Routes::at(base),
            metrics,
            stop: Some(stop),
            task: Some(task),
            _secrets: self.secrets,
        }
    }
}

/// The whole daemon run in-process, until stopped or dropped.
pub struct TestDaemon {
    /// Its routes.
    routes: Routes,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Stops the daemon.
    stop: Option<oneshot::Sender<()>>,
    /// The daemon's run, with what it ended with.
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestDaemon {
    /// Builds the daemon from `settings` (listening on `http.bind`), with
    /// "now" read from `clock`, and runs it.
    pub async fn start(settings: Settings, clock: Arc<dyn Clock>) -> Self {
        Self::run(Daemon::build(settings, clock).await.expect("daemon builds"))
    }

    /// The same, listening on `listener`.
    pub async fn start_on(listener: tokio::net::TcpListener, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        Self::run(
            Daemon::build_on(listener, settings, clock)
                .await
                .expect("daemon builds"),
        )
    }

    fn run(daemon: Daemon) -> Self {
        let addr = daemon.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(daemon.run(async move {
            let _ = stopped.await;
        }));
        Self {
            routes: Routes::at(format!("http://{addr}")),
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the daemon; it must stop cleanly within 10 s.
    pub async fn stop(self) {
        self.stop_within(PATIENCE).await;
    }

    /// Stops the daemon; it must stop cleanly within `patience`.
    pub async fn stop_within(mut self, patience: Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(patience, task)
                .await
                .expect("stops in time")
                .unwrap()
                .expect("stops cleanly");
        }
    }
}

impl Deref for TestDaemon {
    type Target = Routes;

    fn deref(&self) -> &Routes {
        &self.routes
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
