//! The due date of a contribution month and the instant it falls into
//! arrears.
//!
//! BPU contributions are due on day 15 of the contribution month
//! itself; when that day is a non-working day, the next working day. The day,
//! the month offset, the non-working weekdays and the holidays all come from
//! configuration; nothing here is hard-coded beyond those defaults.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use super::month::ContributionMonth;

/// How the due date of a contribution month is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDateRules {
    /// Day of the month the contribution is due (1-31); a day past the end of
    /// a short month means its last day.
    pub day: u32,
    /// 0: due in the contribution month itself (BPU rule); 1: in the next
    /// month (the employer rule), and so on.
    pub month_offset: i32,
    /// Weekdays on which nothing is due; the due date moves to the next
    /// working day.
    pub non_working_weekdays: HashSet<Weekday>,
    /// Public holidays; a due date on one moves to the next working day.
    pub holidays: BTreeSet<NaiveDate>,
    /// Holidays of single kelurahan, by dotted code, on top of `holidays`
    /// ([`Self::for_kelurahan`]): due dates there move, elsewhere not.
    pub kelurahan_holidays: BTreeMap<String, BTreeSet<NaiveDate>>,
}

impl Default for DueDateRules {
    fn default() -> Self {
        Self {
            day: 15,
            month_offset: 0,
            non_working_weekdays: [Weekday::Sat, Weekday::Sun].into_iter().collect(),
            holidays: BTreeSet::new(),
            kelurahan_holidays: BTreeMap::new(),
        }
    }
}

impl DueDateRules {
    /// The rules of kelurahan `code`: these with its own holidays added.
    /// Standing, scans, previews, digests and reports all ask this, so a
    /// kelurahan holiday moves a due date the same way everywhere.
    pub fn for_kelurahan(&self, code: &str) -> Cow<'_, Self> {
        match self.kelurahan_holidays.get(code) {
            Some(extra) if !extra.is_empty() => Cow::Owned(Self {
                kelurahan_holidays: BTreeMap::new(),
                ..self.with_extra_holidays(extra.iter().copied())
            }),
            _ => Cow::Borrowed(self),
        }
    }

    /// These rules with more holidays (a kelurahan's local ones).
    pub fn with_extra_holidays(&self, extra: impl IntoIterator<Item = NaiveDate>) -> Self {
        let mut rules = self.clone();
        rules.holidays.extend(extra);
        rules
    }

    /// Whether contributions can fall due on `date`.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.non_working_weekdays.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// The due date of `month`: the configured day (clamped to the month's
    /// length) of the month `month_offset` later, rolled forward past
    /// non-working weekdays and holidays.
    pub fn due_date(&self, month: ContributionMonth) -> NaiveDate {
        let target = month.plus(self.month_offset);
        let day = self.day.clamp(1, target.days());
        let mut date = target.first_day() + Duration::days(i64::from(day) - 1);
        // Configuration guarantees at least one working weekday, so a year
        // bounds the walk even with an absurd holiday list.
        for _ in 0..366 {
            if self.is_working_day(date) {
                break;
            }
            date += Duration::days(1);
        }
        date
    }

    /// The instant `month` falls into arrears when unpaid: local midnight at
    /// the end of its due date, in the kelurahan's time zone. A payment made
    /// any time on the due date itself is on time.
    pub fn arrears_from(&self, month: ContributionMonth, tz: Tz) -> DateTime<Utc> {
        local_midnight(self.due_date(month) + Duration::days(1), tz)
    }

    /// The latest month already in arrears for someone who never paid, at
    /// `at`: every month up to this one has passed its due date.
    pub fn last_month_past_due(&self, at: DateTime<Utc>, tz: Tz) -> ContributionMonth {
        let local = at.with_timezone(&tz).date_naive();
        // Month m is due in month m + offset (or shortly after, when rolled
        // forward), so nothing after this candidate can be past due.
        let mut month = ContributionMonth::of_date(local).plus(-self.month_offset);
        while self.arrears_from(month, tz) > at {
            month = month.prev();
        }
        month
    }
}

