//! The daemon (`pengingat run`): the HTTP server, the tick-driven scan loop,
//! schedule reloads, the systemd watchdog, and a graceful shutdown.
//!
//! Shaped like mini-redis' `run(listener, shutdown)`: [`Daemon::build`]
//! binds the listener (port 0 in tests), and [`Daemon::run`] serves until the
//! `shutdown` future completes, so a test can start and stop it in-process.

mod inbox_loop;
mod reload;
mod stepped;
pub use reload::load_schedules;
pub use stepped::SteppedDaemon;
mod retention;
mod scanning;
mod snapshots;
pub mod systemd;
mod tick_source;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::channels::{ChannelHealth, DeploymentId, EmailSender, GatewayPool, RetryPolicy};
use crate::clock::Clock;
use crate::config::Settings;
use crate::dispatch::{Dispatcher, worker_name};
use crate::http::dashboard::DashboardContext;
use crate::http::payments::PaymentsApi;
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::receipts::ReceiptGateways;
use crate::schedule::Schedules;
use crate::store::{self, Store};

/// What the daemon's tasks share.
pub(crate) struct Shared {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The static configuration.
    pub settings: Settings,
    /// The injected clock.
    pub clock: Arc<dyn Clock>,
    /// Counters for /metrics.
    pub metrics: Arc<Metrics>,
    /// The current schedules; a reload swaps the whole value at once.
    pub schedules: watch::Sender<Arc<Schedules>>,
    /// Where the schedules are read from on reload.
    pub schedules_path: PathBuf,
    /// Asks the scan loop for a scan now (after a reload).
    pub rescan: Notify,
    /// What the last scan left for the next (see `scan::memo`).
    pub scan_memo: tokio::sync::Mutex<crate::scan::ScanMemo>,
    /// When the daemon started (monotonic), the origin of `last_tick`.
    pub started: Instant,
    /// Milliseconds after `started` of the last tick the scan loop saw, for
    /// the watchdog (monotonic: the injected clock may be simulated).
    pub last_tick: AtomicU64,
    /// SMS gateways, when any are configured.
    pub sms: Option<Arc<GatewayPool>>,
    /// The SMTP relay, when e-mail is enabled.
    pub email: Option<Arc<EmailSender>>,
    /// Channels out of service for a configuration error, for `/readyz`.
    pub channel_health: ChannelHealth,
    /// The gateways receipts and inbound SMS are accepted from, with their secrets.
    pub receipts: Arc<ReceiptGateways>,
    /// The payments API's token and attribution window.
    pub payments_api: Arc<PaymentsApi>,
    /// The dashboard's token, when one is configured.
    pub dashboard_token: Option<String>,
}

/// The SMS gateways and the SMTP relay, each when configured.
type Channels = (Option<Arc<GatewayPool>>, Option<Arc<EmailSender>>);

/// The outbound channels the settings describe; SMS idempotency keys carry
/// `deployment`, the database's id.
fn build_channels(settings: &Settings, deployment: DeploymentId, health: &ChannelHealth) -> anyhow::Result<Channels> {
    let sms = if settings.sms.gateways.is_empty() {
        None
    } else {
        let http = reqwest::Client::builder()
            .build()
            .context("cannot build the HTTP client")?;
        let pool = GatewayPool::from_settings(&settings.sms, &settings.delivery.public_url, http)
            .context("invalid [[sms.gateway]] configuration")?
            .for_deployment(deployment)
            .with_health(health.clone());
        Some(Arc::new(pool))
    };
    let email = if settings.email.enabled {
        Some(Arc::new(
            EmailSender::from_settings(&settings.email)
                .context("invalid [email] configuration")?
                .with_health(health.clone()),
        ))
    } else {
        None
    };
    Ok((sms, email))
}

/// What the settings build before the daemon starts: the channels, the
/// receipt endpoints and the secrets the HTTP routes check. `check-config`
/// builds the same, so it refuses exactly what `run` would.
pub struct Wiring {
    sms: Option<Arc<GatewayPool>>,
    email: Option<Arc<EmailSender>>,
    receipts: ReceiptGateways,
    payments_api: PaymentsApi,
    dashboard_token: Option<String>,
}

