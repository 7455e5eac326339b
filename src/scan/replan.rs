//! Re-planning after a schedule edit: the reminders not yet sent of a rule
//! whose timing or filters changed are planned again, as the scan would
//! plan them now.
//!
//! Each scan stores a fingerprint per rule of everything that decides when
//! and whether the rule's reminders go out (the rule itself, the default
//! send window, the kelurahan overrides' windows, holidays and switches, the
//! due-date rules and the non-active threshold). A rule whose fingerprint
//! differs from the last scan's is re-planned: its pending reminders are
//! moved to their new day, planned time and expiry, or cancelled with the
//! reason when they no longer apply or their new day is past the catch-up
//! allowance; its superseded and skipped ones whose day moved give up their
//! key so the new day can be planned. Pure: the store reads the groups and
//! writes what this returns.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};

use super::ScanContext;
use super::plan::{arrears_filter_admits, epoch_day, to_utc};
use crate::domain::{ContributionMonth, DueDateRules, ReminderStatus, StandingRules};
use crate::schedule::{Channel, Lateness, Rule, Schedules, place};
use crate::store::{FundingCancel, GroupChange, Kelurahan, PlanTiming, Replan, UnsentGroup};

/// The fingerprint of each rule (by name) under these schedules and settings.
pub fn fingerprints(schedules: &Schedules, due: &DueDateRules, standing: &StandingRules) -> BTreeMap<String, String> {
    let mut shared = String::new();
    let _ = writeln!(shared, "send_window {}", schedules.default_send_window());
    for (code, o) in schedules.kelurahan_overrides() {
        let window = o.send_window.map(|w| w.to_string()).unwrap_or_default();
        let _ = writeln!(shared, "kelurahan {code} {window} {:?} {}", o.holidays, o.disabled);
    }
    let mut weekdays: Vec<u32> = due
        .non_working_weekdays
        .iter()
        .map(|d| d.num_days_from_monday())
        .collect();
    weekdays.sort_unstable();
    let _ = writeln!(
        shared,
        "due {} {} {weekdays:?} {:?}",
        due.day, due.month_offset, due.holidays
    );
    let _ = writeln!(shared, "nonactive {}", standing.nonactive_after_months);
    schedules
        .rules()
        .iter()
        .map(|rule| {
            let digest = Sha256::digest(format!("{shared}{rule:?}").as_bytes());
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            (rule.name.clone(), hex)
        })
        .collect()
}

/// The rules whose fingerprint differs from `previous` (all of them when
/// there is none: a first scan, or one after an upgrade).
pub fn changed_rules(current: &BTreeMap<String, String>, previous: Option<&BTreeMap<String, String>>) -> Vec<String> {
    current
        .iter()
        .filter(|(name, fp)| previous.is_none_or(|p| p.get(*name) != Some(*fp)))
        .map(|(name, _)| name.clone())
        .collect()
}

/// What the scan at `now` does to the unsent reminders of changed rules
/// (`groups`, read by the store): moves, cancellations and released keys,
/// plus, per rule with a funding filter, the fundings it still admits.
pub fn replan(groups: &[UnsentGroup], ctx: &ScanContext<'_>, changed: &[String], now: DateTime<Utc>) -> Replan {
    let kelurahan: HashMap<&str, &Kelurahan> = ctx.kelurahan.iter().map(|k| (k.code.as_str(), k)).collect();
    let mut out = Replan::default();
    for group in groups {
        let (Some(rule), Some(k)) = (
            ctx.schedules.rule(&group.rule),
            kelurahan.get(group.kelurahan_code.as_str()),
        ) else {
            continue; // a removed rule (cancelled elsewhere) or an unknown kelurahan
        };
        let change = if group.status == ReminderStatus::Pending.as_str() {
            pending_change(group, rule, k, ctx, now)
        } else {
            released(group, rule, k, ctx)
        };
        if let Some(change) = change {
            out.groups.push((group.clone(), change));
        }
    }
    for name in changed {
        if let Some(funding) = ctx.schedules.rule(name).and_then(|r| r.funding.as_ref()) {
            let kept: Vec<String> = funding.iter().map(|f| f.as_str().to_string()).collect();
            let reason = format!("rule {name} was changed to remind only funding {}", kept.join(", "));
            out.funding.push(FundingCancel {
                rule: name.clone(),
                kept,
                reason,
            });
        }
    }
    out
}

