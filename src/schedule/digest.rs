//! `[digest]`: when the weekly coordinator digest goes out.
//!
//! The digest is optional: without a `[digest]` table no digest is sent.
//! Its cron expressions are read like `[scan]`'s (6 fields, seconds first)
//! in its own time zone (default Asia/Jakarta). Whatever the expressions,
//! each kelurahan gets at most one digest per ISO week of the occurrence in
//! that time zone: the first occurrence of a week sends, later ones of the
//! same week find it sent.

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;

use super::check::Checker;
use super::cron::{CronSchedule, merged_next_times};
use super::error::ProblemKind;
use super::raw::RawDigest;
use crate::domain::calendar::local_midnight;

/// When the digest goes out: `[digest]` in the schedules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSchedule {
    /// The expressions; the digest of a week is due from its first occurrence.
    pub cron: Vec<CronSchedule>,
    /// The zone the expressions and the ISO week are read in (default Asia/Jakarta, WIB).
    pub time_zone: Tz,
}

impl DigestSchedule {
    /// The occurrence whose digest is due at `now`: the latest one at or
    /// before `now` within the ISO week of `now` (in the digest time zone).
    /// A daemon that was down at that time still finds it later in the
    /// same week; an occurrence of an earlier week is never due.
    pub fn due_occurrence(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let week_start = iso_week_start(now, self.time_zone);
        // `latest_between` excludes its start: one second earlier keeps an
        // occurrence at Monday 00:00:00 in its week.
        let after = week_start - Duration::seconds(1);
        self.cron
            .iter()
            .filter_map(|c| c.latest_between(self.time_zone, after, now))
            .max()
    }

    /// The next `n` digest times strictly after `after`, all expressions merged.
    pub fn next_times(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        merged_next_times(&self.cron, self.time_zone, after, n)
    }

    /// The ISO week key (`2025-W29`) of `instant` in the digest time zone.
    pub fn week_of(&self, instant: DateTime<Utc>) -> String {
        week_key(instant, self.time_zone)
    }
}

/// The ISO 8601 week of `instant` in `tz`, as `YYYY-Www` (`2025-W29`). Keys
/// of later weeks sort after earlier ones.
pub fn week_key(instant: DateTime<Utc>, tz: Tz) -> String {
    let week = instant.with_timezone(&tz).date_naive().iso_week();
    format!("{:04}-W{:02}", week.year(), week.week())
}

/// Monday 00:00 of the ISO week of `instant`, in `tz`.
pub fn iso_week_start(instant: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let date = instant.with_timezone(&tz).date_naive();
    let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
    local_midnight(monday, tz)
}

