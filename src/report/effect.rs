//! `pengingat report --effect` and the dashboard's effect card: what the
//! reminders achieve, measured against the holdout group.
//!
//! For each kelurahan (and in total) and each contribution month, the
//! participants who had a reminder row of a held-out rule for that month
//! (their first unpaid month when the rule's day came) are split into
//! those reminded and those held out (reason `holdout`). The measure is
//! intention-to-treat: a reminded participant counts as reminded whether
//! or not the message was delivered, and a held-out one as held out even
//! if a later, exempt rule reached them. Two shares are compared: paid by
//! the month's due date, and paid by 30 days after it (each only once that
//! day has ended in the kelurahan). The difference, reminded minus held
//! out, carries a 95% Newcombe interval (`domain::effect`); an interval
//! wider than `[holdout] max_interval_pp` reads "belum cukup data".

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::calendar::local_midnight;
use crate::domain::effect::{Difference, GroupOutcome, difference};
use crate::domain::{ContributionMonth, DueDateRules};
use crate::schedule::Schedules;
use crate::store::holdout::EffectRow;
use crate::store::{Kelurahan, Reports, StoreError};

/// Days after the due date of the second, later deadline.
pub const LATE_DEADLINE_DAYS: i64 = 30;

/// One deadline's comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    /// Reminded participants and how many of them paid by the deadline.
    pub reminded: Counts,
    /// Held-out participants and how many of them paid by the deadline.
    pub held_out: Counts,
    /// Reminded share minus held-out share, with its 95% interval; `None`
    /// when a group is empty.
    pub difference: Option<Interval>,
    /// Whether the interval is narrow enough to be read (else "belum cukup data").
    pub enough_data: bool,
}

/// A group's size and payers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub total: u64,
    pub paid: u64,
}

/// A difference in percentage points with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub estimate_pp: f64,
    pub low_pp: f64,
    pub high_pp: f64,
}

impl From<Difference> for Interval {
    fn from(d: Difference) -> Self {
        Self {
            estimate_pp: d.estimate_pp,
            low_pp: d.low_pp,
            high_pp: d.high_pp,
        }
    }
}

/// One line of the effect table: a kelurahan (or the total) and a month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectLine {
    /// The kelurahan code; `None` for the total over all kelurahan.
    pub kelurahan_code: Option<String>,
    /// The kelurahan's name (empty for the total).
    pub kelurahan_name: String,
    /// The contribution month, `YYYY-MM`.
    pub month: String,
    /// Paid by the due date; `None` while that day has not ended.
    pub by_due: Option<Comparison>,
    /// Paid by 30 days after the due date; `None` while that day has not ended.
    pub by_due_30: Option<Comparison>,
}

/// The whole effect report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectReport {
    /// Kelurahan lines by code then month, then the total lines by month.
    pub lines: Vec<EffectLine>,
    /// The widest interval shown as a figure, in percentage points.
    pub max_interval_pp: f64,
    /// The held-out rules.
    pub rules: Vec<String>,
    /// The share held out, as configured.
    pub fraction: f64,
}

/// One participant-month's outcome, as the tally sees it.
#[derive(Clone, Copy)]
struct Outcome {
    held_out: bool,
    /// Paid by the due date / by 30 days after; `None` while not yet known.
    by_due: Option<bool>,
    by_due_30: Option<bool>,
}

/// Reads the rows and builds the report at `now`.
pub async fn compute(
    store: &dyn Reports,
    kelurahan: &[Kelurahan],
    schedules: &Schedules,
    base_due: &DueDateRules,
    prefix: Option<&str>,
    now: DateTime<Utc>,
) -> Result<EffectReport, StoreError> {
    let rules = schedules.holdout().rules.clone();
    let rows = store.effect_rows(&rules).await?;
    Ok(build(&rows, kelurahan, schedules, base_due, prefix, now))
}

