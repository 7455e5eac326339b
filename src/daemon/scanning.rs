//! The scan loop and the watchdog.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::retention::RetentionSchedule;
use super::snapshots::SnapshotSchedule;
use super::{Shared, systemd, tick_source::TICK_SECONDS};
use crate::scan::{self, ScanContext};

/// Scans once at start (which catches up after downtime), then whenever a
/// tick finds that one of the operators' scan times has passed, and right
/// after a successful reload; takes the monthly standing snapshots, and runs
/// retention, at start and after each month's end.
pub(super) async fn scan_loop(shared: Arc<Shared>, mut ticks: mpsc::Receiver<()>, cancel: CancellationToken) {
    let mut last_evaluated = shared.clock.now();
    scan_now(&shared, &cancel).await;
    let mut snapshots = SnapshotSchedule::starting(last_evaluated);
    snapshots.tick(&shared, last_evaluated).await;
    let mut retention = RetentionSchedule::starting(last_evaluated);
    retention.tick(&shared, last_evaluated).await;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = shared.rescan.notified() => scan_now(&shared, &cancel).await,
            tick = ticks.recv() => {
                if tick.is_none() {
                    break;
                }
                let now = shared.clock.now();
                shared.last_tick.store(shared.started.elapsed().as_millis() as u64, Ordering::Relaxed);
                let schedules = shared.schedules.borrow().clone();
                if let Some(at) = schedules.scan_due_between(last_evaluated, now) {
                    tracing::debug!(scheduled = %at, "scan time reached");
                    scan_now(&shared, &cancel).await;
                }
                snapshots.tick(&shared, now).await;
                retention.tick(&shared, now).await;
                last_evaluated = now;
            }
        }
    }
}

/// Runs one scan and records its outcome; a failure is logged and counted,
/// and the next tick tries again.
pub(super) async fn scan_now(shared: &Shared, cancel: &CancellationToken) {
    if cancel.is_cancelled() {
        return;
    }
    let now: DateTime<Utc> = shared.clock.now();
    let started = std::time::Instant::now();
    let schedules = shared.schedules.borrow().clone();
    let kelurahan = match shared.store.list_kelurahan().await {
        Ok(k) => k,
        Err(e) => {
            shared.metrics.record_scan_failure();
            tracing::error!(error = %e, "scan failed: cannot list kelurahan");
            return;
        }
    };
    let due = shared.settings.due_date.rules();
    let standing = shared.settings.standing.rules();
    let ctx = ScanContext {
        schedules: &schedules,
        kelurahan: &kelurahan,
        due: &due,
        standing: &standing,
    };
    let mut memo = shared.scan_memo.lock().await;
    match scan::run_remembering(shared.store.as_ref(), &ctx, now, &mut memo).await {
        Ok(report) => {
            let micros = started.elapsed().as_micros() as u64;
            shared
                .metrics
                .record_scan(micros, report.totals.superseded, report.totals.cancelled);
            for (rule, created, skipped) in &report.per_rule {
                shared.metrics.record_rule(rule, *created, *skipped);
            }
            let t = report.totals;
            tracing::info!(
                created = t.created,
                skipped = t.skipped,
                superseded = t.superseded,
                cancelled = t.cancelled,
                replanned = t.replanned,
                millis = micros / 1000,
                "scan finished"
            );
            systemd::status(&format!(
                "last scan {}: {} created, {} skipped, {} superseded",
                now.format("%Y-%m-%d %H:%M UTC"),
                t.created,
                t.skipped,
                t.superseded
            ));
        }
        Err(e) => {
            shared.metrics.record_scan_failure();
            tracing::error!(error = %e, "scan failed; the next tick tries again");
        }
    }
}

/// Pings systemd's watchdog at half its interval, but only while ticks keep
/// coming and the database answers: a stuck daemon gets restarted.
pub(super) async fn watchdog_loop(shared: Arc<Shared>, cancel: CancellationToken) {
    let Some(interval) = systemd::watchdog_interval() else {
        return;
    };
    let mut timer = tokio::time::interval(interval / 2);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = timer.tick() => {
                let now = shared.started.elapsed().as_millis() as u64;
                let last = shared.last_tick.load(Ordering::Relaxed);
                let ticking = now.saturating_sub(last) <= 4 * TICK_SECONDS * 1000;
                let db_ok = matches!(
                    tokio::time::timeout(Duration::from_secs(2), shared.store.ping()).await,
                    Ok(Ok(()))
                );
                if ticking && db_ok {
                    systemd::watchdog();
                } else {
                    tracing::warn!(ticking, db_ok, "not healthy: withholding the watchdog ping");
                }
            }
        }
    }
}
