//! The daemon (`pengingat run`): the HTTP server, the tick-driven scan loop,
//! schedule reloads, the systemd watchdog, and a graceful shutdown.
//!
//! Shaped like mini-redis' `run(listener, shutdown)`: [`Daemon::build`]
//! binds the listener (port 0 in tests), and [`Daemon::run`] serves until the
//! `shutdown` future completes, so a test can start and stop it in-process.

mod reload;
pub use reload::load_schedules;
mod scanning;
pub mod systemd;
mod ticker;

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

use crate::clock::Clock;
use crate::config::Settings;
use crate::http::{self, AppState};
use crate::metrics::Metrics;
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
    /// When the daemon started (monotonic), the origin of `last_tick`.
    pub started: Instant,
    /// Milliseconds after `started` of the last tick the scan loop saw, for
    /// the watchdog (monotonic: the injected clock may be simulated).
    pub last_tick: AtomicU64,
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
        let store = store::connect(&settings.database.url, &settings.database.connect_options()).await?;
        store.migrate().await?;
        let schedules_path = settings.schedules.path.clone();
        let schedules = reload::load_schedules(&schedules_path, store.as_ref()).await?;
        let listener = TcpListener::bind(&settings.http.bind)
            .await
            .with_context(|| format!("cannot listen on {} (http.bind)", settings.http.bind))?;
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
    pub fn reload_trigger(&self) -> Arc<Notify> {
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
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (tick_tx, tick_rx) = mpsc::channel(1);
        let ticker = ticker::Ticker::start(tick_tx).await?;
        tracker.spawn(scanning::scan_loop(self.shared.clone(), tick_rx, cancel.clone()));
        tracker.spawn(reload::reload_loop(
            self.shared.clone(),
            self.reload.clone(),
            cancel.clone(),
        ));
        tracker.spawn(scanning::watchdog_loop(self.shared.clone(), cancel.clone()));

        let state = AppState {
            store: self.shared.store.clone(),
            metrics: self.shared.metrics.clone(),
            receipts: Arc::new(
                crate::receipts::ReceiptGateways::from_settings(
                    &self.shared.settings.sms,
                    &self.shared.settings.delivery.public_url,
                )?
                .with_clock(self.shared.clock.clone()),
            ),
        };
        let app = http::router(state);
        let addr = self.listener.local_addr()?;
        let server_cancel = cancel.clone();
        let server = tokio::spawn(async move {
            axum::serve(self.listener, app)
                .with_graceful_shutdown(server_cancel.cancelled_owned())
                .await
        });
        tracing::info!(%addr, "pengingat is serving");
        systemd::ready(&format!("serving on {addr}"));

        shutdown.await;
        tracing::info!("shutting down");
        systemd::stopping();
        ticker.stop().await;
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
