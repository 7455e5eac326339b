//! The pure half of a scan: from the schedules, the kelurahan and the clock,
//! which reminders are due now, kelurahan by kelurahan.
//!
//! The scan is state-based: nothing
//! remembers which ticks ran. For each kelurahan and rule it asks "for which
//! first unpaid month does this rule fall on a day that has come?", so a scan
//! after downtime finds the missed days by itself. Days at most
//! `max_late_days` old are still sent (as soon as the send window allows);
//! older ones within [`LOOKBACK_DAYS`] are recorded as skipped with the
//! reason; older still are ignored, so a first start on old data records no
//! flood of history either. A day that had passed before a payment made its
//! month someone's first unpaid month is recorded as skipped for them too
//! (`passed_before_payment`), so the history explains every rule day.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::batches::batches;
use crate::domain::{ContributionMonth, DueDateRules, RegionTimeZone, SkipReason, StandingRules};
use crate::schedule::{Lateness, Rule, Schedules, SendWindow, place};
use crate::store::{Kelurahan, Occurrence, RuleOccurrences};

/// How far back a scan looks for rule days: a missed day older than this is
/// neither sent nor recorded.
pub const LOOKBACK_DAYS: i64 = 31;

/// Whether a plan is for a real scan or a preview of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanMode {
    /// Everything due by now: on time, late within the allowance, and skipped.
    Scan,
    /// Only the reminders whose day is today, as if the daemon ran all day.
    Preview,
}

/// What one scan writes.
#[derive(Debug, Clone, Default)]
pub struct ScanPlan {
    /// One batch per rule and channel.
    pub batches: Vec<RuleOccurrences>,
    /// The earliest send date (days since 1970-01-01) the plan touches, for
    /// the one-message-per-day check.
    pub from_send_date: i32,
}

/// Days since 1970-01-01 of a local date, as stored.
pub fn epoch_day(date: NaiveDate) -> i32 {
    (date - NaiveDate::default()).num_days() as i32
}

/// Plans the reminders due at `now`. Missed days are recorded as skipped
/// only when they became too late after `last_scan` (earlier ones were
/// recorded by that scan, or are older than the daemon's history); `None`
/// looks back [`LOOKBACK_DAYS`].
pub fn plan(
    schedules: &Schedules,
    kelurahan: &[Kelurahan],
    base_due: &DueDateRules,
    standing: &StandingRules,
    now: DateTime<Utc>,
    last_scan: Option<DateTime<Utc>>,
    mode: PlanMode,
) -> ScanPlan {
    let horizon = Horizon { now, last_scan, mode };
    let rules: Vec<&Rule> = schedules.rules().iter().filter(|r| r.enabled).collect();
    // Each kelurahan's template per rule first, then each rule's list at its
    // exact size: a list grown by doubling would hold up to twice what a
    // country needs while it grows. Kelurahan without an override share
    // their time zone's template.
    let mut templates: Vec<Vec<Occurrence>> = Vec::new();
    let mut shared: HashMap<(RegionTimeZone, usize), usize> = HashMap::new();
    let mut codes: Vec<Arc<str>> = Vec::new();
    // Per rule: (index in `codes`, index in `templates`).
    let mut parts: Vec<Vec<(usize, usize)>> = vec![Vec::new(); rules.len()];
    let default_window = schedules.default_send_window();
    for k in kelurahan {
        if schedules.is_disabled(&k.code) {
            continue;
        }
        let overridden = schedules.kelurahan_override(&k.code).is_some();
        let code = codes.len();
        codes.push(Arc::from(k.code.as_str()));
        for (i, rule) in rules.iter().enumerate() {
            if !rule.matches_kelurahan(&k.code) {
                continue;
            }
            let template = if overridden {
                let due = schedules.due_date_rules_for(&k.code, base_due);
                let window = schedules.send_window_for(&k.code);
                templates.push(rule_occurrences(rule, k.time_zone, &due, &window, standing, &horizon));
                templates.len() - 1
            } else {
                *shared.entry((k.time_zone, i)).or_insert_with(|| {
                    templates.push(rule_occurrences(
                        rule,
                        k.time_zone,
                        base_due,
                        &default_window,
                        standing,
                        &horizon,
                    ));
                    templates.len() - 1
                })
            };
            parts[i].push((code, template));
        }
    }
    let occurrences = rule_lists(parts, &templates, &codes);
    let mut plan = ScanPlan {
        batches: Vec::new(),
        from_send_date: i32::MAX,
    };
    plan.from_send_date = occurrences
        .iter()
        .flatten()
        .map(|o| o.send_date)
        .min()
        .unwrap_or(i32::MAX);
    plan.batches = match mode {
        PlanMode::Scan => batches(&rules, occurrences),
        PlanMode::Preview => super::preview::without_outranked(&rules, &occurrences),
    };
    for batch in &mut plan.batches {
        batch.holdout = schedules.holdout().holds_out(&batch.rule);
    }
    if plan.from_send_date == i32::MAX {
        plan.from_send_date = epoch_day(now.date_naive()) - 1;
    }
    plan
}

