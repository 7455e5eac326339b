//! Reminder rules: when, how and to whom a reminder goes.
//!
//! Rules are relative to the due date of the participant's first
//! unpaid month (H-7, H-1, H0, H+7, H+30) plus a "you are now non-active"
//! notice. Non-active is reached after N consecutive months in arrears
//! (default 3), that is the day after the due date of the N-th unpaid month,
//! which is 57 to 64 days after the first due date depending on weekends and
//! holidays. A fixed "H+60" therefore lands before or after that day
//! depending on the month, so rules may instead be anchored on the
//! non-active date itself (`anchor = "nonactive"`): "3 days before
//! non-active" and "on the day it happens" are then exact in every month.
//!
//! Past steps: a rule whose day
//! passed while the daemon was down is sent if at most `max_late_days` late,
//! otherwise recorded as skipped, never a flood.

use std::str::FromStr;

use chrono::{Duration, NaiveDate, NaiveTime};

pub use super::arrears::ArrearsBound;
use crate::domain::kelurahan::RegionTimeZone;
use crate::domain::{ContributionMonth, DueDateRules, Funding, KelurahanCode, StandingRules};

/// The allowed range of `offset_days`.
pub const OFFSET_DAYS_RANGE: std::ops::RangeInclusive<i32> = -60..=180;

/// A channel a reminder goes out on (defined with the reminder states).
pub use crate::domain::Channel;

/// The day a rule's `offset_days` counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Anchor {
    /// The due date of the participant's first unpaid month (`"due_date"`).
    #[default]
    DueDate,
    /// The first day the participant is non-active if nothing is paid: the
    /// day after the due date of the N-th unpaid month (`"nonactive"`).
    Nonactive,
}

impl Anchor {
    /// The configured form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DueDate => "due_date",
            Self::Nonactive => "nonactive",
        }
    }
}

impl FromStr for Anchor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "due_date" => Ok(Self::DueDate),
            "nonactive" => Ok(Self::Nonactive),
            other => Err(format!(
                "unknown anchor {other:?}; expected \"due_date\" or \"nonactive\""
            )),
        }
    }
}

/// Where a rule's anchor lies, for a set-based scan: the due date of month
/// `first_unpaid + months`, plus `days`. The rule fires `offset_days` later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorShift {
    /// Months after the first unpaid month whose due date is used.
    pub months: i32,
    /// Days after that due date.
    pub days: i64,
}

/// How a rule's day relates to today, for the catch-up policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lateness {
    /// The day has not come yet.
    Early {
        /// Days until it comes.
        days: i64,
    },
    /// Today is the day.
    OnTime,
    /// The day passed at most `max_late_days` ago: still sent.
    Late {
        /// Days since the day.
        days: i64,
    },
    /// The day passed longer ago: recorded as skipped, never sent.
    TooLate {
        /// Days since the day.
        days: i64,
    },
}

/// One reminder rule from `[[rule]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Stable identity (stored with every reminder): `[a-z0-9+_-]`, unique.
    pub name: String,
    /// Whether the rule creates reminders at all.
    pub enabled: bool,
    /// The day `offset_days` counts from.
    pub anchor: Anchor,
    /// Days from the anchor (negative: before), within [`OFFSET_DAYS_RANGE`].
    pub offset_days: i32,
    /// Channels, each once, in the configured order.
    pub channels: Vec<Channel>,
    /// The `[template.NAME]` used.
    pub template: String,
    /// Local time of the kelurahan at which the reminder is planned (then
    /// placed into the send window).
    pub send_time: NaiveTime,
    /// Only participants with one of these fundings; `None` for all.
    pub funding: Option<Vec<Funding>>,
    /// Only kelurahan under one of these code prefixes (dotted form); empty for all.
    pub kelurahan: Vec<String>,
    /// Only participants with at least this many months in arrears.
    pub min_months_in_arrears: Option<ArrearsBound>,
    /// Only participants with at most this many months in arrears.
    pub max_months_in_arrears: Option<ArrearsBound>,
    /// Catch-up: a reminder at most this many days late is still sent.
    pub max_late_days: u32,
    /// The dispatcher expires a reminder not sent within this many hours of
    /// its planned time, rather than sending it stale.
    pub expire_after_hours: u32,
}

