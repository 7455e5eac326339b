//! Retention: reminders of contribution months older than
//! `[retention] months`, with their receipts and status history, are
//! deleted once what reports read of them is kept as monthly totals; status
//! history and receipts older than the same age go by their own date. The
//! daemon runs it at start and after each month's end; `pengingat
//! retention` runs it at once. Payments, participants and the standing
//! snapshots are never deleted.
//!
//! Work goes in transactions of [`PARTICIPANTS_PER_BATCH`] participants,
//! so a large database is never locked for long (on SQLite the write lock
//! is held one batch at a time) and a run cut short keeps what it did.
//! Several instances may run it at once: a reminder is deleted, and its
//! totals kept, by whichever transaction takes its row first.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::domain::{ContributionMonth, DueDateRules, RegionTimeZone, StandingRules};
use crate::report::effect;
use crate::schedule::Schedules;
use crate::store::holdout::EffectRow;
use crate::store::retention::{RetiredEffect, RetirementBatch};
use crate::store::{Kelurahan, Store, StoreError};

/// Participants whose old months one transaction retires.
pub const PARTICIPANTS_PER_BATCH: i64 = 2_000;

/// Months of history partitions made ahead of the current one. Only
/// months still to come: a month's partition is made before any row of it
/// is written, never while rows of it go into the DEFAULT partition (which
/// attaching it would have to lock and check, racing those writes).
const MONTHS_AHEAD: u32 = 3;

/// What the effect judgement needs.
#[derive(Clone, Copy)]
pub struct RetentionContext<'a> {
    /// Every kelurahan (time zones, for the deadlines).
    pub kelurahan: &'a [Kelurahan],
    /// The schedules: the held-out rules, kelurahan holidays.
    pub schedules: &'a Schedules,
    /// The due-date rules before kelurahan holidays.
    pub due: &'a DueDateRules,
    /// When a participant is non-active (rules anchored on that day reach
    /// back months).
    pub standing: &'a StandingRules,
}

/// What one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionReport {
    /// Contribution months before this one were retired; `None` when
    /// retention is off (`months = 0`).
    pub before_month: Option<ContributionMonth>,
    /// Status history and receipts before this instant were dropped.
    pub history_cutoff: Option<DateTime<Utc>>,
    /// Reminders deleted.
    pub reminders: u64,
}

/// Makes the coming months' history partitions, then, unless `months` is
/// 0, retires what is older than `months` at `now`.
pub async fn run(
    store: &dyn Store,
    ctx: RetentionContext<'_>,
    months: u32,
    now: DateTime<Utc>,
) -> Result<RetentionReport, StoreError> {
    store.prepare_history(&utc_month_starts(now, MONTHS_AHEAD)).await?;
    let mut report = RetentionReport {
        before_month: None,
        history_cutoff: None,
        reminders: 0,
    };
    if months == 0 {
        return Ok(report);
    }
    let plannable = crate::scan::plan::earliest_plannable_month(ctx.schedules, ctx.due, ctx.standing, now);
    let before = retired_before(first_kept_month(now, months), plannable);
    report.before_month = Some(before);
    let rules = ctx.schedules.holdout().rules.clone();
    let judge = |rows: &[EffectRow]| -> Vec<RetiredEffect> {
        effect::retired_totals(rows, ctx.kelurahan, ctx.schedules, ctx.due, now)
    };
    if let Some((lowest, highest)) = store.participant_id_range().await? {
        let mut first = lowest;
        while first <= highest {
            let last = first.saturating_add(PARTICIPANTS_PER_BATCH - 1);
            let batch = RetirementBatch {
                first_participant: first,
                last_participant: last,
                before_month: before.index(),
            };
            report.reminders += store.retire_reminders(batch, &rules, &judge).await?.reminders;
            first = match last.checked_add(1) {
                Some(next) => next,
                None => break,
            };
        }
    }
    let cutoff = utc_month_start(before.first_day());
    store.drop_history_before(cutoff.timestamp()).await?;
    report.history_cutoff = Some(cutoff);
    Ok(report)
}

/// The first contribution month kept: the one `months` give, or the oldest
/// a scan can still plan when that is older (its reminders would be planned
/// and sent again once deleted).
fn retired_before(by_age: ContributionMonth, plannable: Option<ContributionMonth>) -> ContributionMonth {
    plannable.map_or(by_age, |p| p.min(by_age))
}

/// The first contribution month kept by age: `months` before the current WIB month.
pub fn first_kept_month(now: DateTime<Utc>, months: u32) -> ContributionMonth {
    let today = now.with_timezone(&RegionTimeZone::Wib.tz()).date_naive();
    ContributionMonth::of_date(today).plus(-i32::try_from(months).unwrap_or(i32::MAX))
}

/// The UTC instant a calendar month (given by any of its days) begins.
fn utc_month_start(day: NaiveDate) -> DateTime<Utc> {
    day.with_day(1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or_else(DateTime::default, |t| t.and_utc())
}

/// The first instants (Unix seconds) of the `ahead` UTC months after the
/// one holding `now`.
fn utc_month_starts(now: DateTime<Utc>, ahead: u32) -> Vec<i64> {
    let current = ContributionMonth::of_date(now.date_naive());
    (1..=ahead)
        .map(|n| utc_month_start(current.plus(n as i32).first_day()).timestamp())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn months_a_scan_can_still_plan_are_kept_whatever_the_age() {
        let now = at("2026-03-10T00:00:00Z");
        let by_age = first_kept_month(now, 3);
        let schedules = Schedules::shipped();
        let plannable = crate::scan::plan::earliest_plannable_month(
            &schedules,
            &DueDateRules::default(),
            &StandingRules::default(),
            now,
        );
        let plannable = plannable.expect("the shipped rules");
        // The shipped "nonaktif" rule reminds people three months behind.
        assert!(plannable < by_age, "{plannable} vs {by_age}");
        assert_eq!(retired_before(by_age, Some(plannable)), plannable);
        assert_eq!(
            retired_before(first_kept_month(now, 24), Some(plannable)),
            first_kept_month(now, 24)
        );
        assert_eq!(retired_before(by_age, None), by_age);
    }

    #[test]
    fn the_first_kept_month_counts_back_from_the_wib_month() {
        // 30 November 18:00 UTC is already 1 December in WIB.
        assert_eq!(first_kept_month(at("2026-11-30T18:00:00Z"), 24).to_string(), "2024-12");
        assert_eq!(first_kept_month(at("2026-11-30T16:00:00Z"), 24).to_string(), "2024-11");
        assert_eq!(first_kept_month(at("2026-03-10T00:00:00Z"), 3).to_string(), "2025-12");
    }

    #[test]
    fn partitions_are_made_for_the_utc_months_to_come() {
        let starts = utc_month_starts(at("2026-12-31T23:59:59Z"), 3);
        let expected = ["2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"];
        assert_eq!(starts, expected.map(|s| at(s).timestamp()).to_vec());
    }
}
