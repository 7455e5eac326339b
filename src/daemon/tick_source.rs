//! The tick source: a tokio interval that ticks every [`TICK_SECONDS`]; the
//! scan loop then evaluates the operators' cron expressions itself, in their
//! time zone, on the injected clock. Keeping the cron evaluation out of the
//! tick source keeps local times right across offsets, makes catch-up
//! explicit, and keeps correctness in the database: a tick that fires twice,
//! or not at all, changes nothing but timing.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// Seconds between ticks.
pub(crate) const TICK_SECONDS: u64 = 15;

/// A running tick source.
pub struct TickSource {
    /// The task that ticks; aborted on stop.
    task: JoinHandle<()>,
}

impl TickSource {
    /// Starts ticking into `ticks`, the first tick one period from now (the
    /// scan loop scans at start by itself). A full channel drops the tick:
    /// the scan loop is busy and will look at the clock when it is done.
    pub async fn start(ticks: mpsc::Sender<()>) -> anyhow::Result<Self> {
        let period = Duration::from_secs(TICK_SECONDS);
        let task = tokio::spawn(async move {
            let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            // After a stall (a suspended host), one tick, not a burst.
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                if let Err(mpsc::error::TrySendError::Closed(())) = ticks.try_send(()) {
                    break;
                }
            }
        });
        Ok(Self { task })
    }

    /// Stops ticking.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}
