//! The scan: on each tick, the reminders due now are created, kelurahan by
//! kelurahan, set-based and idempotent.
//!
//! [`plan`] computes, in pure Rust, every kelurahan's occurrences (the rule's
//! day in the kelurahan's time zone, with its holidays and send window); the
//! store then writes each rule and channel as one `INSERT … SELECT` keyed on
//! (participant, contribution month, rule, channel), so a second scan, or a
//! scan on another instance, creates nothing twice. Correctness never depends
//! on a tick firing exactly once. Those statements are independent: on
//! PostgreSQL two run at once.
//!
//! With `[holdout]` on, each scan first brings the holdout group up to date
//! (`domain::holdout`); the rules it names record its members' reminders
//! as skipped, reason `holdout`.
//!
//! A schedule edit applies to what is not yet sent: [`replan`] moves or
//! cancels the pending reminders of an edited rule before the new ones are
//! created, and [`urgency`] says which reminder keeps a day.
//!
//! A daemon keeps a [`ScanMemo`] from tick to tick: a repeat scan then
//! probes only the participants written since the last one ([`memo`]).

mod batches;
pub mod memo;
pub mod plan;
mod preview;
pub mod reach;
pub mod replan;
pub mod urgency;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};

use crate::domain::{DueDateRules, StandingRules};
use crate::schedule::Schedules;
use crate::store::{InsertedReminders, Kelurahan, Reminders, RuleOccurrences, ScanTotals, StoreError};

pub use memo::ScanMemo;
use memo::{BatchKey, NextMemo, Previous, Written};
pub use plan::{PlanMode, ScanPlan, epoch_day};
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
/// re-plans those of rules edited since the last scan, creates what is due,
/// and leaves each participant at most one message per channel per local
/// day. Every participant is probed, as by a process's first scan.
pub async fn run(store: &dyn Reminders, ctx: &ScanContext<'_>, now: DateTime<Utc>) -> Result<ScanReport, StoreError> {
    run_remembering(store, ctx, now, &mut ScanMemo::default()).await
}

/// [`run`], given what this process's last scan left in `memo`, and leaving
/// this one's there when it succeeds: of the pairs probed before, only the
/// participants written since are probed again. It creates the same
/// reminders as [`run`].
pub async fn run_remembering(
    store: &dyn Reminders,
    ctx: &ScanContext<'_>,
    now: DateTime<Utc>,
    memo: &mut ScanMemo,
) -> Result<ScanReport, StoreError> {
    let started = std::time::Instant::now();
    let mut report = ScanReport::default();
    report.totals.started_at = now.timestamp();
    // Taken before anything is read: whatever is written from here on is
    // probed by the next scan.
    let mark = store.participant_write_mark().await?;
    let deletions = store.reminder_deletions().await?;
    let holdout_key = format!("{:?}", ctx.schedules.holdout());
    let (previous, written) = previous_scan(store, memo, deletions, &holdout_key).await?;
    let names: Vec<String> = ctx.schedules.rules().iter().map(|r| r.name.clone()).collect();
    if !previous.as_ref().is_some_and(|p| p.same_rules(&names)) {
        report.totals.cancelled = store.cancel_removed_rules(&names, now).await?;
    }
    let fingerprints = replan::fingerprints(ctx.schedules, ctx.due, ctx.standing);
    let moved_from = replan_edited(store, ctx, &fingerprints, now, &mut report).await?;
    let last_scan = store
        .last_scan_started_at()
        .await?
        .and_then(|t| DateTime::from_timestamp(t, 0));
    // Holdout membership follows the participants: unchanged when none was written.
    let previous = match (previous, &written) {
        (Some(p), Some(w)) if w.is_empty() => Some(p),
        (previous, _) => {
            let changed = refresh_holdout(store, ctx.schedules, now).await?;
            previous.filter(|_| !changed)
        }
    };
    let plan = plan::plan(
        ctx.schedules,
        ctx.kelurahan,
        ctx.due,
        ctx.standing,
        now,
        last_scan,
        PlanMode::Scan,
    );
    let mut next = NextMemo::new(mark, deletions, names.clone(), holdout_key);
    // Batches are independent (each rule and channel has its own keys), so
    // a backend with writers side by side runs several at once; at a
    // country's size the inserts are most of a first scan.
    let keys: Vec<BatchKey> = plan.batches.iter().map(|b| BatchKey::of(b, &fingerprints)).collect();
    let known = previous.as_ref().zip(written.as_ref());
    let inserts: Vec<_> = (plan.batches.iter().zip(&keys))
        .map(|(batch, key)| insert_batch(store, batch, key, known, now))
        .collect();
    let inserted: Vec<InsertedReminders> = futures::stream::iter(inserts)
        .buffered(store.parallel_inserts().max(1))
        .try_collect()
        .await?;
    for ((batch, key), inserted) in plan.batches.iter().zip(keys).zip(inserted) {
        next.probed(key, batch);
        report.totals.created += inserted.created;
        report.totals.skipped += inserted.skipped;
        report
            .per_rule
            .push((batch.rule.clone(), inserted.created, inserted.skipped));
    }
    // A day can only gain a second holder from a reminder created or moved
    // by this scan, or by one that ended before superseding (not this
    // process's last: it succeeded).
    if previous.is_none() || report.totals.created > 0 || moved_from.is_some() {
        let from = moved_from.map_or(plan.from_send_date, |d| d.min(plan.from_send_date));
        report.totals.superseded = store.supersede_same_day(from, &names, now).await?;
    }
    report.totals.finished_at = now.timestamp() + started.elapsed().as_secs() as i64;
    let fingerprints = serde_json::to_string(&fingerprints).unwrap_or_default();
    store.record_scan(&report.totals, &fingerprints).await?;
    memo.remember(next);
    Ok(report)
}

