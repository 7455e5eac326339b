//! The make-up of a generated population: how participants spread over
//! kelurahan, and the mix of standing, funding, amounts and channels.
//!
//! The proportions are defaults for demos and benchmarks (a
//! realistic mix of paid-ahead, current, 1-2 months behind and non-active
//! participants); they are constants here because a seed is a demo
//! fixture, not an operator setting.

use crate::domain::{ContributionMonth, Funding, PreferredChannel, Rupiah, Segment};

use super::SeedError;
use super::random::SeedRng;

/// How many participants of each segment a kelurahan receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Share {
    pub bpu: u64,
    pub pu: u64,
}

/// Spreads `bpu` and `pu` participants over kelurahan, unevenly but
/// plausibly: each kelurahan draws a size weight (urban kelurahan, whose
/// fourth code part starts with 1, count double against rural desa), and PU
/// follow the same weights with their own noise. Counts add up exactly;
/// every kelurahan gets at least `min_bpu` BPU when there are enough.
pub fn spread(rng: &mut SeedRng, urban: &[bool], bpu: u64, pu: u64, min_bpu: u64) -> Vec<Share> {
    let weights: Vec<u64> = urban
        .iter()
        .map(|&urban| {
            let base = 40 + rng.below(80) + rng.below(80);
            if urban { 2 * base } else { base }
        })
        .collect();
    let pu_weights: Vec<u64> = weights.iter().map(|w| w * rng.between(60, 140)).collect();
    let bpu = apportion(bpu, &weights, min_bpu);
    let pu = apportion(pu, &pu_weights, 0);
    bpu.into_iter().zip(pu).map(|(bpu, pu)| Share { bpu, pu }).collect()
}

/// Divides `total` in proportion to `weights` by the largest-remainder
/// method, in integers (so the result is the same on every machine), after
/// giving each a `minimum` when the total allows it.
pub fn apportion(total: u64, weights: &[u64], minimum: u64) -> Vec<u64> {
    let n = weights.len() as u64;
    if n == 0 {
        return Vec::new();
    }
    let minimum = if minimum.saturating_mul(n) <= total { minimum } else { 0 };
    let rest = total - minimum * n;
    let sum: u128 = weights.iter().map(|&w| u128::from(w.max(1))).sum();
    let mut counts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (i, &w) in weights.iter().enumerate() {
        let exact = u128::from(rest) * u128::from(w.max(1));
        counts.push(minimum + (exact / sum) as u64);
        remainders.push((exact % sum, i));
    }
    let given: u64 = counts.iter().sum();
    // Largest remainders first; ties go to the earlier kelurahan.
    remainders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take((total - given) as usize) {
        counts[i] += 1;
    }
    counts
}

/// Where a participant stands against the contribution calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandingKind {
    /// Paid 1, 3, 6 or 12 months beyond the last month past due.
    Ahead,
    /// Paid through the last month past due.
    Current,
    /// One month in arrears.
    OneBehind,
    /// Two months in arrears.
    TwoBehind,
    /// Three to twelve months in arrears: non-active under the default rules.
    Lapsed,
}

/// The BPU mix (per mille): about 12% ahead, 50% current, 15% one month
/// behind, 8% two, 15% non-active.
const BPU_STANDING: [(StandingKind, u64); 5] = [
    (StandingKind::Ahead, 120),
    (StandingKind::Current, 500),
    (StandingKind::OneBehind, 150),
    (StandingKind::TwoBehind, 80),
    (StandingKind::Lapsed, 150),
];

/// Wage workers' contributions go through their employer (or the city), so
/// they rarely fall behind.
const PU_STANDING: [(StandingKind, u64); 5] = [
    (StandingKind::Ahead, 20),
    (StandingKind::Current, 850),
    (StandingKind::OneBehind, 90),
    (StandingKind::TwoBehind, 30),
    (StandingKind::Lapsed, 10),
];

/// A participant's first contribution month and paid-through month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Months {
    pub start_month: ContributionMonth,
    pub paid_through: ContributionMonth,
}

