//! Standing at an earlier date, rebuilt from today's paid-through months
//! and the payments made since: a participant's paid-through month at `T`
//! is today's minus the months paid after `T`. It needs no snapshots, so the
//! 12-month chart is complete from the first day; participants registered
//! after `T` are counted as if they had been there (their paid-through month
//! then lies before their start, which reads as arrears).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::status::{StandingData, StatusAt, tally};
use crate::domain::calendar::local_midnight;
use crate::domain::{DueDateRules, RegionTimeZone, StandingRules};
use crate::store::{PaidThroughCount, PaymentSince, Reports, StoreError};

/// BPU participants and active ones at the end of one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthStanding {
    pub year: i32,
    pub month: u32,
    pub bpu: i64,
    pub active: i64,
}

/// Standing at the end of each of the last `months` months (the current
/// one: now), oldest first, for kelurahan under `filter`. Month ends are
/// WIB midnights.
pub async fn monthly_standing(
    store: &dyn Reports,
    data: &StandingData,
    (due, standing): (&DueDateRules, &StandingRules),
    filter: Option<&str>,
    now: DateTime<Utc>,
    months: u32,
) -> Result<Vec<MonthStanding>, StoreError> {
    let ends = month_ends(now, months);
    let oldest = ends.first().map_or(now, |(_, _, at)| *at);
    let payments = store.bpu_payments_since(oldest.timestamp()).await?;
    Ok(ends
        .into_iter()
        .map(|(year, month, at)| {
            let histogram = histogram_at(&data.histogram, &payments, at.timestamp());
            let status = tally(
                &data.kelurahan,
                &histogram,
                due,
                standing,
                StatusAt::Instant(at),
                filter,
            );
            MonthStanding {
                year,
                month,
                bpu: status.total.bpu,
                active: status.total.active,
            }
        })
        .collect())
}

/// `(year, month, end)` of the last `months` months, oldest first; the
/// current month ends now.
pub fn month_ends(now: DateTime<Utc>, months: u32) -> Vec<(i32, u32, DateTime<Utc>)> {
    let wib = RegionTimeZone::Wib.tz();
    let today = now.with_timezone(&wib).date_naive();
    let mut out = Vec::new();
    let (mut year, mut month) = (today.year(), today.month());
    for i in 0..months {
        let end = if i == 0 {
            now
        } else {
            let (ny, nm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
            NaiveDate::from_ymd_opt(ny, nm, 1).map_or(now, |d| local_midnight(d, wib))
        };
        out.push((year, month, end));
        (year, month) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
    }
    out.reverse();
    out
}

/// The histogram as it was at `at` (Unix seconds): `current` with every
/// payment of `payments` made after `at` taken back.
pub fn histogram_at(current: &[PaidThroughCount], payments: &[PaymentSince], at: i64) -> Vec<PaidThroughCount> {
    let mut buckets: HashMap<(&str, i32), i64> = current
        .iter()
        .map(|b| ((b.kelurahan_code.as_str(), b.paid_through), b.participants))
        .collect();
    let mut later: HashMap<i64, (&str, i32, i32)> = HashMap::new();
    for p in payments.iter().filter(|p| p.paid_at > at) {
        let e = later
            .entry(p.participant_id)
            .or_insert((p.kelurahan_code.as_str(), p.paid_through, 0));
        e.2 += p.months;
    }
    for (code, now, months) in later.into_values() {
        if let Some(n) = buckets.get_mut(&(code, now)) {
            *n -= 1;
        }
        *buckets.entry((code, now - months)).or_insert(0) += 1;
    }
    let mut out: Vec<PaidThroughCount> = buckets
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|((code, paid_through), participants)| PaidThroughCount {
            kelurahan_code: code.to_string(),
            paid_through,
            participants,
        })
        .collect();
    out.sort_by(|a, b| (&a.kelurahan_code, a.paid_through).cmp(&(&b.kelurahan_code, b.paid_through)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(code: &str, paid_through: i32, participants: i64) -> PaidThroughCount {
        PaidThroughCount {
            kelurahan_code: code.into(),
            paid_through,
            participants,
        }
    }

    fn paid(participant_id: i64, paid_through: i32, months: i32, paid_at: i64) -> PaymentSince {
        PaymentSince {
            participant_id,
            kelurahan_code: "A".into(),
            paid_through,
            months,
            paid_at,
        }
    }

    #[test]
    fn month_ends_are_wib_midnights_oldest_first() {
        let now: DateTime<Utc> = "2026-03-10T05:00:00Z".parse().unwrap();
        let ends = month_ends(now, 3);
        assert_eq!((ends[0].0, ends[0].1), (2026, 1));
        assert_eq!(ends[0].2.to_rfc3339(), "2026-01-31T17:00:00+00:00");
        assert_eq!((ends[1].0, ends[1].1), (2026, 2));
        assert_eq!(ends[2], (2026, 3, now));
    }

    #[test]
    fn payments_after_the_date_are_taken_back() {
        let current = [bucket("A", 100, 3), bucket("A", 98, 1)];
        // Participant 1 paid 1 month at t=10 and 2 months at t=20: through 100 now.
        let payments = [paid(1, 100, 1, 10), paid(1, 100, 2, 20), paid(2, 100, 1, 30)];
        assert_eq!(
            histogram_at(&current, &payments, 25),
            vec![bucket("A", 98, 1), bucket("A", 99, 1), bucket("A", 100, 2)]
        );
        assert_eq!(
            histogram_at(&current, &payments, 15),
            vec![bucket("A", 98, 2), bucket("A", 99, 1), bucket("A", 100, 1)]
        );
        assert_eq!(
            histogram_at(&current, &payments, 5),
            vec![
                bucket("A", 97, 1),
                bucket("A", 98, 1),
                bucket("A", 99, 1),
                bucket("A", 100, 1)
            ]
        );
        assert_eq!(
            histogram_at(&current, &payments, 30),
            current.iter().rev().cloned().collect::<Vec<_>>()
        );
    }
}
