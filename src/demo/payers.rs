//! Simulated participants: a share of those whose reminder was delivered
//! pay a few days later, deterministically from the demo's seed, and their
//! payments are posted to the daemon's payments API like a payment system
//! would post them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::domain::Nik;
use crate::store::{Store, StoreError};

/// Of the participants a delivered reminder reached, this share pays.
const PAYING_PER_MILLE: u64 = 420;

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
    /// Unique reference, from the reminder it answers.
    pub reference: String,
    /// Where it is paid.
    pub channel: &'static str,
}

/// The simulated payers.
#[derive(Debug, Default)]
pub struct Payers {
    /// The demo's seed.
    seed: u64,
    /// Reminders already decided on.
    seen: HashSet<i64>,
    /// Payments still to be made.
    planned: Vec<PlannedPayment>,
    /// Participants with a payment planned, so a second reminder does not plan another.
    paying: HashSet<String>,
}

/// A stable pseudo-random number from a seed and a reminder.
fn mix(seed: u64, id: i64, salt: u64) -> u64 {
    let mut x = seed ^ (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 29)
}

impl Payers {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }

    /// Decides, for every newly delivered reminder, whether and when its
    /// participant pays: 1 to 6 days after `now`, during the day.
    pub async fn observe(&mut self, store: &dyn Store, now: DateTime<Utc>) -> Result<(), StoreError> {
        let recent = store.list_reminders(None, 20_000).await?;
        let mut decided: Vec<(i64, String)> = Vec::new();
        for r in recent.into_iter().filter(|r| r.status == "delivered") {
            if self.seen.insert(r.id) && !self.paying.contains(&r.nik) {
                let roll = mix(self.seed, r.id, 1) % 1000;
                if roll < PAYING_PER_MILLE {
                    decided.push((r.id, r.nik));
                }
            }
        }
        let niks: Vec<Nik> = decided.iter().filter_map(|(_, n)| Nik::parse(n).ok()).collect();
        let monthly: HashMap<String, i64> = store
            .participants_by_nik(&niks)
            .await?
            .into_iter()
            .map(|p| (p.nik, p.monthly_amount))
            .collect();
        for (id, nik) in decided {
            let Some(amount) = monthly.get(&nik).copied() else {
                continue;
            };
            let days = 1 + (mix(self.seed, id, 2) % 6) as i64;
            let minutes = (mix(self.seed, id, 3) % (10 * 60)) as i64;
            let months = if mix(self.seed, id, 4) % 10 < 2 { 3 } else { 1 };
            let channel = ["jmo", "bank", "kolektif", "dana"][(mix(self.seed, id, 5) % 4) as usize];
            self.paying.insert(nik.clone());
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
