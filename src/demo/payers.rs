//! Simulated participants, posting their payments to the daemon's payments
//! API like a payment system would.
//!
//! Each participant and contribution month the scan makes a reminder row
//! for (sent, pending or held out) is one case, with two outcomes drawn as
//! [`crate::seed::effect`] models them: whether they pay anyway, and
//! whether a reminder that reaches them persuades them otherwise. Those
//! who pay anyway do so one to six days after the month's first row
//! (for the early rules, the h-7 row a week before the due date), reminded
//! or held out alike; the persuaded pay one to six days after the first
//! reminder that reached them (an SMS delivered, an e-mail accepted by the
//! relay). So a held-out participant pays as often as a reminded one would
//! without reminders, and the effect report measures only what reminders
//! add. Every draw comes from the demo's seed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::domain::Nik;
use crate::seed::effect::{Behaviour, SimulatedPayer};
use crate::seed::random::SeedRng;
use crate::store::{ReminderRecord, Store, StoreError};

/// A payment that will be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPayment {
    /// When it is paid.
    pub at: DateTime<Utc>,
    /// The payer's NIK.
    pub nik: String,
    /// Rupiah paid.
    pub amount: i64,
    /// Months it covers.
    pub months: u32,
    /// Unique reference, from the reminder row that decided it.
    pub reference: String,
    /// Where it is paid.
    pub channel: &'static str,
}

/// One participant and contribution month.
#[derive(Debug)]
struct Case {
    /// The drawn outcomes.
    payer: SimulatedPayer,
    /// Whether a reminder for the month has reached them.
    reached: bool,
    /// Whether a payment is planned because a reminder persuaded them.
    persuaded: bool,
}

/// The simulated payers.
#[derive(Debug)]
pub struct Payers {
    /// The demo's seed.
    seed: u64,
    /// How they behave.
    behaviour: Behaviour,
    /// Cases by participant id and contribution month (index).
    cases: HashMap<(i64, i32), Case>,
    /// Payments still to be made.
    planned: Vec<PlannedPayment>,
    /// Participants with a payment planned, so that a second case does not plan another.
    paying: HashSet<String>,
}

/// A stable pseudo-random number from a seed, an id and a salt.
fn mix(seed: u64, id: i64, salt: u64) -> u64 {
    let mut x = seed ^ (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 29)
}

/// Whether a reminder reached its participant: an SMS with a delivery
/// receipt, an e-mail the relay accepted (e-mail has no receipts).
fn reached(r: &ReminderRecord) -> bool {
    r.status == "delivered" || (r.channel == "email" && r.status == "sent")
}

impl Payers {
    pub fn new(seed: u64, behaviour: Behaviour) -> Self {
        Self {
            seed,
            behaviour,
            cases: HashMap::new(),
            planned: Vec::new(),
            paying: HashSet::new(),
        }
    }

    /// Whether the participant's payment for `month` (index) was planned
    /// because a reminder persuaded them (and not because they pay anyway).
    pub fn persuaded(&self, participant_id: i64, month: i32) -> bool {
        self.cases.get(&(participant_id, month)).is_some_and(|c| c.persuaded)
    }

    /// Opens a case for every new participant-month among the reminder
    /// rows and notes reminders that reached their participant, planning
    /// each payment they decide: 1 to 6 days after `now`, during the day.
    pub async fn observe(&mut self, store: &dyn Store, now: DateTime<Utc>) -> Result<(), StoreError> {
        let recent = store.list_reminders(None, 20_000).await?;
        // The row that decided, the participant's NIK, the case and whether persuaded.
        let mut decided: Vec<(i64, String, (i64, i32), bool)> = Vec::new();
        // Oldest first, so a case opens on its month's first row.
        for r in recent.iter().rev() {
            let key = (r.participant_id, r.contribution_month);
            let case = match self.cases.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let Ok(nik) = Nik::parse(&r.nik) else { continue };
                    let draw = mix(
                        self.seed,
                        r.participant_id,
                        0x100 + u64::from(r.contribution_month.unsigned_abs()),
                    );
                    let payer = SimulatedPayer::draw(nik, self.behaviour, &mut SeedRng::new(draw));
                    if payer.pays_unreminded {
                        decided.push((r.id, r.nik.clone(), key, false));
                    }
                    e.insert(Case {
                        payer,
                        reached: false,
                        persuaded: false,
                    })
                }
            };
            if !case.reached && reached(r) {
                case.reached = true;
                if case.payer.persuaded_only() {
                    decided.push((r.id, r.nik.clone(), key, true));
                }
            }
        }
        decided.retain(|(_, nik, _, _)| !self.paying.contains(nik));
        let niks: Vec<Nik> = decided.iter().filter_map(|(_, n, _, _)| Nik::parse(n).ok()).collect();
        let monthly: HashMap<String, i64> = store
            .participants_by_nik(&niks)
            .await?
            .into_iter()
            .map(|p| (p.nik, p.monthly_amount))
            .collect();
        for (id, nik, key, persuaded) in decided {
            let Some(amount) = monthly.get(&nik).copied() else {
                continue;
            };
            if !self.paying.insert(nik.clone()) {
                continue;
            }
            if let Some(case) = self.cases.get_mut(&key) {
                case.persuaded = persuaded;
            }
            let days = 1 + (mix(self.seed, id, 2) % 6) as i64;
            let minutes = (mix(self.seed, id, 3) % (10 * 60)) as i64;
            let months = if mix(self.seed, id, 4) % 10 < 2 { 3 } else { 1 };
            let channel = ["jmo", "bank", "kolektif", "dana"][(mix(self.seed, id, 5) % 4) as usize];
            self.planned.push(PlannedPayment {
                at: now + Duration::days(days) + Duration::minutes(minutes),
                nik,
                amount: amount * i64::from(months),
                months,
                reference: format!("DEMO-{id}"),
                channel,
            });
        }
        Ok(())
    }

    /// Takes the payments made by `now`.
    pub fn due(&mut self, now: DateTime<Utc>) -> Vec<PlannedPayment> {
        let (due, later): (Vec<_>, Vec<_>) = self.planned.drain(..).partition(|p| p.at <= now);
        self.planned = later;
        for p in &due {
            self.paying.remove(&p.nik);
        }
        due
    }
}

/// Posts `payments` as one batch to the payments API at `base`; returns how many were recorded.
pub async fn post(http: &reqwest::Client, base: &str, token: &str, payments: &[PlannedPayment]) -> anyhow::Result<u64> {
    if payments.is_empty() {
        return Ok(0);
    }
    let body: Vec<serde_json::Value> = payments
        .iter()
        .map(|p| {
            json!({
                "external_ref": p.reference,
                "nik": p.nik,
                "amount": p.amount,
                "months": p.months,
                "paid_at": p.at.to_rfc3339(),
                "channel": p.channel,
            })
        })
        .collect();
    let answer: serde_json::Value = http
        .post(format!("{base}/api/v1/payments"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(answer["recorded"].as_u64().unwrap_or(0))
}