/// The months of a participant of `segment` when every month up to
/// `last_past_due` has passed its due date; `max_tenure` bounds how many
/// months back they can have registered (not before they turned 18).
pub fn months(rng: &mut SeedRng, segment: Segment, last_past_due: ContributionMonth, max_tenure: u64) -> Months {
    let table = match segment {
        Segment::Bpu => &BPU_STANDING,
        Segment::Pu => &PU_STANDING,
    };
    let kind = rng.weighted(table);
    let behind = match kind {
        // BPU may pay 1, 3, 6 or 12 months ahead.
        StandingKind::Ahead => -(rng.weighted(&[(1, 400), (3, 300), (6, 200), (12, 100)])),
        StandingKind::Current => 0,
        StandingKind::OneBehind => 1,
        StandingKind::TwoBehind => 2,
        StandingKind::Lapsed => rng.between(3, 12) as i32,
    };
    let paid_through = last_past_due.plus(-behind);
    let never_paid = kind == StandingKind::Lapsed && rng.per_mille(300);
    // Registered some months or years back: a fifth in the last year, half
    // one to four years ago, the rest up to eight years ago.
    let tenure = match rng.weighted(&[(0u8, 200), (1, 500), (2, 300)]) {
        0 => rng.between(0, 11),
        1 => rng.between(12, 47),
        _ => rng.between(48, 96),
    }
    .min(max_tenure) as i32;
    let start_month = if never_paid {
        paid_through.next()
    } else {
        last_past_due.plus(-tenure).min(paid_through.next())
    };
    Months {
        start_month,
        paid_through,
    }
}

/// Who pays: BPU mostly themselves, a quarter through community groups
/// (collective payment keeps participation alive), some from the
/// city budget; PU mostly from the budget, as in the Kota Metro pilot.
pub fn funding(rng: &mut SeedRng, segment: Segment) -> Funding {
    match segment {
        Segment::Bpu => rng.weighted(&[
            (Funding::SelfPaid, 600),
            (Funding::Collective, 250),
            (Funding::Budget, 150),
        ]),
        Segment::Pu => rng.weighted(&[(Funding::Budget, 800), (Funding::SelfPaid, 200)]),
    }
}

/// JKM, a flat Rp6,800 for BPU.
const JKM_BPU: i64 = 6_800;

/// The monthly contribution. BPU: JKK is 1% of a declared income bracket
/// plus JKM Rp6,800, so the common Rp1,000,000 bracket gives
/// Rp16,800 and higher brackets Rp21,800, Rp26,800, Rp36,800 or Rp56,800.
/// PU: a percentage of the wage; the demo assumes the lowest-risk JKK rate
/// (0.24%) plus JKM (0.30%) of a wage between Rp2,900,000 and Rp5,000,000.
pub fn monthly_amount(rng: &mut SeedRng, segment: Segment) -> Result<Rupiah, SeedError> {
    let amount = match segment {
        Segment::Bpu => {
            let income: i64 = rng.weighted(&[
                (1_000_000, 820),
                (1_500_000, 70),
                (2_000_000, 50),
                (3_000_000, 40),
                (5_000_000, 20),
            ]);
            income / 100 + JKM_BPU
        }
        Segment::Pu => {
            let wage = rng.between(58, 100) as i64 * 50_000;
            wage * 54 / 10_000
        }
    };
    Rupiah::new(amount).map_err(|e| SeedError::generated("monthly amount", e))
}

/// How the participant wants reminders: SMS unless they gave an e-mail
/// address, and then sometimes both or e-mail only.
pub fn preferred_channel(rng: &mut SeedRng, has_email: bool) -> PreferredChannel {
    if !has_email {
        return PreferredChannel::Sms;
    }
    rng.weighted(&[
        (PreferredChannel::Sms, 450),
        (PreferredChannel::Both, 400),
        (PreferredChannel::Email, 150),
    ])
}

/// Per mille of participants who asked not to be reminded.
pub const OPTED_OUT_PER_MILLE: u64 = 10;

