//! Scan cron expressions: six fields, seconds first, evaluated with croner
//! in a real time zone.
//!
//! The format is croner's with `Seconds::Required` and `dom_and_dow(true)`
//! (the reading of tokio-cron-scheduler 0.15, which schedules used to run
//! on): six fields, seconds first (`sec min hour day-of-month month
//! day-of-week`), and a day-of-month AND a day-of-week must both match
//! (`0 0 9 1 * MON` fires only on a 1st that is a Monday, unlike Vixie
//! cron's OR). Classic 5-field lines and 7-field lines with a year get a
//! clear error. The daemon ticks on a plain interval and evaluates these
//! expressions itself with a `chrono_tz::Tz`, so local times stay right
//! when a zone's UTC offset changes.

use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use thiserror::Error;

/// Why a string is not a usable scan cron expression.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CronExprError {
    /// Five fields: a classic crontab line, without the seconds field that
    /// comes first here.
    #[error(
        "{0:?} has 5 fields; 6 are needed, seconds first (sec min hour day-of-month month day-of-week): \
         add a leading `0 ` for seconds, e.g. \"0 */15 * * * *\""
    )]
    MissingSeconds(String),
    /// Seven fields: a year field, which is not supported.
    #[error(
        "{0:?} has 7 fields; a year field is not supported: remove the last field \
         (6 fields: sec min hour day-of-month month day-of-week)"
    )]
    YearField(String),
    /// Any other number of fields.
    #[error("{expr:?} has {fields} fields; 6 are needed (sec min hour day-of-month month day-of-week)")]
    FieldCount {
        /// The expression as written.
        expr: String,
        /// How many whitespace-separated fields it has.
        fields: usize,
    },
    /// Croner refused a field (a value out of range, a bad step or name).
    #[error("{expr:?} is not a valid cron expression: {reason}")]
    Invalid {
        /// The expression as written.
        expr: String,
        /// Croner's explanation.
        reason: String,
    },
    /// The expression is well-formed but never fires (`0 0 0 30 2 *`, or a
    /// day-of-month and day-of-week that never coincide).
    #[error("{0:?} never fires (remember that day-of-month AND day-of-week must both match)")]
    NeverFires(String),
}

/// A validated 6-field cron expression.
#[derive(Clone)]
pub struct CronSchedule {
    /// The expression as the operator wrote it (trimmed).
    expr: String,
    /// Croner's parsed form.
    cron: Cron,
}

