//! The scan: on each tick, the reminders due now are created, kelurahan by
//! kelurahan, set-based and idempotent.
//!
//! [`plan`] computes, in pure Rust, every kelurahan's occurrences (the rule's
//! day in the kelurahan's time zone, with its holidays and send window); the
//! store then writes each rule and channel as one `INSERT … SELECT` keyed on
//! (participant, contribution month, rule, channel), so a second scan, or a
//! scan on another instance, creates nothing twice. Correctness never depends
//! on a tick firing exactly once.

pub mod plan;
pub mod reach;

use chrono::{DateTime, Utc};

use crate::domain::{DueDateRules, StandingRules};
use crate::schedule::Schedules;
use crate::store::{Kelurahan, ScanTotals, Store, StoreError};

pub use plan::{PlanMode, ScanPlan, epoch_day, rule_urgency};
pub use reach::arrears_filter_warnings;

/// Per-rule figures of one scan, for metrics and the CLI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Totals as stored in the `scans` table.
    pub totals: ScanTotals,
    /// (rule, created, skipped) per rule and channel batch.
    pub per_rule: Vec<(String, u64, u64)>,
}

/// What a scan needs besides the store and the clock.
pub struct ScanContext<'a> {
    /// The operator's schedules.
    pub schedules: &'a Schedules,
    /// Every kelurahan, with its time zone.
    pub kelurahan: &'a [Kelurahan],
    /// The national due-date rules (kelurahan holidays are added per kelurahan).
    pub due: &'a DueDateRules,
    /// When a participant is non-active.
    pub standing: &'a StandingRules,
}

/// Runs one scan at `now`: cancels pending reminders of removed rules,
/// releases those of rules whose timing changed, creates what is due, and
/// leaves each participant at most one message per channel per local day.
pub async fn run(store: &dyn Store, ctx: &ScanContext<'_>, now: DateTime<Utc>) -> Result<ScanReport, StoreError> {
    let started = std::time::Instant::now();
    let mut report = ScanReport::default();
    report.totals.started_at = now.timestamp();
    let names: Vec<String> = ctx.schedules.rules().iter().map(|r| r.name.clone()).collect();
    report.totals.cancelled = store.cancel_removed_rules(&names, now).await?;
    for rule in ctx.schedules.rules() {
        report.totals.cancelled += store
            .replace_changed_rule(&rule.name, rule_urgency(rule, ctx.standing), now)
            .await?;
    }
    let last_scan = store
        .last_scan_started_at()
        .await?
        .and_then(|t| DateTime::from_timestamp(t, 0));
    let plan = plan::plan(
        ctx.schedules,
        ctx.kelurahan,
        ctx.due,
        ctx.standing,
        now,
        last_scan,
        PlanMode::Scan,
    );
    for batch in &plan.batches {
        let inserted = store.insert_reminders(batch, now).await?;
        report.totals.created += inserted.created;
        report.totals.skipped += inserted.skipped;
        report
            .per_rule
            .push((batch.rule.clone(), inserted.created, inserted.skipped));
    }
    report.totals.superseded = store.supersede_same_day(plan.from_send_date, now).await?;
    report.totals.finished_at = now.timestamp() + started.elapsed().as_secs() as i64;
    store.record_scan(&report.totals).await?;
    Ok(report)
}
