//! The daemon driven one step at a time: its HTTP server runs (receipts,
//! payments, dashboard), while the caller runs the scan, the dispatcher and
//! the receipt time-out when it chooses, with the same code as the loops of
//! [`Daemon::run`]. `pengingat demo` moves a simulated clock through two
//! months of contribution cycles this way in well under a minute.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{Daemon, Shared, dispatcher, scanning, serve_http, snapshots};
use crate::dispatch::{BatchReport, Dispatcher};
use crate::report::snapshot::SnapshotReport;
use crate::retention::RetentionReport;
use crate::schedule::{HoldoutSettings, Schedules};
use crate::store::{Store, StoreError};

/// A daemon whose loops the caller steps.
pub struct SteppedDaemon {
    /// Shared with the HTTP server.
    shared: Arc<Shared>,
    /// Sends due reminders when asked.
    dispatcher: Dispatcher,
    /// Where the HTTP server listens.
    addr: SocketAddr,
    /// Stops the HTTP server.
    cancel: CancellationToken,
    /// The HTTP server's task.
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Daemon {
    /// Starts the HTTP server and hands the loops to the caller.
    pub fn stepped(self) -> anyhow::Result<SteppedDaemon> {
        let cancel = CancellationToken::new();
        let (addr, server) = serve_http(self.listener, &self.shared, cancel.clone())?;
        let dispatcher = dispatcher(&self.shared);
        Ok(SteppedDaemon {
            shared: self.shared,
            dispatcher,
            addr,
            cancel,
            server,
        })
    }
}

impl SteppedDaemon {
    /// The HTTP server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The database.
    pub fn store(&self) -> Arc<dyn Store> {
        self.shared.store.clone()
    }

    /// The schedules in force.
    pub fn schedules(&self) -> Arc<Schedules> {
        self.shared.schedules.borrow().clone()
    }

    /// Puts `holdout` in force from the next scan on, as a reload of a
    /// schedules file with that `[holdout]` would.
    pub fn set_holdout(&self, holdout: HoldoutSettings) {
        let next = (*self.schedules()).clone().with_holdout(holdout);
        self.shared.schedules.send_replace(Arc::new(next));
    }

    /// One scan at the clock's "now", as the scan loop runs it.
    pub async fn scan(&self) {
        scanning::scan_now(&self.shared, &self.cancel).await;
    }

    /// Takes the monthly standing snapshots due at the clock's "now", as
    /// the scan loop does at start and after each month's end.
    pub async fn take_snapshots(&self) -> Result<SnapshotReport, StoreError> {
        snapshots::take(&self.shared, self.shared.clock.now()).await
    }

    /// Runs retention at the clock's "now", as the scan loop does at start
    /// and after each month's end.
    pub async fn run_retention(&self) -> Result<RetentionReport, StoreError> {
        super::retention::run(&self.shared, self.shared.clock.now()).await
    }

    /// Sends every reminder due at the clock's "now", batch after batch.
    pub(crate) async fn dispatch_due(&self) -> Result<BatchReport, StoreError> {
        self.dispatcher.drain().await
    }

    /// Times out reminders that waited too long for a final receipt.
    pub async fn time_out_unconfirmed(&self) {
        self.dispatcher.time_out_unconfirmed().await;
    }

    /// Stops the HTTP server.
    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = self.server.await;
    }
}