/// The report from the rows (pure).
pub fn build(
    rows: &[EffectRow],
    kelurahan: &[Kelurahan],
    schedules: &Schedules,
    base_due: &DueDateRules,
    prefix: Option<&str>,
    now: DateTime<Utc>,
) -> EffectReport {
    let settings = schedules.holdout();
    let by_code: BTreeMap<&str, &Kelurahan> = kelurahan.iter().map(|k| (k.code.as_str(), k)).collect();
    let mut groups: BTreeMap<(Option<String>, i32), Vec<Outcome>> = BTreeMap::new();
    for row in rows {
        if prefix.is_some_and(|p| !row.kelurahan_code.starts_with(p)) {
            continue;
        }
        let Some(k) = by_code.get(row.kelurahan_code.as_str()) else {
            continue;
        };
        let outcome = outcome_of(row, k, schedules, base_due, now);
        groups
            .entry((Some(row.kelurahan_code.clone()), row.contribution_month))
            .or_default()
            .push(outcome);
        groups.entry((None, row.contribution_month)).or_default().push(outcome);
    }
    let mut lines: Vec<EffectLine> = groups
        .into_iter()
        .map(|((code, month), outcomes)| EffectLine {
            kelurahan_name: code
                .as_deref()
                .and_then(|c| by_code.get(c))
                .map_or_else(String::new, |k| k.name.clone()),
            kelurahan_code: code,
            month: ContributionMonth::from_index(month).to_string(),
            by_due: compare(&outcomes, |o| o.by_due, settings.max_interval_pp),
            by_due_30: compare(&outcomes, |o| o.by_due_30, settings.max_interval_pp),
        })
        .collect();
    // Kelurahan first (by code), the total last.
    lines.sort_by(|a, b| {
        (a.kelurahan_code.is_none(), &a.kelurahan_code).cmp(&(b.kelurahan_code.is_none(), &b.kelurahan_code))
    });
    EffectReport {
        lines,
        max_interval_pp: settings.max_interval_pp,
        rules: settings.rules.clone(),
        fraction: settings.fraction,
    }
}

/// Whether the participant paid by each deadline, judged in the
/// kelurahan's time zone with its own holidays.
fn outcome_of(
    row: &EffectRow,
    k: &Kelurahan,
    schedules: &Schedules,
    base_due: &DueDateRules,
    now: DateTime<Utc>,
) -> Outcome {
    let due_rules = schedules.due_date_rules_for(&k.code, base_due);
    let due = due_rules.due_date(ContributionMonth::from_index(row.contribution_month));
    let tz = k.time_zone.tz();
    let judged = |days_after: i64| -> Option<bool> {
        let end = local_midnight(due + Duration::days(days_after + 1), tz);
        (now >= end).then(|| row.paid_at.is_some_and(|t| t < end.timestamp()))
    };
    Outcome {
        held_out: row.is_held_out(),
        by_due: judged(0),
        by_due_30: judged(LATE_DEADLINE_DAYS),
    }
}

/// The comparison at one deadline; `None` while no outcome is known yet.
fn compare(outcomes: &[Outcome], paid: impl Fn(&Outcome) -> Option<bool>, max_width_pp: f64) -> Option<Comparison> {
    let mut reminded = GroupOutcome::default();
    let mut held_out = GroupOutcome::default();
    let mut known = false;
    for o in outcomes {
        let Some(p) = paid(o) else { continue };
        known = true;
        let g = if o.held_out { &mut held_out } else { &mut reminded };
        g.total += 1;
        g.paid += u64::from(p);
    }
    if !known {
        return None;
    }
    let d = difference(reminded, held_out);
    Some(Comparison {
        reminded: Counts {
            total: reminded.total,
            paid: reminded.paid,
        },
        held_out: Counts {
            total: held_out.total,
            paid: held_out.paid,
        },
        enough_data: d.is_some_and(|d| d.width_pp() <= max_width_pp),
        difference: d.map(Interval::from),
    })
}
