//! Paid-through months at an earlier instant, rebuilt from today's and the
//! payments made since: a participant's paid-through month at `T` is
//! today's minus the months paid after `T`. Participants registered after
//! `T` count as if they had been there (their paid-through month then lies
//! before their start, which reads as arrears), and one who moved kelurahan
//! counts where they are today: why figures rebuilt this way are labelled.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::status::StatusRow;
use crate::domain::calendar::local_midnight;
use crate::domain::{ContributionMonth, DueDateRules, RegionTimeZone, StandingRules};
use crate::store::{Kelurahan, PaidThroughCount, PaymentSince};

/// The instant month `month` ends in `zone`: local midnight of the next month's first day.
pub fn month_end(month: ContributionMonth, zone: RegionTimeZone) -> DateTime<Utc> {
    local_midnight(month.next().first_day(), zone.tz())
}

/// Today's standing data: what every snapshot is computed from.
#[derive(Debug, Clone)]
pub struct Basis<'a> {
    /// Today's paid-through histogram.
    pub histogram: &'a [PaidThroughCount],
    /// Payments of BPU participants made since the earliest instant asked about.
    pub payments: &'a [PaymentSince],
    /// Due dates with every kelurahan's own holidays.
    pub due: &'a DueDateRules,
    /// When a participant is non-active.
    pub standing: &'a StandingRules,
}

/// The histogram as it was at `at` (Unix seconds): `current` with every
/// payment of `payments` made after `at` taken back.
pub fn histogram_at(current: &[PaidThroughCount], payments: &[PaymentSince], at: i64) -> Vec<PaidThroughCount> {
    let mut buckets: HashMap<(&str, i32), i64> = current
        .iter()
        .map(|b| ((b.kelurahan_code.as_str(), b.paid_through), b.participants))
        .collect();
    for (code, moved) in moves_after(payments, at) {
        for (now, months) in moved {
            if let Some(n) = buckets.get_mut(&(code, now)) {
                *n -= 1;
            }
            *buckets.entry((code, now - months)).or_insert(0) += 1;
        }
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

/// Today's paid-through buckets grouped by kelurahan, read once for every
/// month rebuilt from them.
pub struct KelurahanBuckets<'a>(HashMap<&'a str, Vec<(i32, i64)>>);

impl<'a> KelurahanBuckets<'a> {
    /// Groups `histogram` by kelurahan.
    pub fn of(histogram: &'a [PaidThroughCount]) -> Self {
        let mut by_code: HashMap<&str, Vec<(i32, i64)>> = HashMap::new();
        for b in histogram {
            by_code
                .entry(b.kelurahan_code.as_str())
                .or_default()
                .push((b.paid_through, b.participants));
        }
        Self(by_code)
    }
}

/// The standing totals of `kelurahan` at the end of `month`, each at the
/// month's end in its own time zone: what the rows of
/// [`super::snapshot::rows_for_month`] add up to, without a histogram and a
/// row per kelurahan. Linear in the kelurahan's buckets and the payments
/// made since: a country's 12-month chart no longer rebuilds, sorts and
/// tallies the whole histogram for every month and time zone.
pub fn month_totals(
    kelurahan: &[&Kelurahan],
    buckets: &KelurahanBuckets<'_>,
    basis: &Basis<'_>,
    month: ContributionMonth,
) -> StatusRow {
    let mut total = StatusRow::default();
    // The month ends at a different instant in each time zone.
    let mut later: HashMap<RegionTimeZone, (DateTime<Utc>, Moves<'_>)> = HashMap::new();
    let mut last_past_due: HashMap<(RegionTimeZone, Option<&str>), ContributionMonth> = HashMap::new();
    for k in kelurahan {
        let zone = k.time_zone;
        let code = k.code.as_str();
        let (end, moves) = later.entry(zone).or_insert_with(|| {
            let end = month_end(month, zone);
            (end, moves_after(basis.payments, end.timestamp()))
        });
        let end = *end;
        let own = basis.due.kelurahan_holidays.contains_key(code).then_some(code);
        let last = *last_past_due
            .entry((zone, own))
            .or_insert_with(|| basis.due.for_kelurahan(code).last_month_past_due(end, zone.tz()));
        let today = buckets.0.get(code).map_or(&[][..], Vec::as_slice);
        let count = |total: &mut StatusRow, then: &[(i32, i64)]| {
            for &(paid_through, n) in then.iter().filter(|(_, n)| *n > 0) {
                total.count(basis.standing, paid_through, last, n);
            }
        };
        match moves.get(code) {
            Some(moved) => count(&mut total, &taken_back(today, moved)),
            None => count(&mut total, today),
        }
    }
    total
}

/// Per kelurahan, each participant who paid after an instant: (paid-through
/// month now, months paid after the instant).
type Moves<'a> = HashMap<&'a str, Vec<(i32, i32)>>;

/// The [`Moves`] after `at`: each participant's payments after it, summed.
fn moves_after(payments: &[PaymentSince], at: i64) -> Moves<'_> {
    let mut per_participant: HashMap<i64, (&str, i32, i32)> = HashMap::new();
    for p in payments.iter().filter(|p| p.paid_at > at) {
        let e = per_participant
            .entry(p.participant_id)
            .or_insert((p.kelurahan_code.as_str(), p.paid_through, 0));
        e.2 += p.months;
    }
    let mut out: HashMap<&str, Vec<(i32, i32)>> = HashMap::new();
    for (code, now, months) in per_participant.into_values() {
        out.entry(code).or_default().push((now, months));
    }
    out
}

/// One kelurahan's buckets with each move taken back, as [`histogram_at`] does.
fn taken_back(today: &[(i32, i64)], moved: &[(i32, i32)]) -> Vec<(i32, i64)> {
    let mut then = today.to_vec();
    for &(now, months) in moved {
        if let Some(b) = then.iter_mut().find(|(p, _)| *p == now) {
            b.1 -= 1;
        }
        match then.iter_mut().find(|(p, _)| *p == now - months) {
            Some(b) => b.1 += 1,
            None => then.push((now - months, 1)),
        }
    }
    then
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