/// Local midnight at the start of `date` in `tz`, as a UTC instant.
pub fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive).earliest() {
        Some(local) => local.with_timezone(&Utc),
        // Midnight skipped by a DST change (not in Indonesia): the naive UTC
        // instant is the best available answer.
        None => Utc.from_utc_datetime(&naive),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kelurahan::RegionTimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn month(y: i32, m: u32) -> ContributionMonth {
        ContributionMonth::new(y, m).unwrap()
    }
    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn day_15_on_a_weekday_stays() {
        // 2025-07-15 is a Tuesday.
        assert_eq!(DueDateRules::default().due_date(month(2025, 7)), d(2025, 7, 15));
    }

    #[test]
    fn weekend_rolls_to_monday() {
        // 2025-06-15 is a Sunday.
        assert_eq!(DueDateRules::default().due_date(month(2025, 6)), d(2025, 6, 16));
        // 2025-03-15 is a Saturday.
        assert_eq!(DueDateRules::default().due_date(month(2025, 3)), d(2025, 3, 17));
    }

    #[test]
    fn weekend_followed_by_a_holiday_rolls_to_tuesday() {
        // 2025-11-15 is a Saturday; make Monday 17th a holiday.
        let rules = DueDateRules::default().with_extra_holidays([d(2025, 11, 17)]);
        assert_eq!(rules.due_date(month(2025, 11)), d(2025, 11, 18));
        // Two holidays in a row after the weekend.
        let rules = rules.with_extra_holidays([d(2025, 11, 18)]);
        assert_eq!(rules.due_date(month(2025, 11)), d(2025, 11, 19));
    }

    #[test]
    fn month_end_days_clamp_in_short_months_and_leap_years() {
        let rules = DueDateRules {
            day: 31,
            non_working_weekdays: HashSet::new(),
            ..Default::default()
        };
        assert_eq!(rules.due_date(month(2024, 2)), d(2024, 2, 29));
        assert_eq!(rules.due_date(month(2025, 2)), d(2025, 2, 28));
        assert_eq!(rules.due_date(month(2025, 4)), d(2025, 4, 30));
        assert_eq!(rules.due_date(month(2025, 12)), d(2025, 12, 31));
    }

    #[test]
    fn month_end_rolls_into_next_month_and_year() {
        // 2025-05-31 is a Saturday: due Monday 2 June.
        let rules = DueDateRules {
            day: 31,
            ..Default::default()
        };
        assert_eq!(rules.due_date(month(2025, 5)), d(2025, 6, 2));
        // 2022-12-31 is a Saturday: due Monday 2 January 2023 (1 January is a Sunday).
        assert_eq!(rules.due_date(month(2022, 12)), d(2023, 1, 2));
    }

    #[test]
    fn month_offset_moves_to_the_next_month() {
        let rules = DueDateRules {
            month_offset: 1,
            ..Default::default()
        };
        // Contribution for December 2025 due 15 January 2026 (a Thursday).
        assert_eq!(rules.due_date(month(2025, 12)), d(2026, 1, 15));
    }

    #[test]
    fn arrears_start_at_local_midnight_in_each_time_zone() {
        let rules = DueDateRules::default();
        let july = month(2025, 7); // due Tuesday 2025-07-15
        for (zone, midnight) in [
            (RegionTimeZone::Wib, "2025-07-15T17:00:00Z"),
            (RegionTimeZone::Wita, "2025-07-15T16:00:00Z"),
            (RegionTimeZone::Wit, "2025-07-15T15:00:00Z"),
        ] {
            let tz = zone.tz();
            let at = utc(midnight);
            assert_eq!(rules.arrears_from(july, tz), at, "{zone:?}");
            assert_eq!(rules.last_month_past_due(at, tz), july, "{zone:?} at midnight");
            let second_before = at - Duration::seconds(1);
            assert_eq!(
                rules.last_month_past_due(second_before, tz),
                month(2025, 6),
                "{zone:?} before"
            );
        }
    }

    #[test]
    fn last_month_past_due_waits_for_a_rolled_due_date() {
        // June 2025 is due Monday 16 June (the 15th is a Sunday).
        let tz = RegionTimeZone::Wib.tz();
        let rules = DueDateRules::default();
        assert_eq!(
            rules.last_month_past_due(utc("2025-06-16T10:00:00Z"), tz),
            month(2025, 5)
        );
        assert_eq!(
            rules.last_month_past_due(utc("2025-06-16T17:00:00Z"), tz),
            month(2025, 6)
        );
    }
}
