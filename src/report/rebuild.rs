//! Paid-through months at an earlier instant, rebuilt from today's and the
//! payments made since: a participant's paid-through month at `T` is
//! today's minus the months paid after `T`. Participants registered after
//! `T` count as if they had been there (their paid-through month then lies
//! before their start, which reads as arrears), and one who moved kelurahan
//! counts where they are today: why figures rebuilt this way are labelled.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::snapshot::{Basis, month_end};
use super::status::StatusRow;
use crate::domain::{ContributionMonth, RegionTimeZone};
use crate::store::{Kelurahan, PaidThroughCount, PaymentSince};

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

    /// A small deterministic generator (a linear congruential one).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn month_totals_add_up_what_the_rows_of_the_month_do() {
        use crate::domain::{DueDateRules, KelurahanCode, StandingRules};
        use chrono::NaiveDate;
        let zones = [
            ("18.72.01", RegionTimeZone::Wib),
            ("51.71.01", RegionTimeZone::Wita),
            ("91.71.01", RegionTimeZone::Wit),
        ];
        let kelurahan: Vec<Kelurahan> = (0..30)
            .map(|i| {
                let (prefix, zone) = zones[i % 3];
                Kelurahan {
                    code: KelurahanCode::parse(&format!("{prefix}.{}", 1001 + i)).unwrap(),
                    name: format!("K{i}"),
                    kecamatan: String::new(),
                    kabupaten_kota: String::new(),
                    provinsi: String::new(),
                    time_zone: zone,
                }
            })
            .collect();
        // Due on the month's last day; some kelurahan have their own
        // holidays on it, which moves their due date past the month's end.
        let mut due = DueDateRules {
            day: 31,
            ..DueDateRules::default()
        };
        for k in kelurahan.iter().step_by(4) {
            let days = (1..=12).filter_map(|m| NaiveDate::from_ymd_opt(2026, m + 1, 1)?.pred_opt());
            due.kelurahan_holidays.insert(k.code.to_string(), days.collect());
        }
        let standing = StandingRules::default();
        let june = ContributionMonth::new(2026, 6).unwrap().index();
        let mut rng = Lcg(7);
        let mut histogram = Vec::new();
        let mut payments = Vec::new();
        for (i, k) in kelurahan.iter().enumerate().skip(1) {
            for paid_through in (june - 8)..=(june + 1) {
                if rng.below(3) == 0 {
                    continue;
                }
                let n = 1 + rng.below(5) as i64;
                histogram.push(bucket(k.code.as_str(), paid_through, n));
                for p in 0..rng.below(n as u64 + 1) as i64 {
                    let participant_id = (i as i64) * 1_000 + i64::from(paid_through - june + 10) * 10 + p;
                    for _ in 0..=rng.below(2) {
                        payments.push(PaymentSince {
                            participant_id,
                            kelurahan_code: k.code.to_string(),
                            paid_through,
                            months: 1 + rng.below(3) as i32,
                            paid_at: 1_754_000_000 + rng.below(330 * 86_400) as i64,
                        });
                    }
                }
            }
        }
        let basis = Basis {
            histogram: &histogram,
            payments: &payments,
            due: &due,
            standing: &standing,
        };
        let buckets = KelurahanBuckets::of(&histogram);
        let refs: Vec<&Kelurahan> = kelurahan.iter().collect();
        let now = "2026-07-10T00:00:00Z".parse().unwrap();
        let mut differed_from_today = false;
        for m in (june - 11)..=june {
            let month = ContributionMonth::from_index(m);
            let mut expected = StatusRow::default();
            for row in super::super::snapshot::rows_for_month(&refs, &basis, month, now) {
                expected.bpu += row.participants;
                expected.active += row.active;
                expected.nonactive += row.nonactive;
                expected.arrears_1 += row.arrears_1;
                expected.arrears_2 += row.arrears_2;
                expected.arrears_3_plus += row.arrears_3_plus;
            }
            let got = month_totals(&refs, &buckets, &basis, month);
            assert_eq!(got, expected, "month {month}");
            let no_payments = Basis {
                payments: &[],
                ..basis.clone()
            };
            differed_from_today |= month_totals(&refs, &buckets, &no_payments, month) != got;
        }
        // The payments moved someone in some month: the take-back was exercised.
        assert!(differed_from_today);
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
