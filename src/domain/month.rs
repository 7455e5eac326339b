//! Contribution months. A month is stored as one integer, `year * 12 +
//! (month - 1)`, so that "months between" and "next month" are plain
//! arithmetic in Rust and in SQL.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a string is not a contribution month.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("month {0:?} must be written YYYY-MM (for example 2025-07)")]
pub struct MonthError(pub String);

/// One calendar month for which a contribution is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContributionMonth(i32);

/// Indonesian month names, for templates and reports.
pub const INDONESIAN_MONTHS: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

impl ContributionMonth {
    /// The month of `year`, `month` (1-12); `None` for an invalid month.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (1900..=9999).contains(&year)).then(|| Self(year * 12 + month as i32 - 1))
    }

    /// The month a date falls in.
    pub fn of_date(date: NaiveDate) -> Self {
        Self(date.year() * 12 + date.month0() as i32)
    }

    /// From the stored integer.
    pub const fn from_index(index: i32) -> Self {
        Self(index)
    }

    /// The stored integer.
    pub fn index(self) -> i32 {
        self.0
    }

    /// Parses `YYYY-MM`, also accepting `YYYY/MM` and `MM/YYYY` as spreadsheets write them.
    pub fn parse(raw: &str) -> Result<Self, MonthError> {
        let s = raw.trim();
        let err = || MonthError(s.to_string());
        let (a, b) = s.split_once(['-', '/']).ok_or_else(err)?;
        let (year, month) = if a.len() == 4 { (a, b) } else { (b, a) };
        if year.len() != 4 || month.is_empty() || month.len() > 2 {
            return Err(err());
        }
        let year: i32 = year.parse().map_err(|_| err())?;
        let month: u32 = month.parse().map_err(|_| err())?;
        Self::new(year, month).ok_or_else(err)
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1-12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    /// This month plus `n` months (negative goes back).
    pub fn plus(self, n: i32) -> Self {
        Self(self.0 + n)
    }

    pub fn next(self) -> Self {
        self.plus(1)
    }

    pub fn prev(self) -> Self {
        self.plus(-1)
    }

    /// Months from `earlier` to `self` (negative if `earlier` is later).
    pub fn months_since(self, earlier: Self) -> i32 {
        self.0 - earlier.0
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year(), self.month(), 1).unwrap_or(NaiveDate::MIN)
    }

    /// The number of days in the month (28-31).
    pub fn days(self) -> u32 {
        let next = self.next().first_day();
        (next - self.first_day()).num_days() as u32
    }

    /// "Juli 2025".
    pub fn indonesian_name(self) -> String {
        format!("{} {}", INDONESIAN_MONTHS[self.month() as usize - 1], self.year())
    }
}

impl fmt::Display for ContributionMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl TryFrom<String> for ContributionMonth {
    type Error = MonthError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ContributionMonth> for String {
    fn from(value: ContributionMonth) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let m = ContributionMonth::parse("2025-07").unwrap();
        assert_eq!((m.year(), m.month()), (2025, 7));
        assert_eq!(m.to_string(), "2025-07");
        assert_eq!(ContributionMonth::parse("07/2025").unwrap(), m);
        assert_eq!(ContributionMonth::parse("2025/7").unwrap(), m);
        assert!(ContributionMonth::parse("2025-13").is_err());
        assert!(ContributionMonth::parse("July 2025").is_err());
        assert_eq!(m.indonesian_name(), "Juli 2025");
    }

    #[test]
    fn arithmetic_crosses_years() {
        let dec = ContributionMonth::new(2025, 12).unwrap();
        assert_eq!(dec.next(), ContributionMonth::new(2026, 1).unwrap());
        assert_eq!(dec.plus(12), ContributionMonth::new(2026, 12).unwrap());
        assert_eq!(ContributionMonth::new(2026, 1).unwrap().prev(), dec);
        assert_eq!(ContributionMonth::new(2026, 3).unwrap().months_since(dec), 3);
    }

    #[test]
    fn month_lengths_and_leap_years() {
        assert_eq!(ContributionMonth::new(2024, 2).unwrap().days(), 29);
        assert_eq!(ContributionMonth::new(2025, 2).unwrap().days(), 28);
        assert_eq!(ContributionMonth::new(2100, 2).unwrap().days(), 28);
        assert_eq!(ContributionMonth::new(2000, 2).unwrap().days(), 29);
        assert_eq!(ContributionMonth::new(2025, 4).unwrap().days(), 30);
        assert_eq!(ContributionMonth::new(2025, 12).unwrap().days(), 31);
    }
}
