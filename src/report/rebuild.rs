//! Paid-through months at an earlier instant, rebuilt from today's and the
//! payments made since: a participant's paid-through month at `T` is
//! today's minus the months paid after `T`. Participants registered after
//! `T` count as if they had been there (their paid-through month then lies
//! before their start, which reads as arrears), and one who moved kelurahan
//! counts where they are today: why figures rebuilt this way are labelled.

use std::collections::HashMap;

use crate::store::{PaidThroughCount, PaymentSince};

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