/// Per mille of participants of each age who gave an e-mail address:
/// younger people more often, about a quarter overall.
pub fn email_per_mille(age: i32) -> u64 {
    match age {
        ..35 => 350,
        35..50 => 230,
        _ => 100,
    }
}

/// Per mille of participants whose KPJ is on the kelurahan's list: wage
/// workers are registered by their employer, BPU often only by NIK.
pub fn kpj_per_mille(segment: Segment) -> u64 {
    match segment {
        Segment::Bpu => 400,
        Segment::Pu => 700,
    }
}

/// An age at the reference year, weighted towards the working middle.
pub fn age(rng: &mut SeedRng) -> i32 {
    let (low, high) = rng.weighted(&[
        ((19, 24), 140),
        ((25, 34), 270),
        ((35, 44), 260),
        ((45, 54), 200),
        ((55, 65), 130),
    ]);
    rng.between(low, high) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StandingRules;

    #[test]
    fn apportion_adds_up_and_respects_the_minimum() {
        let counts = apportion(4_082, &[1, 50, 200, 3, 90], 1);
        assert_eq!(counts.iter().sum::<u64>(), 4_082);
        assert!(counts.iter().all(|&c| c >= 1));
        assert!(counts[2] > counts[1] && counts[1] > counts[0]);
        assert_eq!(
            apportion(2, &[5, 5, 5], 1).iter().sum::<u64>(),
            2,
            "too few for the minimum"
        );
        assert_eq!(apportion(0, &[5, 5], 0), vec![0, 0]);
        assert!(apportion(7, &[], 0).is_empty());
    }

    #[test]
    fn spread_is_uneven_and_exact() {
        let mut rng = SeedRng::new(11);
        let shares = spread(&mut rng, &[true; 22], 4_082, 3_364, 1);
        assert_eq!(shares.iter().map(|s| s.bpu).sum::<u64>(), 4_082);
        assert_eq!(shares.iter().map(|s| s.pu).sum::<u64>(), 3_364);
        let min = shares.iter().map(|s| s.bpu).min().unwrap();
        let max = shares.iter().map(|s| s.bpu).max().unwrap();
        assert!(min >= 1 && max > min + min / 5, "{min}..{max}");
    }

    #[test]
    fn standing_mix_is_close_to_the_targets() {
        let mut rng = SeedRng::new(12);
        let last = ContributionMonth::new(2025, 7).unwrap();
        let rules = StandingRules::default();
        let (mut ahead, mut lapsed, mut current) = (0, 0, 0);
        for _ in 0..10_000 {
            let m = months(&mut rng, Segment::Bpu, last, 96);
            assert!(m.paid_through >= m.start_month.prev(), "{m:?}");
            let s = rules.standing(m.paid_through, last);
            if m.paid_through > last {
                ahead += 1;
            } else if s.months_in_arrears == 0 {
                current += 1;
            }
            if !s.active {
                lapsed += 1;
            }
        }
        assert!((1_000..1_400).contains(&ahead), "{ahead}");
        assert!((4_700..5_300).contains(&current), "{current}");
        assert!((1_300..1_700).contains(&lapsed), "{lapsed}");
    }

    #[test]
    fn young_participants_registered_as_adults() {
        let mut rng = SeedRng::new(13);
        let last = ContributionMonth::new(2025, 7).unwrap();
        for _ in 0..1_000 {
            let m = months(&mut rng, Segment::Bpu, last, 5);
            assert!(m.start_month >= last.plus(-12), "{m:?}");
        }
    }

    #[test]
    fn amounts_are_brackets_of_jkk_plus_jkm() {
        let mut rng = SeedRng::new(14);
        let mut common = 0;
        for _ in 0..1_000 {
            let a = monthly_amount(&mut rng, Segment::Bpu).unwrap().amount();
            assert!([16_800, 21_800, 26_800, 36_800, 56_800].contains(&a), "{a}");
            common += i32::from(a == 16_800);
            let pu = monthly_amount(&mut rng, Segment::Pu).unwrap().amount();
            assert!((15_660..=27_000).contains(&pu), "{pu}");
        }
        assert!(common > 750, "{common}");
    }
}