impl Rule {
    /// Whether the rule is about `channel`.
    pub fn has_channel(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }

    /// Whether the rule's kelurahan filter admits `code`.
    pub fn matches_kelurahan(&self, code: &KelurahanCode) -> bool {
        self.kelurahan.is_empty() || self.kelurahan.iter().any(|prefix| code.has_prefix(prefix))
    }

    /// Whether the rule's months-in-arrears filter admits someone this many
    /// months in arrears, under `standing`.
    pub fn admits_arrears(&self, months_in_arrears: u32, standing: &StandingRules) -> bool {
        self.min_months_in_arrears
            .is_none_or(|min| months_in_arrears >= min.months(standing))
            && self
                .max_months_in_arrears
                .is_none_or(|max| months_in_arrears <= max.months(standing))
    }

    /// Whether the rule applies to a participant: enabled, and every filter
    /// (funding, kelurahan, months in arrears) admits them.
    pub fn applies_to(
        &self,
        funding: Funding,
        kelurahan_code: &KelurahanCode,
        months_in_arrears: u32,
        standing: &StandingRules,
    ) -> bool {
        self.enabled
            && self.funding.as_ref().is_none_or(|f| f.contains(&funding))
            && self.matches_kelurahan(kelurahan_code)
            && self.admits_arrears(months_in_arrears, standing)
    }

    /// The anchor as a shift from the first unpaid month's due date.
    pub fn anchor_shift(&self, standing: &StandingRules) -> AnchorShift {
        match self.anchor {
            Anchor::DueDate => AnchorShift { months: 0, days: 0 },
            Anchor::Nonactive => AnchorShift {
                months: standing.nonactive_months() - 1,
                days: 1,
            },
        }
    }

    /// The local date the rule fires for a participant whose first unpaid
    /// month is `first_unpaid` (with the kelurahan's holidays in `due`).
    pub fn occurrence_date(
        &self,
        first_unpaid: ContributionMonth,
        due: &DueDateRules,
        standing: &StandingRules,
    ) -> NaiveDate {
        let shift = self.anchor_shift(standing);
        due.due_date(first_unpaid.plus(shift.months)) + Duration::days(shift.days + i64::from(self.offset_days))
    }

    /// The catch-up verdict for a rule day `occurrence` seen on `today`
    /// (both local dates of the kelurahan).
    pub fn lateness(&self, occurrence: NaiveDate, today: NaiveDate) -> Lateness {
        let days = (today - occurrence).num_days();
        match days {
            d if d < 0 => Lateness::Early { days: -d },
            0 => Lateness::OnTime,
            d if d <= i64::from(self.max_late_days) => Lateness::Late { days: d },
            d => Lateness::TooLate { days: d },
        }
    }

    /// How long after its planned time a reminder may still go out.
    pub fn expire_after(&self) -> Duration {
        Duration::hours(i64::from(self.expire_after_hours))
    }
}

/// The first day a participant whose first unpaid month is `first_unpaid`
/// is non-active if nothing is paid: the day after the due date of the
/// N-th unpaid month. (For the `nonactive_date` template variable.)
pub fn nonactive_date(first_unpaid: ContributionMonth, due: &DueDateRules, standing: &StandingRules) -> NaiveDate {
    due.due_date(first_unpaid.plus(standing.nonactive_months() - 1)) + Duration::days(1)
}

/// Parses a kelurahan code prefix (`18`, `18.72`, `1872`, `18.72.01`,
/// `18.72.01.1001`) into its dotted form; the reason on error.
pub fn parse_kelurahan_prefix(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let widths = [2, 2, 2, 4];
    let parts: Vec<String> = if s.contains('.') {
        s.split('.').map(str::to_string).collect()
    } else {
        let mut parts = Vec::new();
        let mut rest = s;
        for w in widths {
            if rest.is_empty() {
                break;
            }
            let take = w.min(rest.len());
            let (head, tail) = rest.split_at(take);
            parts.push(head.to_string());
            rest = tail;
        }
        if !rest.is_empty() {
            parts.push(rest.to_string());
        }
        parts
    };
    let shape_ok = !parts.is_empty()
        && parts.len() <= widths.len()
        && parts
            .iter()
            .zip(widths)
            .all(|(p, w)| p.len() == w && p.bytes().all(|b| b.is_ascii_digit()));
    if !shape_ok {
        return Err(format!(
            "{s:?} is not a kelurahan code or code prefix (18, 18.72, 18.72.01 or 18.72.01.1001)"
        ));
    }
    let province: u8 = parts[0].parse().unwrap_or(0);
    if RegionTimeZone::of_province(province).is_none() {
        return Err(format!("{s:?} starts with {province:02}, which is not a province code"));
    }
    Ok(parts.join("."))
}