/// A pending group: moved, cancelled, or left as it is (`None`).
fn pending_change(
    group: &UnsentGroup,
    rule: &Rule,
    k: &Kelurahan,
    ctx: &ScanContext<'_>,
    now: DateTime<Utc>,
) -> Option<GroupChange> {
    let code = &k.code;
    let name = &rule.name;
    let cancel = |reason: String| Some(GroupChange::Cancel { reason });
    let channel: Option<Channel> = group.channel.parse().ok();
    if !rule.enabled {
        return cancel(format!("rule {name} was disabled"));
    }
    if channel.is_none_or(|c| !rule.has_channel(c)) {
        return cancel(format!("rule {name} no longer sends by {}", group.channel));
    }
    if ctx.schedules.is_disabled(code) {
        return cancel(format!("kelurahan {code} was disabled in the schedules"));
    }
    if !rule.matches_kelurahan(code) {
        return cancel(format!("rule {name} no longer applies to kelurahan {code}"));
    }
    let due = ctx.schedules.due_date_rules_for(code, ctx.due);
    let window = ctx.schedules.send_window_for(code);
    let tz = k.time_zone.tz();
    let month = ContributionMonth::from_index(group.contribution_month);
    let day = rule.occurrence_date(month, &due, ctx.standing);
    let planned0 = place(day.and_time(rule.send_time), &window);
    if !arrears_filter_admits(rule, month, &due, ctx.standing, to_utc(planned0, tz), tz) {
        return cancel(format!(
            "rule {name} was changed: its months-in-arrears filter no longer admits this participant on {day}"
        ));
    }
    let now_local = now.with_timezone(&tz).naive_local();
    let stored = DateTime::from_timestamp(group.planned_at, 0)?;
    let planned: NaiveDateTime = if planned0 > now_local {
        planned0 // its new time is still to come
    } else if stored <= now && epoch_day(day) == group.occurrence_date {
        stored.with_timezone(&tz).naive_local() // due already, on the same day: left as it is
    } else {
        match rule.lateness(planned0.date(), now_local.date()) {
            Lateness::Early { .. } | Lateness::OnTime => planned0,
            Lateness::Late { .. } => place(now_local, &window),
            Lateness::TooLate { days } => {
                return cancel(format!(
                    "rule {name} was changed: it now falls on {day}, {days} days ago; max_late_days is {}",
                    rule.max_late_days
                ));
            }
        }
    };
    let planned_at = to_utc(planned, tz);
    let to = PlanTiming {
        occurrence_date: epoch_day(day),
        send_date: epoch_day(planned.date()),
        planned_at: planned_at.timestamp(),
        expires_at: Some((planned_at + rule.expire_after()).timestamp()),
    };
    if to == group.timing() {
        return None;
    }
    let local = |t: i64| DateTime::from_timestamp(t, 0).map(|t| short(t.with_timezone(&tz).naive_local()));
    let note = if to.planned_at == group.planned_at {
        format!(
            "re-planned after a schedule edit: expires {} instead of {} local time",
            local(to.expires_at.unwrap_or_default()).unwrap_or_default(),
            group.expires_at.and_then(local).unwrap_or_else(|| "never".into())
        )
    } else {
        format!(
            "re-planned after a schedule edit: planned {} instead of {} local time",
            short(planned),
            short(stored.with_timezone(&tz).naive_local())
        )
    };
    Some(GroupChange::Move { to, note })
}

/// A superseded or skipped group whose day moved gives up its key, so the
/// scan plans the new day; otherwise it stays as it is.
fn released(group: &UnsentGroup, rule: &Rule, k: &Kelurahan, ctx: &ScanContext<'_>) -> Option<GroupChange> {
    let due = ctx.schedules.due_date_rules_for(&k.code, ctx.due);
    let month = ContributionMonth::from_index(group.contribution_month);
    let day = rule.occurrence_date(month, &due, ctx.standing);
    (epoch_day(day) != group.occurrence_date).then_some(GroupChange::Release)
}

/// `2026-07-08 15:00`.
fn short(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const RULES: &str = r#"
[[rule]]
name = "a"
offset_days = -7
channels = ["sms"]
template = "t"

[[rule]]
name = "b"
offset_days = 0
channels = ["sms"]
template = "t"

[template.t]
text = "Yth. {name}."
"#;

    fn prints(text: &str, threshold: u32) -> BTreeMap<String, String> {
        let schedules = Schedules::parse(text, Path::new("."), "t.toml").unwrap();
        let standing = StandingRules {
            nonactive_after_months: threshold,
        };
        fingerprints(&schedules, &DueDateRules::default(), &standing)
    }

    #[test]
    fn an_edit_changes_the_fingerprint_of_the_rules_it_touches() {
        let before = prints(RULES, 3);
        assert_eq!(before, prints(RULES, 3), "stable");
        let moved = prints(&RULES.replace("offset_days = -7", "offset_days = -5"), 3);
        assert_eq!(changed_rules(&moved, Some(&before)), ["a"]);
        // A template's text decides nothing about timing.
        let reworded = prints(&RULES.replace("Yth. {name}.", "Halo {name}."), 3);
        assert!(changed_rules(&reworded, Some(&before)).is_empty());
        // A kelurahan's window, or the non-active threshold, concerns every rule.
        let windowed =
            format!("{RULES}\n[kelurahan.\"18.72.01.1005\"]\nsend_window = {{ start = \"10:00\", end = \"12:00\" }}\n");
        assert_eq!(changed_rules(&prints(&windowed, 3), Some(&before)), ["a", "b"]);
        assert_eq!(changed_rules(&prints(RULES, 2), Some(&before)), ["a", "b"]);
        // Without a previous scan's fingerprints, everything is re-planned once.
        assert_eq!(changed_rules(&before, None), ["a", "b"]);
    }
}