impl Wiring {
    /// Builds everything from `settings`, reading every secret file and
    /// variable they name; the first problem is the error.
    pub fn from_settings(
        settings: &Settings,
        deployment: DeploymentId,
        health: &ChannelHealth,
    ) -> anyhow::Result<Self> {
        let (sms, email) = build_channels(settings, deployment, health)?;
        let receipts = ReceiptGateways::from_settings(&settings.sms, &settings.delivery.public_url)
            .context("cannot set up the receipt endpoints")?;
        let payments_api = PaymentsApi {
            token: settings
                .payments
                .token()
                .context("cannot read the payments API token")?,
            attribution_secs: settings.payments.attribution_secs(),
        };
        let dashboard_token = settings.dashboard.token().context("cannot read the dashboard token")?;
        Ok(Self {
            sms,
            email,
            receipts,
            payments_api,
            dashboard_token,
        })
    }
}

/// A dispatcher working for this daemon.
fn dispatcher(shared: &Shared) -> Dispatcher {
    Dispatcher {
        store: shared.store.clone(),
        sms: shared.sms.clone(),
        email: shared.email.clone(),
        schedules: shared.schedules.subscribe(),
        due: shared.settings.due_date.rules(),
        standing: shared.settings.standing.rules(),
        settings: shared.settings.delivery.clone(),
        retry: RetryPolicy::from_settings(&shared.settings.sms.retry),
        clock: shared.clock.clone(),
        worker: worker_name(),
        presets: shared
            .settings
            .sms
            .gateways
            .iter()
            .map(|g| (g.name.clone(), g.preset))
            .collect(),
        kelurahan: Default::default(),
        metrics: shared.metrics.clone(),
    }
}

/// The HTTP app of the daemon's shared state.
fn app_state(shared: &Shared, open_dashboard: bool) -> AppState {
    AppState {
        store: shared.store.clone(),
        metrics: shared.metrics.clone(),
        receipts: shared.receipts.clone(),
        clock: shared.clock.clone(),
        payments: shared.payments_api.clone(),
        dashboard: Arc::new(DashboardContext {
            token: shared.dashboard_token.clone(),
            open: open_dashboard,
            due: shared.settings.due_date.rules(),
            standing: shared.settings.standing.rules(),
            schedules: Some(shared.schedules.subscribe()),
            pages: Default::default(),
        }),
        channels: shared.channel_health.clone(),
    }
}

/// The spawned HTTP server: its address and task.
type Server = (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>);

/// Serves the daemon's routes on `listener` until `cancel`. The dashboard
/// is open only on a loopback address.
fn serve_http(listener: TcpListener, shared: &Shared, cancel: CancellationToken) -> anyhow::Result<Server> {
    let addr = listener.local_addr()?;
    let app = http::router(app_state(shared, addr.ip().is_loopback()));
    let limits = http::serve::ServerLimits::from_settings(&shared.settings.http);
    let server = tokio::spawn(http::serve::serve(listener, app, limits, cancel));
    Ok((addr, server))
}

/// A daemon ready to run.
pub struct Daemon {
    /// The bound HTTP listener.
    listener: TcpListener,
    /// Shared with every task.
    shared: Arc<Shared>,
    /// Notified to reload the schedules (SIGHUP in `pengingat run`).
    reload: Arc<Notify>,
}

