//! The tick source. tokio-cron-scheduler fires a UTC tick every
//! [`TICK_SECONDS`]; the scan loop then evaluates the operators' cron
//! expressions itself, in their time zone, on the injected clock. This keeps
//! local times right (its own time-zone jobs freeze the UTC offset: upstream
//! issues #87, #107), makes catch-up explicit, and keeps correctness in the
//! database: a tick that fires twice, or not at all, changes nothing but
//! timing.

use tokio::sync::mpsc;
use tokio_cron_scheduler::{Job, JobScheduler};

/// Seconds between ticks.
pub const TICK_SECONDS: u64 = 15;

/// A running tick source.
pub struct Ticker {
    /// The scheduler; shut down on stop.
    scheduler: JobScheduler,
}

impl Ticker {
    /// Starts ticking into `ticks` (a full channel drops the tick: the scan
    /// loop is busy and will look at the clock when it is done).
    pub async fn start(ticks: mpsc::Sender<()>) -> anyhow::Result<Self> {
        let scheduler = JobScheduler::new().await?;
        let expression = format!("*/{TICK_SECONDS} * * * * *");
        let job = Job::new_async(expression.as_str(), move |_id, _lock| {
            let ticks = ticks.clone();
            Box::pin(async move {
                let _ = ticks.try_send(());
            })
        })?;
        scheduler.add(job).await?;
        scheduler.start().await?;
        Ok(Self { scheduler })
    }

    /// Stops ticking; a job already running is not waited for (it only
    /// sends on a channel).
    pub async fn stop(mut self) {
        if let Err(e) = self.scheduler.shutdown().await {
            tracing::warn!(error = %e, "tick scheduler did not shut down cleanly");
        }
    }
}
