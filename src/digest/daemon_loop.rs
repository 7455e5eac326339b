//! The daemon's digest task: every [`TICK`], on the injected clock, send
//! the digests that are due. The first tick comes at once, so a daemon
//! started after the digest time catches up within the same week. Ticks
//! only decide when to look: which digests go out, and that each goes out
//! once, is decided by the schedules and the database.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{DigestContext, send_due};
use crate::channels::EmailSender;
use crate::clock::Clock;
use crate::domain::{DueDateRules, StandingRules};
use crate::schedule::Schedules;
use crate::store::Store;

/// How often the loop looks for due digests.
pub const TICK: Duration = Duration::from_secs(60);

/// The digest task of one daemon.
pub struct DigestLoop {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The current schedules (reloads are seen at the next tick).
    pub schedules: watch::Receiver<Arc<Schedules>>,
    /// The SMTP relay, when e-mail is enabled.
    pub email: Option<Arc<EmailSender>>,
    /// Due-date rules before each kelurahan's own holidays.
    pub due: DueDateRules,
    /// When a participant is non-active.
    pub standing: StandingRules,
    /// The injected clock.
    pub clock: Arc<dyn Clock>,
    /// This instance's name, stored with its claims.
    pub worker: String,
}

impl DigestLoop {
    /// Runs until `cancel`; a digest being sent when it comes is finished first.
    pub async fn run(self, cancel: CancellationToken) {
        let mut timer = tokio::time::interval(TICK);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut warned = false;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = timer.tick() => {}
            }
            self.tick(&mut warned).await;
        }
    }

    /// One look at the clock: sends what is due, logs what failed.
    async fn tick(&self, warned: &mut bool) {
        let schedules = self.schedules.borrow().clone();
        if schedules.digest().is_none() {
            return;
        }
        let Some(email) = &self.email else {
            let has_coordinators = schedules
                .kelurahan_overrides()
                .values()
                .any(|o| !o.coordinators.is_empty());
            if has_coordinators && !*warned {
                tracing::warn!(
                    "[digest] is set and coordinators are configured, but e-mail is disabled: no digest is sent"
                );
                *warned = true;
            }
            return;
        };
        let ctx = DigestContext {
            store: self.store.as_ref(),
            schedules: &schedules,
            email,
            due: &self.due,
            standing: &self.standing,
            worker: &self.worker,
        };
        match send_due(&ctx, self.clock.now()).await {
            Ok(report) if !report.sent.is_empty() || !report.failed.is_empty() => tracing::info!(
                week = report.week.as_deref().unwrap_or_default(),
                sent = report.sent.len(),
                failed = report.failed.len(),
                "digests handled"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot look for due digests; the next tick tries again"),
        }
    }
}
