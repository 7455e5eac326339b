//! Retention from the scan loop: at start and on the first tick after each
//! month's end, in a task of its own, so a long first run (a database that
//! has never been trimmed) holds up neither the scans nor the watchdog. A
//! failed run is tried again an hour later.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::task::JoinHandle;

use super::Shared;
use super::snapshots::next_month_end;
use crate::retention::{self, RetentionContext, RetentionReport};
use crate::store::StoreError;

/// When the scan loop next starts retention, and the run in progress.
pub(super) struct RetentionSchedule {
    /// The next instant worth a run.
    next: DateTime<Utc>,
    /// The run in progress and the instant it started at.
    running: Option<(DateTime<Utc>, JoinHandle<bool>)>,
}

impl RetentionSchedule {
    /// Due at once.
    pub(super) fn starting(now: DateTime<Utc>) -> Self {
        Self {
            next: now,
            running: None,
        }
    }

    /// Collects a finished run, then starts one when `now` has reached the next.
    pub(super) async fn tick(&mut self, shared: &Arc<Shared>, now: DateTime<Utc>) {
        if let Some((started, handle)) = self.running.take_if(|(_, h)| h.is_finished()) {
            let done = handle.await.unwrap_or(false);
            self.next = if done {
                next_month_end(started)
            } else {
                now + Duration::hours(1)
            };
        }
        if self.running.is_some() || now < self.next {
            return;
        }
        let shared = Arc::clone(shared);
        let handle = tokio::spawn(async move {
            match run(&shared, now).await {
                Ok(report) => {
                    log(&report);
                    true
                }
                Err(e) => {
                    tracing::error!(error = %e, "retention failed; it is tried again in an hour");
                    false
                }
            }
        });
        self.running = Some((now, handle));
    }
}

impl Drop for RetentionSchedule {
    /// A run cut short keeps the batches it committed; the one in progress rolls back.
    fn drop(&mut self) {
        if let Some((_, handle)) = &self.running {
            handle.abort();
        }
    }
}

/// One run at `now` with the current schedules and settings.
pub(super) async fn run(shared: &Shared, now: DateTime<Utc>) -> Result<RetentionReport, StoreError> {
    let kelurahan = shared.store.list_kelurahan().await?;
    let schedules = shared.schedules.borrow().clone();
    let due = shared.settings.due_date.rules();
    let standing = shared.settings.standing.rules();
    let ctx = RetentionContext {
        kelurahan: &kelurahan,
        schedules: &schedules,
        due: &due,
        standing: &standing,
    };
    retention::run(shared.store.as_ref(), ctx, shared.settings.retention.months, now).await
}

fn log(report: &RetentionReport) {
    match (report.before_month, report.history_cutoff) {
        (Some(month), Some(cutoff)) => tracing::info!(
            reminders = report.reminders,
            before_month = %month,
            history_before = %cutoff.format("%Y-%m-%d"),
            "retention done"
        ),
        _ => tracing::debug!("history partitions ready; retention is off"),
    }
}