/// Each rule's occurrences, kelurahan by kelurahan: the template of each
/// part with its kelurahan's code, in a list allocated at its exact size.
fn rule_lists(
    parts: Vec<Vec<(usize, usize)>>,
    templates: &[Vec<Occurrence>],
    codes: &[Arc<str>],
) -> Vec<Vec<Occurrence>> {
    parts
        .into_iter()
        .map(|rule_parts| {
            let size = rule_parts.iter().map(|&(_, t)| templates[t].len()).sum();
            let mut list = Vec::with_capacity(size);
            for (code, t) in rule_parts {
                list.extend(templates[t].iter().map(|o| Occurrence {
                    kelurahan_code: codes[code].clone(),
                    ..o.clone()
                }));
            }
            list
        })
        .collect()
}

/// When a plan is made, and how far back it records missed days.
struct Horizon {
    now: DateTime<Utc>,
    last_scan: Option<DateTime<Utc>>,
    mode: PlanMode,
}

/// The occurrences of one rule in one time zone (kelurahan code left empty).
fn rule_occurrences(
    rule: &Rule,
    zone: RegionTimeZone,
    due: &DueDateRules,
    window: &SendWindow,
    standing: &StandingRules,
    horizon: &Horizon,
) -> Vec<Occurrence> {
    let tz = zone.tz();
    let now_local = horizon.now.with_timezone(&tz).naive_local();
    let today = now_local.date();
    candidate_months(rule, due, standing, today)
        .into_iter()
        .filter_map(|month| {
            let day = rule.occurrence_date(month, due, standing);
            let planned0 = place(day.and_time(rule.send_time), window);
            if planned0 > now_local {
                return None; // its time has not come
            }
            if !arrears_filter_admits(rule, month, due, standing, to_utc(planned0, tz), tz) {
                return None;
            }
            let lateness = rule.lateness(planned0.date(), today);
            // A day that became too late before the last scan was recorded
            // by it for whoever had this first unpaid month then; it is
            // planned again for those a payment has moved onto it since.
            let passed =
                matches!(lateness, Lateness::TooLate { .. }) && !newly_too_late(rule, planned0, tz, horizon.last_scan);
            occurrence(
                rule,
                Day { month, day, planned0 },
                lateness,
                passed,
                now_local,
                window,
                tz,
                horizon.mode,
            )
        })
        .collect()
}

/// One rule day of one first unpaid month: the month, the rule's day and
/// its planned local instant before any catch-up.
struct Day {
    month: ContributionMonth,
    day: NaiveDate,
    planned0: NaiveDateTime,
}

/// Builds the occurrence of `rule` for first unpaid month `d.month`, or
/// `None` when the mode leaves it out. `passed`: the day became too late
/// before the last scan, so it is recorded only for participants a payment
/// moved onto it afterwards ([`SkipReason::PassedBeforePayment`]).
#[allow(clippy::too_many_arguments)]
fn occurrence(
    rule: &Rule,
    d: Day,
    lateness: Lateness,
    passed: bool,
    now_local: NaiveDateTime,
    window: &SendWindow,
    tz: Tz,
    mode: PlanMode,
) -> Option<Occurrence> {
    let Day { month, day, planned0 } = d;
    let (planned, skip_reason) = match (lateness, mode) {
        (Lateness::Early { .. }, _) => return None,
        (Lateness::OnTime, _) => (planned0, None),
        (Lateness::Late { .. } | Lateness::TooLate { .. }, PlanMode::Preview) => return None,
        (Lateness::Late { .. }, PlanMode::Scan) => (place(now_local, window), None),
        (Lateness::TooLate { days }, PlanMode::Scan) if days > LOOKBACK_DAYS => return None,
        (Lateness::TooLate { .. }, PlanMode::Scan) if passed => {
            (planned0, Some(Arc::from(SkipReason::PassedBeforePayment.as_str())))
        }
        (Lateness::TooLate { days }, PlanMode::Scan) => (
            planned0,
            Some(Arc::from(format!(
                "missed by {days} days (daemon not running); max_late_days is {}",
                rule.max_late_days
            ))),
        ),
    };
    let planned_at = to_utc(planned, tz);
    Some(Occurrence {
        kelurahan_code: Arc::from(""),
        contribution_month: month.index(),
        occurrence_date: epoch_day(day),
        send_date: epoch_day(planned.date()),
        planned_at: planned_at.timestamp(),
        expires_at: skip_reason
            .is_none()
            .then(|| (planned_at + rule.expire_after()).timestamp()),
        skip_reason,
    })
}

