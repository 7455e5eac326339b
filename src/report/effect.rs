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
use crate::store::retention::RetiredEffect;
use crate::store::{Kelurahan, Store, StoreError};

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

/// One deadline's two groups, and whether any outcome is known yet.
#[derive(Debug, Clone, Copy, Default)]
struct Deadline {
    known: bool,
    reminded: GroupOutcome,
    held_out: GroupOutcome,
}

impl Deadline {
    fn add(&mut self, held_out: bool, paid: Option<bool>) {
        let Some(p) = paid else { return };
        self.add_counts(held_out, 1, u64::from(p));
    }

    fn add_counts(&mut self, held_out: bool, total: u64, paid: u64) {
        self.known |= total > 0;
        let g = if held_out {
            &mut self.held_out
        } else {
            &mut self.reminded
        };
        g.total += total;
        g.paid += paid;
    }
}

/// A kelurahan-month's (or the total's) tally at both deadlines.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    by_due: Deadline,
    by_due_30: Deadline,
}

impl Tally {
    fn add(&mut self, o: Outcome) {
        self.by_due.add(o.held_out, o.by_due);
        self.by_due_30.add(o.held_out, o.by_due_30);
    }

    /// Adds the kept totals of a month that retention deleted (both
    /// deadlines had passed when it did).
    fn add_retired(&mut self, r: &RetiredEffect) {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        self.by_due.add_counts(false, n(r.reminded), n(r.reminded_paid));
        self.by_due.add_counts(true, n(r.held_out), n(r.held_out_paid));
        self.by_due_30.add_counts(false, n(r.reminded), n(r.reminded_paid_30));
        self.by_due_30.add_counts(true, n(r.held_out), n(r.held_out_paid_30));
    }
}

/// Reads the rows and builds the report at `now`.
pub async fn compute(
    store: &dyn Store,
    kelurahan: &[Kelurahan],
    schedules: &Schedules,
    base_due: &DueDateRules,
    prefix: Option<&str>,
    now: DateTime<Utc>,
) -> Result<EffectReport, StoreError> {
    let rules = schedules.holdout().rules.clone();
    let rows = store.effect_rows(&rules).await?;
    let retired = store.retired_effect().await?;
    Ok(build((&rows, &retired), kelurahan, schedules, base_due, prefix, now))
}

/// The report from the rows and the retired months' totals (pure).
pub fn build(
    (rows, retired): (&[EffectRow], &[RetiredEffect]),
    kelurahan: &[Kelurahan],
    schedules: &Schedules,
    base_due: &DueDateRules,
    prefix: Option<&str>,
    now: DateTime<Utc>,
) -> EffectReport {
    let settings = schedules.holdout();
    let by_code: BTreeMap<&str, &Kelurahan> = kelurahan.iter().map(|k| (k.code.as_str(), k)).collect();
    let mut groups: BTreeMap<(Option<String>, i32), Tally> = BTreeMap::new();
    let wanted = |code: &str| prefix.is_none_or(|p| code.starts_with(p)) && by_code.contains_key(code);
    for row in rows.iter().filter(|r| wanted(&r.kelurahan_code)) {
        let Some(k) = by_code.get(row.kelurahan_code.as_str()) else {
            continue;
        };
        let outcome = outcome_of(row, k, schedules, base_due, now);
        let month = row.contribution_month;
        groups
            .entry((Some(row.kelurahan_code.clone()), month))
            .or_default()
            .add(outcome);
        groups.entry((None, month)).or_default().add(outcome);
    }
    for r in retired.iter().filter(|r| wanted(&r.kelurahan_code)) {
        let month = r.contribution_month;
        groups
            .entry((Some(r.kelurahan_code.clone()), month))
            .or_default()
            .add_retired(r);
        groups.entry((None, month)).or_default().add_retired(r);
    }
    let mut lines: Vec<EffectLine> = groups
        .into_iter()
        .map(|((code, month), tally)| EffectLine {
            kelurahan_name: code
                .as_deref()
                .and_then(|c| by_code.get(c))
                .map_or_else(String::new, |k| k.name.clone()),
            kelurahan_code: code,
            month: ContributionMonth::from_index(month).to_string(),
            by_due: compare(tally.by_due, settings.max_interval_pp),
            by_due_30: compare(tally.by_due_30, settings.max_interval_pp),
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

/// The totals retention keeps of the effect rows of the participant-months
/// it deletes: per kelurahan and month, reminded and held out, and how many
/// of each paid by either deadline. Rows of kelurahan not in `kelurahan`
/// are left out, as the report leaves them out.
pub fn retired_totals(
    rows: &[EffectRow],
    kelurahan: &[Kelurahan],
    schedules: &Schedules,
    base_due: &DueDateRules,
    now: DateTime<Utc>,
) -> Vec<RetiredEffect> {
    let by_code: BTreeMap<&str, &Kelurahan> = kelurahan.iter().map(|k| (k.code.as_str(), k)).collect();
    let mut totals: BTreeMap<(&str, i32), RetiredEffect> = BTreeMap::new();
    for row in rows {
        let Some(k) = by_code.get(row.kelurahan_code.as_str()) else {
            continue;
        };
        let o = outcome_of(row, k, schedules, base_due, now);
        let t = totals
            .entry((row.kelurahan_code.as_str(), row.contribution_month))
            .or_insert_with(|| RetiredEffect {
                contribution_month: row.contribution_month,
                kelurahan_code: row.kelurahan_code.clone(),
                ..RetiredEffect::default()
            });
        let paid = |p: Option<bool>| i64::from(p == Some(true));
        if o.held_out {
            t.held_out += 1;
            t.held_out_paid += paid(o.by_due);
            t.held_out_paid_30 += paid(o.by_due_30);
        } else {
            t.reminded += 1;
            t.reminded_paid += paid(o.by_due);
            t.reminded_paid_30 += paid(o.by_due_30);
        }
    }
    totals.into_values().collect()
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
fn compare(tally: Deadline, max_width_pp: f64) -> Option<Comparison> {
    let Deadline {
        known,
        reminded,
        held_out,
    } = tally;
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
