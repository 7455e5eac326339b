//! A population with a known, simulated reminder effect, for checking that
//! the effect report recovers it.
//!
//! Each simulated payer has two fixed outcomes drawn from the seed: whether
//! they pay for the month if not reminded (with probability `base`), and
//! whether they pay if reminded: they pay if they would anyway, and
//! otherwise a reminder persuades them with probability `lift`. So a
//! reminder never stops anyone paying, and the true effect on this
//! population is the share who pay only when reminded; that is what a
//! report's interval should contain. The same seed gives the same people
//! and outcomes on every run.

use super::random::SeedRng;
use crate::domain::{
    ContributionMonth, Funding, KelurahanCode, NewParticipant, Nik, ParticipantName, PhoneNumber, PreferredChannel,
    Rupiah, Segment,
};

/// One simulated participant's two possible outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedPayer {
    /// The participant's NIK.
    pub nik: Nik,
    /// Pays for the month when not reminded.
    pub pays_unreminded: bool,
    /// Pays for the month when reminded.
    pub pays_reminded: bool,
}

impl SimulatedPayer {
    /// Draws `nik`'s two outcomes from `rng`: paying anyway with
    /// probability `base`, and otherwise persuaded by a reminder with
    /// probability `lift`.
    pub fn draw(nik: Nik, behaviour: Behaviour, rng: &mut SeedRng) -> Self {
        let pays_unreminded = rng.per_mille(behaviour.base_per_mille);
        let persuaded = rng.per_mille(behaviour.lift_per_mille);
        Self {
            nik,
            pays_unreminded,
            pays_reminded: pays_unreminded || persuaded,
        }
    }

    /// Whether only a reminder makes them pay.
    pub fn persuaded_only(&self) -> bool {
        self.pays_reminded && !self.pays_unreminded
    }

    /// Whether they pay, given whether they were reminded.
    pub fn pays(&self, reminded: bool) -> bool {
        if reminded {
            self.pays_reminded
        } else {
            self.pays_unreminded
        }
    }
}

/// The participants and their simulated outcomes, in the same order.
#[derive(Debug, Clone)]
pub struct EffectPopulation {
    pub participants: Vec<NewParticipant>,
    pub payers: Vec<SimulatedPayer>,
}

/// How a population behaves, in per mille.
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    /// Chance of paying without a reminder.
    pub base_per_mille: u64,
    /// Chance a reminder persuades someone who would not pay otherwise.
    pub lift_per_mille: u64,
}

/// `n` self-funded BPU participants spread round-robin over `kelurahan`,
/// SMS only, paid through `paid_through`, with outcomes drawn from `seed`.
/// `n` must stay below 10,000 (the NIK's serial digits).
pub fn effect_population(
    seed: u64,
    n: u32,
    kelurahan: &[KelurahanCode],
    paid_through: ContributionMonth,
    behaviour: Behaviour,
) -> EffectPopulation {
    let mut rng = SeedRng::new(seed);
    let mut participants = Vec::new();
    let mut payers = Vec::new();
    for i in 0..n.min(9_999) {
        let Some(code) = kelurahan.get(i as usize % kelurahan.len().max(1)) else {
            break;
        };
        let region: String = code.as_str().chars().filter(char::is_ascii_digit).take(6).collect();
        let (Ok(nik), Ok(name), Ok(phone), Ok(amount)) = (
            Nik::parse(&format!("{region}120590{:04}", i + 1)),
            ParticipantName::parse(&format!("Peserta Simulasi {}", i + 1)),
            PhoneNumber::parse(&format!("0813{:08}", i + 1)),
            Rupiah::new(16_800),
        ) else {
            continue;
        };
        payers.push(SimulatedPayer::draw(nik.clone(), behaviour, &mut rng));
        participants.push(NewParticipant {
            nik,
            kpj: None,
            name,
            phone: Some(phone),
            email: None,
            kelurahan: code.clone(),
            segment: Segment::Bpu,
            funding: Funding::SelfPaid,
            monthly_amount: amount,
            start_month: paid_through.plus(-12),
            paid_through,
            preferred_channel: PreferredChannel::Sms,
            opted_out: false,
        });
    }
    EffectPopulation { participants, payers }
}

/// The true effect on `payers`, in percentage points: the share who pay
/// when reminded minus the share who pay when not, over the same people.
pub fn true_effect_pp<'a>(payers: impl IntoIterator<Item = &'a SimulatedPayer>) -> f64 {
    let (mut n, mut lifted) = (0u64, 0i64);
    for p in payers {
        n += 1;
        lifted += i64::from(p.pays_reminded) - i64::from(p.pays_unreminded);
    }
    if n == 0 { 0.0 } else { lifted as f64 * 100.0 / n as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_people_and_the_effect_is_near_its_expectation() {
        let codes = [KelurahanCode::parse("18.72.01.1001").unwrap()];
        let behaviour = Behaviour {
            base_per_mille: 400,
            lift_per_mille: 300,
        };
        let july = ContributionMonth::parse("2025-06").unwrap();
        let a = effect_population(7, 2_000, &codes, july, behaviour);
        let b = effect_population(7, 2_000, &codes, july, behaviour);
        assert_eq!(a.payers, b.payers);
        assert_eq!(a.participants.len(), 2_000);
        // Expected: (1 − 0.4) × 0.3 = 18 percentage points.
        let effect = true_effect_pp(&a.payers);
        assert!((effect - 18.0).abs() < 3.0, "{effect}");
    }
}