/// Whether an occurrence planned at `planned0` (local) stopped being
/// sendable after `last_scan`: it is too late from the start of the day
/// after its last allowed late day.
fn newly_too_late(rule: &Rule, planned0: NaiveDateTime, tz: Tz, last_scan: Option<DateTime<Utc>>) -> bool {
    let Some(last_scan) = last_scan else { return true };
    let too_late_from = planned0.date() + Duration::days(i64::from(rule.max_late_days) + 1);
    to_utc(too_late_from.and_time(chrono::NaiveTime::MIN), tz) > last_scan
}

/// The first unpaid months for which the rule's day may lie within the
/// lookback window ending today.
fn candidate_months(
    rule: &Rule,
    due: &DueDateRules,
    standing: &StandingRules,
    today: NaiveDate,
) -> Vec<ContributionMonth> {
    let shift = rule.anchor_shift(standing);
    let lead = Duration::days(shift.days + i64::from(rule.offset_days));
    let centre = ContributionMonth::of_date(today - lead).plus(-shift.months - due.month_offset);
    let earliest = today - Duration::days(LOOKBACK_DAYS + 1);
    (-3..=2)
        .map(|d| centre.plus(d))
        .filter(|m| {
            let day = rule.occurrence_date(*m, due, standing);
            day >= earliest && day <= today + Duration::days(1)
        })
        .collect()
}

/// The oldest first unpaid month a scan at `now` can plan a reminder for,
/// in any kelurahan (every time zone, any holidays), with a month to
/// spare; `None` without enabled rules. Retention keeps this month and
/// later ones whatever its `months`: a deleted reminder that a scan could
/// still plan would be planned, and sent, again.
pub fn earliest_plannable_month(
    schedules: &Schedules,
    due: &DueDateRules,
    standing: &StandingRules,
    now: DateTime<Utc>,
) -> Option<ContributionMonth> {
    // WIB's date is the earliest of Indonesia's; a day less covers a
    // kelurahan holiday that moves a due date.
    let today = now.with_timezone(&RegionTimeZone::Wib.tz()).date_naive() - Duration::days(1);
    schedules
        .rules()
        .iter()
        .filter(|r| r.enabled)
        .flat_map(|rule| candidate_months(rule, due, standing, today))
        .min()
        .map(|m| m.plus(-1))
}

/// Whether the rule's months-in-arrears filter admits someone whose first
/// unpaid month is `month`, judged at the planned instant.
pub(crate) fn arrears_filter_admits(
    rule: &Rule,
    month: ContributionMonth,
    due: &DueDateRules,
    standing: &StandingRules,
    at: DateTime<Utc>,
    tz: Tz,
) -> bool {
    if rule.min_months_in_arrears.is_none() && rule.max_months_in_arrears.is_none() {
        return true;
    }
    rule.admits_arrears(arrears_at(month, due, standing, at, tz), standing)
}

/// Months in arrears at `at` of someone whose first unpaid month is `month`.
pub(crate) fn arrears_at(
    month: ContributionMonth,
    due: &DueDateRules,
    standing: &StandingRules,
    at: DateTime<Utc>,
    tz: Tz,
) -> u32 {
    let last = due.last_month_past_due(at, tz);
    standing.standing(month.prev(), last).months_in_arrears
}

/// A local wall-clock time in `tz` as a UTC instant (Indonesia has no DST;
/// an ambiguous time takes its earlier reading).
pub(crate) fn to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    tz.from_local_datetime(&local)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::KelurahanCode;

    fn kelurahan(code: &str) -> Kelurahan {
        let code = KelurahanCode::parse(code).expect("code");
        Kelurahan {
            time_zone: code.time_zone(),
            code,
            name: "Uji".into(),
            kecamatan: "Uji".into(),
            kabupaten_kota: "Uji".into(),
            provinsi: "Uji".into(),
        }
    }

    #[test]
    fn no_scan_plans_a_month_older_than_the_earliest_plannable_one() {
        let schedules = Schedules::shipped();
        let due = DueDateRules::default();
        let standing = StandingRules::default();
        // WIB, WITA and WIT.
        let places = [
            kelurahan("18.72.01.1001"),
            kelurahan("51.71.01.1001"),
            kelurahan("94.71.01.1001"),
        ];
        let start: DateTime<Utc> = "2025-01-01T00:30:00Z".parse().expect("instant");
        let mut planned = 0;
        for hours in (0..366 * 24).step_by(5) {
            let now = start + Duration::hours(hours);
            let earliest = earliest_plannable_month(&schedules, &due, &standing, now).expect("rules");
            let plan = plan(&schedules, &places, &due, &standing, now, None, PlanMode::Scan);
            for o in plan.batches.iter().flat_map(|b| &b.occurrences) {
                planned += 1;
                assert!(
                    o.contribution_month >= earliest.index(),
                    "{now}: month {} planned, earliest {earliest}",
                    o.contribution_month
                );
            }
        }
        assert!(planned > 10_000, "{planned} occurrences checked");
    }
}
