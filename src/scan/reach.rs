//! Rules that can never fire, or only in some months: a months-in-arrears
//! filter that the participants a rule's day is computed for never (or not
//! always) pass under the current settings. Everyone a rule's occurrence
//! reaches shares one first unpaid month, so on that day they are all the
//! same number of months in arrears; a filter that excludes that number
//! silently drops the rule. The classic case is a rule anchored on the
//! non-active day with a number written for one `nonactive_after_months`
//! while the setting says another.
//!
//! `check-config` prints these warnings and the daemon logs them at start
//! and on every reload.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::plan::{arrears_at, to_utc};
use crate::domain::{ContributionMonth, DueDateRules, StandingRules};
use crate::schedule::{Anchor, ArrearsBound, Rule, Schedules, place};

/// First unpaid months looked at: a year back and two ahead of `today`'s,
/// enough for every weekday and month length the due dates fall on.
const MONTHS_BEFORE: i32 = 12;
const MONTHS_LOOKED_AT: i32 = 36;

/// One warning per enabled rule whose months-in-arrears filter never, or
/// not in every month, admits the participants its day is for.
pub fn arrears_filter_warnings(
    schedules: &Schedules,
    due: &DueDateRules,
    standing: &StandingRules,
    today: NaiveDate,
) -> Vec<String> {
    let first = ContributionMonth::of_date(today).plus(-MONTHS_BEFORE);
    schedules
        .rules()
        .iter()
        .filter(|r| r.enabled && (r.min_months_in_arrears.is_some() || r.max_months_in_arrears.is_some()))
        .filter_map(|rule| {
            let seen: Vec<u32> = (0..MONTHS_LOOKED_AT)
                .map(|i| arrears_on_its_day(rule, first.plus(i), schedules, due, standing))
                .collect();
            let admitted = seen.iter().filter(|a| rule.admits_arrears(**a, standing)).count();
            let distinct: BTreeSet<u32> = seen.into_iter().collect();
            let unit = if distinct.iter().eq([1].iter()) {
                "month"
            } else {
                "months"
            };
            let on_its_day = format!(
                "on its day a participant is {} {unit} in arrears{}",
                or_list(&distinct),
                setting(rule, standing)
            );
            let filter = filter_words(rule, standing);
            match admitted {
                0 => Some(format!(
                    "rule {:?} can never fire: {on_its_day}, and {filter}{}",
                    rule.name,
                    advice(rule)
                )),
                n if n < MONTHS_LOOKED_AT as usize => Some(format!(
                    "rule {:?} fires only in some months: {on_its_day} depending on the month, and {filter}",
                    rule.name
                )),
                _ => None,
            }
        })
        .collect()
}

/// Months in arrears, at the rule's planned time, of a participant whose
/// first unpaid month is `month` (in WIB: the due date passes at local
/// midnight in every zone, so the count is the same everywhere).
fn arrears_on_its_day(
    rule: &Rule,
    month: ContributionMonth,
    schedules: &Schedules,
    due: &DueDateRules,
    standing: &StandingRules,
) -> u32 {
    let tz: Tz = chrono_tz::Asia::Jakarta;
    let day = rule.occurrence_date(month, due, standing);
    let planned = place(day.and_time(rule.send_time), &schedules.default_send_window());
    arrears_at(month, due, standing, to_utc(planned, tz), tz)
}

/// " (standing.nonactive_after_months = 3)" when the rule depends on it.
fn setting(rule: &Rule, standing: &StandingRules) -> String {
    let relative = [rule.min_months_in_arrears, rule.max_months_in_arrears]
        .into_iter()
        .flatten()
        .any(|b| matches!(b, ArrearsBound::Nonactive(_)));
    if rule.anchor == Anchor::Nonactive || relative {
        format!(
            " (standing.nonactive_after_months = {})",
            standing.nonactive_after_months
        )
    } else {
        String::new()
    }
}