/// `[digest]`: every cron expression checked, the time zone resolved;
/// `None` without the table (or after recording its problems).
pub(super) fn build_digest(ck: &mut Checker<'_>, raw: Option<RawDigest>) -> Option<DigestSchedule> {
    let raw = raw?;
    if raw.cron.get_ref().is_empty() {
        ck.at(&raw.cron.span(), "digest.cron", ProblemKind::NoDigestCron);
    }
    let mut cron = Vec::new();
    for (i, expr) in raw.cron.into_inner().into_iter().enumerate() {
        match CronSchedule::parse(expr.get_ref()) {
            Ok(c) => cron.push(c),
            Err(e) => ck.at(&expr.span(), format!("digest.cron[{i}]"), ProblemKind::InvalidCron(e)),
        }
    }
    let time_zone = match raw.time_zone {
        None => chrono_tz::Asia::Jakarta,
        Some(name) => match name.get_ref().trim().parse::<Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                let kind = ProblemKind::BadTimeZone(name.get_ref().clone());
                ck.at(&name.span(), "digest.time_zone", kind);
                chrono_tz::Asia::Jakarta
            }
        },
    };
    Some(DigestSchedule { cron, time_zone })
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAKARTA: Tz = chrono_tz::Asia::Jakarta;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// Mondays at 07:00 WIB (00:00 UTC).
    fn mondays() -> DigestSchedule {
        DigestSchedule {
            cron: vec![CronSchedule::parse("0 0 7 * * MON").unwrap()],
            time_zone: JAKARTA,
        }
    }

    #[test]
    fn week_keys_follow_iso_8601_in_the_digest_time_zone() {
        // Monday 14 July 2025 is in ISO week 29.
        assert_eq!(week_key(utc("2025-07-14T00:00:00Z"), JAKARTA), "2025-W29");
        // Sunday 13 July 23:30 UTC is already Monday 06:30 WIB.
        assert_eq!(week_key(utc("2025-07-13T23:30:00Z"), JAKARTA), "2025-W29");
        assert_eq!(week_key(utc("2025-07-13T23:30:00Z"), chrono_tz::UTC), "2025-W28");
        // 1 January 2027 is a Friday of ISO week 53 of 2026; 29 December 2025 starts 2026-W01.
        assert_eq!(week_key(utc("2027-01-01T05:00:00Z"), JAKARTA), "2026-W53");
        assert_eq!(week_key(utc("2025-12-29T05:00:00Z"), JAKARTA), "2026-W01");
        // Keys sort like the weeks.
        assert!("2025-W09" < "2025-W10" && "2025-W53" < "2026-W01");
    }

    #[test]
    fn the_week_starts_on_monday_at_local_midnight() {
        assert_eq!(
            iso_week_start(utc("2025-07-17T10:00:00Z"), JAKARTA),
            utc("2025-07-13T17:00:00Z")
        );
        assert_eq!(
            iso_week_start(utc("2025-07-13T17:00:00Z"), JAKARTA),
            utc("2025-07-13T17:00:00Z")
        );
    }

    #[test]
    fn nothing_is_due_before_the_first_occurrence_of_the_week() {
        // Monday 06:59 WIB: last week's Monday digest is not due any more.
        assert_eq!(mondays().due_occurrence(utc("2025-07-13T23:59:00Z")), None);
    }

    #[test]
    fn the_occurrence_stays_due_for_the_rest_of_its_week() {
        let s = mondays();
        let monday = utc("2025-07-14T00:00:00Z");
        assert_eq!(s.due_occurrence(monday), Some(monday));
        // Down on Monday, started on Saturday: caught up in the same week.
        assert_eq!(s.due_occurrence(utc("2025-07-19T09:00:00Z")), Some(monday));
        // Sunday 23:59 WIB is still the same week; a minute later it is not.
        assert_eq!(s.due_occurrence(utc("2025-07-20T16:59:00Z")), Some(monday));
        assert_eq!(s.due_occurrence(utc("2025-07-20T17:00:00Z")), None);
        assert_eq!(s.week_of(monday), "2025-W29");
    }

    #[test]
    fn several_expressions_give_the_latest_occurrence_of_the_week() {
        let s = DigestSchedule {
            cron: vec![
                CronSchedule::parse("0 0 7 * * MON").unwrap(),
                CronSchedule::parse("0 0 7 * * THU").unwrap(),
            ],
            time_zone: JAKARTA,
        };
        assert_eq!(
            s.due_occurrence(utc("2025-07-18T00:00:00Z")),
            Some(utc("2025-07-17T00:00:00Z"))
        );
        assert_eq!(
            s.next_times(utc("2025-07-14T00:00:00Z"), 2),
            vec![utc("2025-07-17T00:00:00Z"), utc("2025-07-21T00:00:00Z")]
        );
    }

    #[test]
    fn an_occurrence_at_monday_midnight_belongs_to_its_week() {
        let s = DigestSchedule {
            cron: vec![CronSchedule::parse("0 0 0 * * MON").unwrap()],
            time_zone: JAKARTA,
        };
        let midnight = utc("2025-07-13T17:00:00Z");
        assert_eq!(s.due_occurrence(midnight), Some(midnight));
        assert_eq!(s.week_of(midnight), "2025-W29");
    }
}
