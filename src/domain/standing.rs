//! A participant's standing: the first unpaid month, months in arrears, and
//! active or non-active.
//!
//! A month is in arrears once its due date has passed unpaid; a
//! participant is non-active after a configurable number of consecutive
//! months in arrears (default 3; sources disagree whether that is "after the
//! 3rd" or "on entering the 3rd", hence the setting).

use serde::Serialize;

use super::month::ContributionMonth;

/// The configurable thresholds of standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandingRules {
    /// A participant with this many months in arrears or more is non-active.
    pub nonactive_after_months: u32,
}

impl Default for StandingRules {
    fn default() -> Self {
        Self {
            nonactive_after_months: 3,
        }
    }
}

/// Where one participant stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// The earliest month not yet paid.
    pub first_unpaid: ContributionMonth,
    /// Months whose due date has passed unpaid.
    pub months_in_arrears: u32,
    /// Whether the participant still has cover.
    pub active: bool,
}

/// The arrears groups that reports count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ArrearsBucket {
    Current,
    One,
    Two,
    ThreeOrMore,
}

impl ArrearsBucket {
    pub fn of(months_in_arrears: u32) -> Self {
        match months_in_arrears {
            0 => Self::Current,
            1 => Self::One,
            2 => Self::Two,
            _ => Self::ThreeOrMore,
        }
    }
}

/// The earliest unpaid month of someone paid through `paid_through`
/// (for someone who never paid, `paid_through` is the month before their
/// first contribution month).
pub fn first_unpaid_month(paid_through: ContributionMonth) -> ContributionMonth {
    paid_through.next()
}

/// Months paid beyond `current` (0 when not ahead).
pub fn months_paid_ahead(paid_through: ContributionMonth, current: ContributionMonth) -> u32 {
    paid_through.months_since(current).max(0) as u32
}

impl StandingRules {
    /// The standing of someone paid through `paid_through` when every month
    /// up to `last_past_due` has passed its due date (see
    /// [`DueDateRules::last_month_past_due`](super::calendar::DueDateRules::last_month_past_due)).
    pub fn standing(&self, paid_through: ContributionMonth, last_past_due: ContributionMonth) -> Standing {
        let months_in_arrears = last_past_due.months_since(paid_through).max(0) as u32;
        Standing {
            first_unpaid: first_unpaid_month(paid_through),
            months_in_arrears,
            active: months_in_arrears < self.nonactive_after_months,
        }
    }

    /// Months in arrears that make a participant non-active (at least 1).
    pub fn nonactive_months(&self) -> i32 {
        i32::try_from(self.nonactive_after_months.max(1)).unwrap_or(i32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::calendar::DueDateRules;
    use crate::domain::kelurahan::RegionTimeZone;

    fn month(y: i32, m: u32) -> ContributionMonth {
        ContributionMonth::new(y, m).unwrap()
    }

    /// Standing at `at` in WIB under the default rules.
    fn standing_at(paid_through: ContributionMonth, at: &str) -> Standing {
        let at: DateTime<Utc> = at.parse().unwrap();
        let last = DueDateRules::default().last_month_past_due(at, RegionTimeZone::Wib.tz());
        StandingRules::default().standing(paid_through, last)
    }

    #[test]
    fn current_before_the_due_date() {
        // Paid through June; 10 July: July not yet due.
        let s = standing_at(month(2025, 6), "2025-07-10T03:00:00Z");
        assert_eq!(s.first_unpaid, month(2025, 7));
        assert_eq!(s.months_in_arrears, 0);
        assert!(s.active);
    }

    #[test]
    fn one_month_after_the_due_date() {
        let s = standing_at(month(2025, 6), "2025-07-16T03:00:00Z");
        assert_eq!(s.months_in_arrears, 1);
        assert!(s.active);
    }

    #[test]
    fn non_active_on_the_third_month_in_arrears() {
        // Paid through April; May, June, July past due on 16 July.
        let s = standing_at(month(2025, 4), "2025-07-16T03:00:00Z");
        assert_eq!(s.months_in_arrears, 3);
        assert!(!s.active);
        assert_eq!(ArrearsBucket::of(s.months_in_arrears), ArrearsBucket::ThreeOrMore);
        // With the other reading of the rule ("after the 3rd"), still active.
        let lenient = StandingRules {
            nonactive_after_months: 4,
        };
        let last = DueDateRules::default()
            .last_month_past_due("2025-07-16T03:00:00Z".parse().unwrap(), RegionTimeZone::Wib.tz());
        assert!(lenient.standing(month(2025, 4), last).active);
    }

    #[test]
    fn paid_ahead_by_twelve_months() {
        let s = standing_at(month(2026, 7), "2025-07-16T03:00:00Z");
        assert_eq!(s.months_in_arrears, 0);
        assert_eq!(s.first_unpaid, month(2026, 8));
        assert_eq!(months_paid_ahead(month(2026, 7), month(2025, 7)), 12);
        assert!(s.active);
    }

    #[test]
    fn never_paid_counts_from_the_first_contribution_month() {
        // Registered for May 2025 and never paid: paid-through is April.
        let s = standing_at(month(2025, 5).prev(), "2025-06-20T03:00:00Z");
        assert_eq!(s.first_unpaid, month(2025, 5));
        assert_eq!(s.months_in_arrears, 2);
        assert_eq!(ArrearsBucket::of(s.months_in_arrears), ArrearsBucket::Two);
    }
}