impl fmt::Debug for CronSchedule {
    /// Only the expression: croner's parsed form is thousands of bits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CronSchedule").field(&self.expr).finish()
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

impl Eq for CronSchedule {}

impl CronSchedule {
    /// Parses and validates `expr` (six fields, seconds first), and checks
    /// that it fires at least once.
    pub fn parse(expr: &str) -> Result<Self, CronExprError> {
        let expr = expr.trim().to_string();
        match expr.split_whitespace().count() {
            6 => {}
            5 => return Err(CronExprError::MissingSeconds(expr)),
            7 => return Err(CronExprError::YearField(expr)),
            fields => return Err(CronExprError::FieldCount { expr, fields }),
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(&expr)
            .map_err(|e| CronExprError::Invalid {
                expr: expr.clone(),
                reason: e.to_string(),
            })?;
        // Croner searches a bounded number of years; an expression with no
        // occurrence after a fixed reference date never fires at all.
        let reference = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().unwrap_or_default();
        if cron.find_next_occurrence(&reference, false).is_err() {
            return Err(CronExprError::NeverFires(expr));
        }
        Ok(Self { expr, cron })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.expr
    }

    /// The next `n` occurrences strictly after `after`, reading the
    /// expression in local time of `tz`.
    pub fn next_times(&self, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        self.cron
            .iter_after(after.with_timezone(&tz))
            .take(n)
            .map(|t| t.with_timezone(&Utc))
            .collect()
    }

    /// The latest occurrence in `(after, until]`, if any: whether a scan is
    /// due on a tick, and which occurrence it is. Occurrences missed while
    /// the daemon was down collapse into this one (the scan is state-based,
    /// so one run catches up).
    pub fn latest_between(&self, tz: Tz, after: DateTime<Utc>, until: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if until <= after {
            return None;
        }
        let found = self
            .cron
            .find_previous_occurrence(&until.with_timezone(&tz), true)
            .ok()?
            .with_timezone(&Utc);
        (found > after).then_some(found)
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

/// The scan's default: every quarter of an hour.
pub const DEFAULT_SCAN_CRON: &str = "0 */15 * * * *";

/// When the scan runs: `[scan]` in the schedules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSchedule {
    /// The expressions; the scan runs at each occurrence of any of them.
    pub cron: Vec<CronSchedule>,
    /// The zone the expressions are read in (default Asia/Jakarta, WIB).
    pub time_zone: Tz,
}

impl Default for ScanSchedule {
    fn default() -> Self {
        Self {
            cron: CronSchedule::parse(DEFAULT_SCAN_CRON).into_iter().collect(),
            time_zone: chrono_tz::Asia::Jakarta,
        }
    }
}

impl ScanSchedule {
    /// The next `n` scan times strictly after `after`, all expressions
    /// merged, each instant once.
    pub fn next_times(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        merged_next_times(&self.cron, self.time_zone, after, n)
    }

    /// The latest scan time in `(after, until]` of any expression: whether
    /// a tick at `until` should scan, given the previous tick at `after`.
    pub fn latest_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .iter()
            .filter_map(|c| c.latest_between(self.time_zone, after, until))
            .max()
    }
}

/// The next `n` occurrences strictly after `after` of any of `cron` in
/// `tz`, in order, each instant once.
pub(super) fn merged_next_times(cron: &[CronSchedule], tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let mut all: Vec<DateTime<Utc>> = cron.iter().flat_map(|c| c.next_times(tz, after, n)).collect();
    all.sort();
    all.dedup();
    all.truncate(n);
    all
}

/// The next `n` occurrences of `expr` strictly after `after`, in `tz`.
pub fn next_times(expr: &str, tz: Tz, after: DateTime<Utc>, n: usize) -> Result<Vec<DateTime<Utc>>, CronExprError> {
    Ok(CronSchedule::parse(expr)?.next_times(tz, after, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const JAKARTA: Tz = chrono_tz::Asia::Jakarta;

    #[test]
    fn accepts_six_fields_with_seconds() {
        for expr in [
            "0 */15 * * * *",
            "0 0 9 * * MON-FRI",
            "30 5 6,18 * * *",
            "0 0 9 1 * +MON",
            " 0 0 * * * * ",
        ] {
            assert!(CronSchedule::parse(expr).is_ok(), "{expr}");
        }
        assert_eq!(CronSchedule::parse(" 0 0 * * * * ").unwrap().as_str(), "0 0 * * * *");
    }

    #[test]
    fn five_fields_get_a_clear_error() {
        let err = CronSchedule::parse("*/15 * * * *").unwrap_err();
        assert_eq!(err, CronExprError::MissingSeconds("*/15 * * * *".into()));
        assert!(err.to_string().contains("seconds first"), "{err}");
    }

    #[test]
    fn seven_fields_get_a_clear_error() {
        let err = CronSchedule::parse("0 15 6,8,10 * Mar,Jun Fri 2017").unwrap_err();
        assert!(matches!(err, CronExprError::YearField(_)));
        assert!(err.to_string().contains("year field is not supported"), "{err}");
    }

    #[test]
    fn other_field_counts_and_bad_values() {
        assert!(matches!(
            CronSchedule::parse("@hourly"),
            Err(CronExprError::FieldCount { fields: 1, .. })
        ));
        assert!(matches!(
            CronSchedule::parse(""),
            Err(CronExprError::FieldCount { fields: 0, .. })
        ));
        assert!(matches!(
            CronSchedule::parse("0 61 * * * *"),
            Err(CronExprError::Invalid { .. })
        ));
        assert!(matches!(
            CronSchedule::parse("0 0 25 * * *"),
            Err(CronExprError::Invalid { .. })
        ));
        assert!(matches!(
            CronSchedule::parse("0 0 9 * * FUNDAY"),
            Err(CronExprError::Invalid { .. })
        ));
    }

    #[test]
    fn an_expression_that_never_fires_is_refused() {
        assert_eq!(
            CronSchedule::parse("0 0 0 30 2 *"),
            Err(CronExprError::NeverFires("0 0 0 30 2 *".into()))
        );
    }

    #[test]
    fn next_times_every_quarter_hour() {
        let times = next_times("0 */15 * * * *", JAKARTA, utc("2025-07-08T01:07:30Z"), 3).unwrap();
        assert_eq!(
            times,
            vec![
                utc("2025-07-08T01:15:00Z"),
                utc("2025-07-08T01:30:00Z"),
                utc("2025-07-08T01:45:00Z")
            ]
        );
        // Strictly after: an occurrence exactly at `after` is not repeated.
        let times = next_times("0 */15 * * * *", JAKARTA, utc("2025-07-08T01:15:00Z"), 1).unwrap();
        assert_eq!(times, vec![utc("2025-07-08T01:30:00Z")]);
    }

    #[test]
    fn hours_are_local_to_the_time_zone() {
        // 06:00 WIB is 23:00 UTC the day before; 06:00 WIT is 21:00 UTC.
        let cron = CronSchedule::parse("0 0 6 * * *").unwrap();
        assert_eq!(
            cron.next_times(JAKARTA, utc("2025-07-08T00:00:00Z"), 1),
            vec![utc("2025-07-08T23:00:00Z")]
        );
        assert_eq!(
            cron.next_times(chrono_tz::Asia::Jayapura, utc("2025-07-08T00:00:00Z"), 1),
            vec![utc("2025-07-08T21:00:00Z")]
        );
    }

    #[test]
    fn day_of_month_and_day_of_week_must_both_match() {
        // The first 1st of a month that is a Monday after 2025-07-08 is 1 September 2025.
        let times = next_times("0 0 9 1 * MON", JAKARTA, utc("2025-07-08T00:00:00Z"), 2).unwrap();
        assert_eq!(times, vec![utc("2025-09-01T02:00:00Z"), utc("2025-12-01T02:00:00Z")]);
    }

    #[test]
    fn keeps_local_time_across_daylight_saving() {
        // Europe/Berlin moved to CEST on 2025-03-30: 09:00 local is 08:00 UTC
        // before and 07:00 UTC after (a schedule that froze the UTC offset
        // would stay at 08:00 UTC).
        let times = next_times("0 0 9 * * *", chrono_tz::Europe::Berlin, utc("2025-03-29T00:00:00Z"), 2).unwrap();
        assert_eq!(times, vec![utc("2025-03-29T08:00:00Z"), utc("2025-03-30T07:00:00Z")]);
    }

    #[test]
    fn scan_schedule_merges_expressions() {
        let scan = ScanSchedule {
            cron: vec![
                CronSchedule::parse("0 0 6 * * *").unwrap(),
                CronSchedule::parse("0 0 6,12 * * *").unwrap(),
            ],
            time_zone: JAKARTA,
        };
        assert_eq!(
            scan.next_times(utc("2025-07-08T00:00:00Z"), 3),
            vec![
                utc("2025-07-08T05:00:00Z"),
                utc("2025-07-08T23:00:00Z"),
                utc("2025-07-09T05:00:00Z")
            ]
        );
        assert_eq!(
            scan.latest_between(utc("2025-07-08T00:00:00Z"), utc("2025-07-09T00:00:00Z")),
            Some(utc("2025-07-08T23:00:00Z"))
        );
        assert_eq!(ScanSchedule::default().cron.len(), 1);
    }

    #[test]
    fn latest_between_finds_the_due_occurrence() {
        let cron = CronSchedule::parse("0 */15 * * * *").unwrap();
        let due = cron.latest_between(JAKARTA, utc("2025-07-08T01:00:00Z"), utc("2025-07-08T01:31:00Z"));
        assert_eq!(due, Some(utc("2025-07-08T01:30:00Z")));
        // Inclusive at the end, exclusive at the start.
        let due = cron.latest_between(JAKARTA, utc("2025-07-08T01:15:00Z"), utc("2025-07-08T01:15:00Z"));
        assert_eq!(due, None);
        let due = cron.latest_between(JAKARTA, utc("2025-07-08T01:14:00Z"), utc("2025-07-08T01:15:00Z"));
        assert_eq!(due, Some(utc("2025-07-08T01:15:00Z")));
        let due = cron.latest_between(JAKARTA, utc("2025-07-08T01:15:00Z"), utc("2025-07-08T01:29:59Z"));
        assert_eq!(due, None);
    }
}