/// Whether a rule name is acceptable: 1-64 of `a-z 0-9 + _ -`.
pub fn is_valid_rule_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            name: "h+7".into(),
            enabled: true,
            anchor: Anchor::DueDate,
            offset_days: 7,
            channels: vec![Channel::Sms],
            template: "h+7".into(),
            send_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            funding: None,
            kelurahan: Vec::new(),
            min_months_in_arrears: None,
            max_months_in_arrears: None,
            max_late_days: 3,
            expire_after_hours: 10,
        }
    }

    fn code(s: &str) -> KelurahanCode {
        KelurahanCode::parse(s).unwrap()
    }

    fn month(y: i32, m: u32) -> ContributionMonth {
        ContributionMonth::new(y, m).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn standing() -> StandingRules {
        StandingRules::default()
    }

    #[test]
    fn applies_without_filters() {
        assert!(rule().applies_to(Funding::SelfPaid, &code("18.72.01.1005"), 0, &standing()));
        let disabled = Rule {
            enabled: false,
            ..rule()
        };
        assert!(!disabled.applies_to(Funding::SelfPaid, &code("18.72.01.1005"), 0, &standing()));
    }

    #[test]
    fn funding_filter() {
        let r = Rule {
            funding: Some(vec![Funding::SelfPaid, Funding::Collective]),
            ..rule()
        };
        let yosomulyo = code("18.72.01.1005");
        assert!(r.applies_to(Funding::SelfPaid, &yosomulyo, 1, &standing()));
        assert!(r.applies_to(Funding::Collective, &yosomulyo, 1, &standing()));
        assert!(!r.applies_to(Funding::Budget, &yosomulyo, 1, &standing()));
    }

    #[test]
    fn kelurahan_prefix_filter() {
        let r = Rule {
            kelurahan: vec!["18.72.01".into(), "18.72.02.1001".into()],
            ..rule()
        };
        for (c, applies) in [
            ("18.72.01.1005", true),
            ("18.72.02.1001", true),
            ("18.72.02.1002", false),
            ("18.71.01.1001", false),
        ] {
            assert_eq!(
                r.applies_to(Funding::SelfPaid, &code(c), 1, &standing()),
                applies,
                "{c}"
            );
        }
    }

    #[test]
    fn arrears_filters_are_inclusive() {
        let r = Rule {
            min_months_in_arrears: Some(ArrearsBound::Months(1)),
            max_months_in_arrears: Some(ArrearsBound::Months(2)),
            ..rule()
        };
        let c = code("18.72.01.1005");
        let admitted: Vec<u32> = (0..5)
            .filter(|m| r.applies_to(Funding::SelfPaid, &c, *m, &standing()))
            .collect();
        assert_eq!(admitted, [1, 2]);
    }

    #[test]
    fn bounds_relative_to_the_threshold_follow_it() {
        let r = Rule {
            min_months_in_arrears: Some(ArrearsBound::Nonactive(-1)),
            max_months_in_arrears: Some(ArrearsBound::Nonactive(0)),
            ..rule()
        };
        for threshold in 1..=5 {
            let standing = StandingRules {
                nonactive_after_months: threshold,
            };
            let admitted: Vec<u32> = (0..8).filter(|m| r.admits_arrears(*m, &standing)).collect();
            assert_eq!(admitted, [threshold - 1, threshold], "threshold {threshold}");
        }
    }

    #[test]
    fn occurrence_counts_from_the_first_unpaid_due_date() {
        let due = DueDateRules::default();
        let standing = StandingRules::default();
        // July 2025 is due Tuesday 15 July.
        assert_eq!(rule().occurrence_date(month(2025, 7), &due, &standing), d(2025, 7, 22));
        let h_minus_7 = Rule {
            offset_days: -7,
            ..rule()
        };
        assert_eq!(
            h_minus_7.occurrence_date(month(2025, 7), &due, &standing),
            d(2025, 7, 8)
        );
        // June 2025 rolls to Monday 16 June.
        assert_eq!(
            h_minus_7.occurrence_date(month(2025, 6), &due, &standing),
            d(2025, 6, 9)
        );
    }

    #[test]
    fn nonactive_anchor_is_the_day_after_the_third_due_date() {
        let due = DueDateRules::default();
        let standing = StandingRules::default();
        let notice = Rule {
            anchor: Anchor::Nonactive,
            offset_days: 0,
            ..rule()
        };
        // First unpaid July 2025: July, August, September; September 2025 is
        // due Monday the 15th, so cover ends on the 16th.
        assert_eq!(notice.occurrence_date(month(2025, 7), &due, &standing), d(2025, 9, 16));
        assert_eq!(nonactive_date(month(2025, 7), &due, &standing), d(2025, 9, 16));
        assert_eq!(notice.anchor_shift(&standing), AnchorShift { months: 2, days: 1 });
        let last_chance = Rule {
            offset_days: -3,
            ..notice.clone()
        };
        assert_eq!(
            last_chance.occurrence_date(month(2025, 7), &due, &standing),
            d(2025, 9, 13)
        );
        // With the "after the 3rd" reading, one month later.
        let lenient = StandingRules {
            nonactive_after_months: 4,
        };
        assert_eq!(notice.occurrence_date(month(2025, 7), &due, &lenient), d(2025, 10, 16));
    }

    #[test]
    fn nonactive_is_57_to_64_days_after_the_first_due_date() {
        let due = DueDateRules::default();
        let standing = StandingRules::default();
        let mut spans = Vec::new();
        for index in 0..120 {
            let first = month(2024, 1).plus(index);
            spans.push((nonactive_date(first, &due, &standing) - due.due_date(first)).num_days());
        }
        let (min, max) = (*spans.iter().min().unwrap(), *spans.iter().max().unwrap());
        assert!(min >= 57 && max <= 64, "{min}..{max}");
        assert!(min < 60, "a fixed H+60 would come after non-active in some months");
    }

    #[test]
    fn lateness_follows_max_late_days() {
        let r = rule();
        let day = d(2025, 7, 22);
        assert_eq!(r.lateness(day, d(2025, 7, 20)), Lateness::Early { days: 2 });
        assert_eq!(r.lateness(day, day), Lateness::OnTime);
        assert_eq!(r.lateness(day, d(2025, 7, 25)), Lateness::Late { days: 3 });
        assert_eq!(r.lateness(day, d(2025, 7, 26)), Lateness::TooLate { days: 4 });
        let strict = Rule {
            max_late_days: 0,
            ..rule()
        };
        assert_eq!(strict.lateness(day, d(2025, 7, 23)), Lateness::TooLate { days: 1 });
        assert_eq!(r.expire_after(), Duration::hours(10));
    }

    #[test]
    fn kelurahan_prefixes() {
        assert_eq!(parse_kelurahan_prefix("18").unwrap(), "18");
        assert_eq!(parse_kelurahan_prefix("1872").unwrap(), "18.72");
        assert_eq!(parse_kelurahan_prefix("18.72.01").unwrap(), "18.72.01");
        assert_eq!(parse_kelurahan_prefix("1872011005").unwrap(), "18.72.01.1005");
        for bad in ["", "1", "187", "18.7", "18.72.01.100", "18.72.01.1001.1", "99.72", "ab"] {
            assert!(parse_kelurahan_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rule_names() {
        for ok in ["h-7", "h+7", "h0", "last_chance", "nonaktif"] {
            assert!(is_valid_rule_name(ok), "{ok}");
        }
        for bad in ["", "H-7", "h 7", "h.7", "pengingat/1", &"x".repeat(65)] {
            assert!(!is_valid_rule_name(bad), "{bad}");
        }
    }
}