/// The last scan's memory, if it still holds, with the participants written
/// since its mark (`None`, and no memory, when there are too many).
async fn previous_scan(
    store: &dyn Reminders,
    memo: &mut ScanMemo,
    deletions: i64,
    holdout_key: &str,
) -> Result<(Option<Previous>, Option<Written>), StoreError> {
    let Some(previous) = memo.take_for(deletions, holdout_key) else {
        return Ok((None, None));
    };
    match store
        .participants_written_since(previous.mark(), memo::MAX_WRITTEN)
        .await?
    {
        Some(rows) => Ok((Some(previous), Some(Written::new(rows)))),
        None => Ok((None, None)),
    }
}

/// Inserts one batch: in full, or, given the last scan's memory and the
/// participants written since, its new pairs in full and the pairs probed
/// before for the written participants only.
async fn insert_batch(
    store: &dyn Reminders,
    batch: &RuleOccurrences,
    key: &BatchKey,
    previous: Option<(&Previous, &Written)>,
    now: DateTime<Utc>,
) -> Result<InsertedReminders, StoreError> {
    let Some((previous, written)) = previous.filter(|(p, _)| p.knows(key)) else {
        return store.insert_reminders(batch, now).await;
    };
    let (everyone, only_written) = previous.split(batch, key, written);
    let mut total = InsertedReminders::default();
    if let Some(b) = everyone {
        let n = store.insert_reminders(&b, now).await?;
        total.created += n.created;
        total.skipped += n.skipped;
    }
    if let Some(b) = only_written {
        let n = store.insert_reminders_of(&b, &written.ids, now).await?;
        total.created += n.created;
        total.skipped += n.skipped;
    }
    Ok(total)
}

/// Makes the holdout group what `[holdout]` and today's participants say
/// (empty when it is off), before any reminder of this scan is created;
/// whether it changed.
async fn refresh_holdout(store: &dyn Reminders, schedules: &Schedules, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let settings = schedules.holdout();
    let members = if settings.enabled() {
        let candidates = store.holdout_candidates().await?;
        crate::domain::holdout::assign(&candidates, settings.fraction, &settings.salt)
    } else {
        Vec::new()
    };
    let changed = store.replace_holdout(&members, now).await?;
    if changed {
        tracing::info!(members = members.len(), "holdout group updated");
    }
    Ok(changed)
}

/// Re-plans the unsent reminders of the rules whose fingerprint differs
/// from the last scan's; the earliest send date a reminder moved to, if any.
async fn replan_edited(
    store: &dyn Reminders,
    ctx: &ScanContext<'_>,
    fingerprints: &BTreeMap<String, String>,
    now: DateTime<Utc>,
    report: &mut ScanReport,
) -> Result<Option<i32>, StoreError> {
    let previous: Option<BTreeMap<String, String>> = store
        .last_plan_fingerprints()
        .await?
        .and_then(|text| serde_json::from_str(&text).ok());
    let changed = replan::changed_rules(fingerprints, previous.as_ref());
    if changed.is_empty() {
        return Ok(None);
    }
    // Superseded and skipped reminders matter only as far back as a scan
    // looks for missed days.
    let recent = epoch_day(now.date_naive()) - plan::LOOKBACK_DAYS as i32 - 2;
    let groups = store.unsent_reminder_groups(&changed, recent).await?;
    let changes = replan::replan(&groups, ctx, &changed, now);
    if changes.is_empty() {
        return Ok(None);
    }
    let counts = store.apply_replan(&changes, now).await?;
    report.totals.replanned = counts.moved;
    report.totals.cancelled += counts.cancelled;
    Ok(changes.earliest_send_date())
}