/// "min_months_in_arrears = 3 admits only 3 or more", and the like.
fn filter_words(rule: &Rule, standing: &StandingRules) -> String {
    match (rule.min_months_in_arrears, rule.max_months_in_arrears) {
        (Some(min), Some(max)) => format!(
            "min_months_in_arrears = {min} and max_months_in_arrears = {max} admit only {} to {}",
            min.months(standing),
            max.months(standing)
        ),
        (Some(min), None) => format!(
            "min_months_in_arrears = {min} admits only {} or more",
            min.months(standing)
        ),
        (None, Some(max)) => format!(
            "max_months_in_arrears = {max} admits only {} or fewer",
            max.months(standing)
        ),
        (None, None) => String::new(),
    }
}

/// For a rule about the non-active day with numbers written in: how to
/// make it follow the setting.
fn advice(rule: &Rule) -> &'static str {
    let literal = [rule.min_months_in_arrears, rule.max_months_in_arrears]
        .into_iter()
        .flatten()
        .any(|b| matches!(b, ArrearsBound::Months(_)));
    if rule.anchor == Anchor::Nonactive && literal {
        "; write \"nonactive\" (or \"nonactive-1\") instead of a number to follow the setting"
    } else {
        ""
    }
}

/// "2", "1 or 2", "1, 2 or 3".
fn or_list(values: &BTreeSet<u32>) -> String {
    let words: Vec<String> = values.iter().map(u32::to_string).collect();
    match words.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const RULES: &str = r#"
[[rule]]
name = "h+7"
offset_days = 7
channels = ["sms"]
template = "t"
min_months_in_arrears = 2

[[rule]]
name = "h+30"
offset_days = 30
channels = ["sms"]
template = "t"
max_months_in_arrears = 1

[[rule]]
name = "last-chance"
anchor = "nonactive"
offset_days = -3
channels = ["sms"]
template = "t"
max_months_in_arrears = 2

[[rule]]
name = "nonaktif"
anchor = "nonactive"
offset_days = 0
channels = ["sms"]
template = "t"
min_months_in_arrears = "nonactive"

[template.t]
text = "Yth. {name}."
"#;

    fn warnings(threshold: u32) -> Vec<String> {
        let schedules = Schedules::parse(RULES, Path::new("."), "t.toml").unwrap();
        let standing = StandingRules {
            nonactive_after_months: threshold,
        };
        let today = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        arrears_filter_warnings(&schedules, &DueDateRules::default(), &standing, today)
    }

    #[test]
    fn names_the_rule_the_filter_and_the_setting() {
        let w = warnings(3);
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            w[0],
            "rule \"h+7\" can never fire: on its day a participant is 1 month in arrears, and \
             min_months_in_arrears = 2 admits only 2 or more"
        );
        assert!(
            w[1].starts_with("rule \"h+30\" fires only in some months: on its day a participant is 1 or 2 months"),
            "{}",
            w[1]
        );
        let four = warnings(4);
        assert_eq!(four.len(), 3, "{four:?}");
        assert_eq!(
            four[2],
            "rule \"last-chance\" can never fire: on its day a participant is 3 months in arrears \
             (standing.nonactive_after_months = 4), and max_months_in_arrears = 2 admits only 2 or fewer; \
             write \"nonactive\" (or \"nonactive-1\") instead of a number to follow the setting"
        );
    }

    #[test]
    fn a_bound_relative_to_the_threshold_follows_it() {
        for threshold in 1..=6 {
            assert!(
                !warnings(threshold).iter().any(|w| w.contains("nonaktif")),
                "threshold {threshold}"
            );
        }
    }

    #[test]
    fn lists_read_naturally() {
        assert_eq!(or_list(&BTreeSet::from([2])), "2");
        assert_eq!(or_list(&BTreeSet::from([1, 2])), "1 or 2");
        assert_eq!(or_list(&BTreeSet::from([1, 2, 3])), "1, 2 or 3");
    }
}
