//! Monthly standing snapshots, taken from the scan loop: once at start
//! (which takes the months missed while no daemon ran, marked rebuilt when
//! late) and on the first tick after a month ends in any of the three time
//! zones. Several instances may do this at once: each (kelurahan, month)
//! row is written once, by whichever comes first.

use chrono::{DateTime, Utc};

use super::Shared;
use crate::domain::{ContributionMonth, RegionTimeZone};
use crate::report::snapshot::{self, SnapshotReport};
use crate::store::StoreError;

/// When the scan loop next takes snapshots.
#[derive(Debug, Clone, Copy)]
pub(super) struct SnapshotSchedule {
    /// The next instant worth a look; a failed attempt keeps it, so the next tick retries.
    next: DateTime<Utc>,
}

impl SnapshotSchedule {
    /// Due at once.
    pub(super) fn starting(now: DateTime<Utc>) -> Self {
        Self { next: now }
    }

    /// Takes the snapshots due when `now` has reached the next month's end.
    pub(super) async fn tick(&mut self, shared: &Shared, now: DateTime<Utc>) {
        if now < self.next {
            return;
        }
        match take(shared, now).await {
            Ok(report) => {
                for m in report.months.iter().filter(|m| m.written > 0) {
                    tracing::info!(
                        month = %m.month,
                        kelurahan = m.written,
                        rebuilt = m.rebuilt,
                        "standing snapshot taken"
                    );
                }
                self.next = next_month_end(now);
            }
            Err(e) => tracing::error!(error = %e, "standing snapshot failed; the next tick tries again"),
        }
    }
}

/// Takes every snapshot due at `now`, with the current schedules' holidays.
pub(super) async fn take(shared: &Shared, now: DateTime<Utc>) -> Result<SnapshotReport, StoreError> {
    let due = shared
        .schedules
        .borrow()
        .with_kelurahan_holidays(&shared.settings.due_date.rules());
    let standing = shared.settings.standing.rules();
    snapshot::take_due(shared.store.as_ref(), (&due, &standing), now).await
}

/// The first month end after `now` in any time zone (WIT's comes first).
pub(crate) fn next_month_end(now: DateTime<Utc>) -> DateTime<Utc> {
    [RegionTimeZone::Wib, RegionTimeZone::Wita, RegionTimeZone::Wit]
        .into_iter()
        .map(|z| {
            let current = ContributionMonth::of_date(now.with_timezone(&z.tz()).date_naive());
            snapshot::month_end(current, z)
        })
        .min()
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_look_is_the_first_month_end_in_any_zone() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // 10 June: June ends first in WIT, at 15:00 UTC on 30 June.
        assert_eq!(next_month_end(at("2026-06-10T00:00:00Z")), at("2026-06-30T15:00:00Z"));
        // 16:30 UTC on 30 June: July in WIT and WITA, June's end in WIB is next.
        assert_eq!(next_month_end(at("2026-06-30T16:30:00Z")), at("2026-06-30T17:00:00Z"));
    }
}