impl Daemon {
    /// Opens and migrates the database, loads and validates the schedules
    /// (refusing to start on an error), and binds the HTTP listener.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.http.bind)
            .await
            .with_context(|| format!("cannot listen on {} (http.bind)", settings.http.bind))?;
        Self::build_on(listener, settings, clock).await
    }

    /// [`Daemon::build`] on a listener bound already (tests that must know
    /// the address before the gateways are configured with it).
    pub async fn build_on(listener: TcpListener, settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = store::connect(&settings.database.url, &settings.database.connect_options()).await?;
        store.migrate().await?;
        let schedules_path = settings.schedules.path.clone();
        let schedules = reload::load_schedules(&schedules_path, store.as_ref()).await?;
        reload::log_warnings(&schedules, &settings, clock.now());
        let deployment = store
            .deployment_id()
            .await
            .context("cannot read the database's deployment id")?;
        let deployment = DeploymentId::parse(&deployment).context("the database's deployment id")?;
        let channel_health = ChannelHealth::default();
        let Wiring {
            sms,
            email,
            receipts,
            payments_api,
            dashboard_token,
        } = Wiring::from_settings(&settings, deployment, &channel_health)?;
        let receipts = receipts.with_clock(clock.clone());
        let (schedules, _) = watch::channel(Arc::new(schedules));
        let shared = Arc::new(Shared {
            store,
            settings,
            metrics: Arc::new(Metrics::default()),
            started: Instant::now(),
            last_tick: AtomicU64::new(0),
            clock,
            schedules,
            schedules_path,
            rescan: Notify::new(),
            scan_memo: Default::default(),
            sms,
            email,
            channel_health,
            receipts: Arc::new(receipts),
            payments_api: Arc::new(payments_api),
            dashboard_token,
        });
        Ok(Self {
            listener,
            shared,
            reload: Arc::new(Notify::new()),
        })
    }

    /// The address the HTTP server listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Notify this to reload the schedules file.
    pub(crate) fn reload_trigger(&self) -> Arc<Notify> {
        self.reload.clone()
    }

    /// The database the daemon uses.
    pub fn store(&self) -> Arc<dyn Store> {
        self.shared.store.clone()
    }

    /// Serves until `shutdown` completes, then stops taking ticks, lets the
    /// current scan finish its transaction, drains the HTTP server and
    /// closes the database.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (tick_tx, tick_rx) = mpsc::channel(1);
        let ticks = tick_source::TickSource::start(tick_tx).await?;
        let result = self.run_on_ticks(tick_rx, shutdown).await;
        ticks.stop().await;
        result
    }

    /// [`Daemon::run`] with the ticks coming from `ticks` instead of real
    /// time: a test on a fixed clock moves the clock, then ticks, and sees
    /// exactly what the scan loop does on that tick.
    pub async fn run_on_ticks(
        self,
        ticks: mpsc::Receiver<()>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        tracker.spawn(scanning::scan_loop(self.shared.clone(), ticks, cancel.clone()));
        tracker.spawn(reload::reload_loop(
            self.shared.clone(),
            self.reload.clone(),
            cancel.clone(),
        ));
        tracker.spawn(scanning::watchdog_loop(self.shared.clone(), cancel.clone()));
        if let Some(dir) = self.shared.settings.payments.inbox_dir.clone() {
            tracker.spawn(inbox_loop::inbox_loop(self.shared.clone(), dir, cancel.clone()));
        }
        tracker.spawn(
            crate::digest::DigestLoop {
                store: self.shared.store.clone(),
                schedules: self.shared.schedules.subscribe(),
                email: self.shared.email.clone(),
                due: self.shared.settings.due_date.rules(),
                standing: self.shared.settings.standing.rules(),
                clock: self.shared.clock.clone(),
                worker: worker_name(),
            }
            .run(cancel.clone()),
        );
        let has_channel = self.shared.sms.is_some() || self.shared.email.is_some();
        if self.shared.settings.delivery.enabled && has_channel {
            tracker.spawn(dispatcher(&self.shared).run(cancel.clone()));
        } else if self.shared.settings.delivery.enabled {
            // Sending with no channel would only fail every reminder.
            tracing::warn!("no [[sms.gateway]] and e-mail disabled: reminders are created but not sent");
        }

        let (addr, server) = serve_http(self.listener, &self.shared, cancel.clone())?;
        tracing::info!(%addr, "pengingat is serving");
        systemd::ready(&format!("serving on {addr}"));

        shutdown.await;
        tracing::info!("shutting down");
        systemd::stopping();
        cancel.cancel();
        tracker.close();
        tracker.wait().await;
        match server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "HTTP server stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "HTTP server task failed"),
        }
        tracing::info!("stopped");
        Ok(())
    }
}
