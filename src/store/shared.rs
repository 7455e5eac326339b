//! Pure logic both backends share: how a batch of payments is applied to the
//! participants it pays for. The backends load the state inside their write
//! transaction, call [`plan_payments`], then write what it returns.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::domain::payment::{PaymentError, months_covered};
use crate::domain::{ContributionMonth, NewPayment, Payer, Rupiah};

use super::{ParticipantRecord, PaymentSource};

/// A payment as stored, looked up by its external reference.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct StoredPayment {
    pub external_ref: String,
    pub participant_id: i64,
    pub nik: String,
    pub amount: i64,
    pub months: i32,
    pub first_month: i32,
    pub last_month: i32,
    pub paid_at: i64,
}

/// What happened to one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// Recorded now; the participant is paid through `last_month`.
    Recorded {
        /// Who paid.
        participant_id: i64,
        /// The first contribution month it covers.
        first_month: ContributionMonth,
        /// The last; the participant is now paid through it.
        last_month: ContributionMonth,
        /// The reminder it is credited to, if one was sent within the window.
        attribution: Option<Attribution>,
        /// How many of the participant's pending reminders it made moot
        /// (cancelled with reason "paid"); counted on the participant's last
        /// payment of the batch.
        cancelled_reminders: u64,
    },
    /// The same payment (reference, participant and amount) was already recorded.
    Duplicate,
    /// The reference was already used for a different participant or amount.
    Conflict { existing_amount: i64 },
    /// No participant has this NIK or KPJ.
    UnknownParticipant,
    /// The payment itself is not acceptable (partial month, too many months).
    Invalid(PaymentError),
}

impl PaymentOutcome {
    /// Whether the outcome leaves the database as the caller wants it.
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Recorded { .. } | Self::Duplicate)
    }

    /// The reason, in words, for an outcome that is not ok.
    pub fn reason(&self) -> Option<String> {
        match self {
            Self::Recorded { .. } | Self::Duplicate => None,
            Self::Conflict { existing_amount } => Some(format!(
                "external reference already used for a different payment (amount {})",
                crate::domain::money::format_rupiah(*existing_amount)
            )),
            Self::UnknownParticipant => Some("no participant has this NIK or KPJ".to_string()),
            Self::Invalid(e) => Some(e.to_string()),
        }
    }
}

/// The reminder a payment is credited to: the latest one sent to its
/// participant within the attribution window before the payment (the Community
/// Health Toolkit credits the last reminder the same way).
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct Attribution {
    /// The converted reminder.
    pub reminder_id: i64,
    /// Its rule.
    pub rule: String,
    /// Its channel, `sms` or `email`.
    pub channel: String,
    /// Whole days from its send to the payment.
    pub days_to_pay: i32,
}

/// How one call records its payments.
#[derive(Debug, Clone, Copy)]
pub struct PaymentBatch {
    /// Where they came from.
    pub source: PaymentSource,
    /// The instant they are recorded at; a payment dated after it is refused.
    pub now: DateTime<Utc>,
    /// Any outcome other than recorded or duplicate rolls the whole call back.
    pub strict: bool,
    /// The attribution window in seconds.
    pub attribution_secs: i64,
}

/// The statuses of a reminder that reached its gateway and was not reported
/// undelivered: the ones a payment can be credited to.
pub const CREDITABLE_STATUSES: &str = "('sent', 'delivered', 'unknown')";

/// How far a payment's date may lie after `now` (clock skew between the
/// paying system and this host) before it is refused as dated in the future.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// A payment row to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentInsert {
    pub external_ref: String,
    pub participant_id: i64,
    pub amount: i64,
    pub months: i32,
    pub first_month: i32,
    pub last_month: i32,
    pub paid_at: i64,
    pub channel: String,
}

/// What a batch of payments does to the database.
#[derive(Debug, Default)]
pub struct PaymentPlan {
    /// One outcome per input row, in input order.
    pub outcomes: Vec<PaymentOutcome>,
    /// The payments to insert.
    pub inserts: Vec<PaymentInsert>,
    /// New paid-through month per participant id.
    pub paid_through: HashMap<i64, i32>,
}

/// Plans `rows` against the participants they name (`payers`, loaded and
/// locked by the caller) and the payments already stored with the same
/// references (`existing`). Rows are applied in order: two payments for one
/// participant cover consecutive months.
pub fn plan_payments(
    rows: &[NewPayment],
    payers: &[ParticipantRecord],
    existing: &[StoredPayment],
    now: DateTime<Utc>,
) -> PaymentPlan {
    let by_nik: HashMap<&str, usize> = payers.iter().enumerate().map(|(i, p)| (p.nik.as_str(), i)).collect();
    let by_kpj: HashMap<&str, usize> = payers
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.kpj.as_deref().map(|k| (k, i)))
        .collect();
    let existing: HashMap<&str, &StoredPayment> = existing.iter().map(|p| (p.external_ref.as_str(), p)).collect();
    let mut paid_through: Vec<i32> = payers.iter().map(|p| p.paid_through).collect();
    let mut planned: HashMap<&str, (i64, i64)> = HashMap::new();
    let mut touched: HashSet<usize> = HashSet::new();
    let mut plan = PaymentPlan::default();

    for row in rows {
        let payer = match &row.payer {
            Payer::Nik(nik) => by_nik.get(nik.as_str()),
            Payer::Kpj(kpj) => by_kpj.get(kpj.as_str()),
        };
        let Some(&idx) = payer else {
            plan.outcomes.push(PaymentOutcome::UnknownParticipant);
            continue;
        };
        let participant = &payers[idx];
        let reference = row.external_ref.as_str();
        let earlier = existing
            .get(reference)
            .map(|p| (p.participant_id, p.amount))
            .or_else(|| planned.get(reference).copied());
        if let Some((participant_id, amount)) = earlier {
            plan.outcomes
                .push(if participant_id == participant.id && amount == row.amount.amount() {
                    PaymentOutcome::Duplicate
                } else {
                    PaymentOutcome::Conflict {
                        existing_amount: amount,
                    }
                });
            continue;
        }
        if (row.paid_at - now).num_seconds() > MAX_CLOCK_SKEW_SECS {
            plan.outcomes
                .push(PaymentOutcome::Invalid(PaymentError::InFuture { paid_at: row.paid_at }));
            continue;
        }
        let monthly = match Rupiah::new(participant.monthly_amount) {
            Ok(m) => m,
            Err(_) => {
                plan.outcomes
                    .push(PaymentOutcome::Invalid(PaymentError::NotWholeMonths {
                        amount: row.amount,
                        monthly: row.amount,
                    }));
                continue;
            }
        };
        let months = match months_covered(row.amount, monthly, row.months) {
            Ok(m) => m as i32,
            Err(e) => {
                plan.outcomes.push(PaymentOutcome::Invalid(e));
                continue;
            }
        };
        let first = paid_through[idx] + 1;
        let last = paid_through[idx] + months;
        paid_through[idx] = last;
        touched.insert(idx);
        planned.insert(reference, (participant.id, row.amount.amount()));
        plan.inserts.push(PaymentInsert {
            external_ref: reference.to_string(),
            participant_id: participant.id,
            amount: row.amount.amount(),
            months,
            first_month: first,
            last_month: last,
            paid_at: row.paid_at.timestamp(),
            channel: row.channel.as_str().to_string(),
        });
        plan.outcomes.push(PaymentOutcome::Recorded {
            participant_id: participant.id,
            first_month: ContributionMonth::from_index(first),
            last_month: ContributionMonth::from_index(last),
            attribution: None,
            cancelled_reminders: 0,
        });
    }
    plan.paid_through = touched.into_iter().map(|i| (payers[i].id, paid_through[i])).collect();
    plan
}

/// Fills each recorded outcome with its attribution (by external reference)
/// and, on the participant's last payment of the batch, the reminders its
/// payments cancelled.
pub fn complete_outcomes(
    rows: &[NewPayment],
    outcomes: &mut [PaymentOutcome],
    mut attributions: HashMap<String, Attribution>,
    cancelled: &HashMap<i64, u64>,
) {
    let mut last_of: HashMap<i64, usize> = HashMap::new();
    for (i, (row, outcome)) in rows.iter().zip(outcomes.iter_mut()).enumerate() {
        if let PaymentOutcome::Recorded {
            participant_id,
            attribution,
            ..
        } = outcome
        {
            *attribution = attributions.remove(row.external_ref.as_str());
            last_of.insert(*participant_id, i);
        }
    }
    for (participant, i) in last_of {
        if let PaymentOutcome::Recorded {
            cancelled_reminders, ..
        } = &mut outcomes[i]
        {
            *cancelled_reminders = cancelled.get(&participant).copied().unwrap_or(0);
        }
    }
}

/// Attributions as the backends read them back, `(external_ref,
/// reminder_id, rule, channel, days_to_pay)`, by external reference.
pub fn attributions_by_ref(rows: Vec<(String, i64, String, String, i32)>) -> HashMap<String, Attribution> {
    rows.into_iter()
        .map(|(reference, reminder_id, rule, channel, days_to_pay)| {
            let attribution = Attribution {
                reminder_id,
                rule,
                channel,
                days_to_pay,
            };
            (reference, attribution)
        })
        .collect()
}

/// How many rows name each participant id.
pub fn count_by_participant(rows: &[(i64,)]) -> HashMap<i64, u64> {
    let mut counts = HashMap::new();
    for (participant,) in rows {
        *counts.entry(*participant).or_insert(0) += 1;
    }
    counts
}

/// The NIKs and KPJs a batch of payments names, for loading their payers.
pub fn payer_keys(rows: &[NewPayment]) -> (Vec<String>, Vec<String>) {
    let mut niks = Vec::new();
    let mut kpjs = Vec::new();
    for row in rows {
        match &row.payer {
            Payer::Nik(n) => niks.push(n.as_str().to_string()),
            Payer::Kpj(k) => kpjs.push(k.as_str().to_string()),
        }
    }
    niks.sort();
    niks.dedup();
    kpjs.sort();
    kpjs.dedup();
    (niks, kpjs)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{ExternalRef, Nik, PaymentChannel};

    fn participant(id: i64, nik: &str, paid_through: i32) -> ParticipantRecord {
        ParticipantRecord {
            id,
            nik: nik.into(),
            kpj: None,
            name: "Siti".into(),
            phone: None,
            email: None,
            kelurahan_code: "18.72.01.1001".into(),
            segment: "bpu".into(),
            funding: "self".into(),
            monthly_amount: 16_800,
            start_month: 0,
            paid_through,
            preferred_channel: "sms".into(),
            opted_out: false,
        }
    }

    fn payment(reference: &str, nik: &str, amount: i64) -> NewPayment {
        NewPayment {
            external_ref: ExternalRef::parse(reference).unwrap(),
            payer: Payer::Nik(Nik::parse(nik).unwrap()),
            amount: Rupiah::new(amount).unwrap(),
            months: None,
            paid_at: Utc::now(),
            channel: PaymentChannel::parse("jmo").unwrap(),
        }
    }

    const NIK: &str = "1872011205900003";

    #[test]
    fn consecutive_payments_cover_consecutive_months() {
        let payers = [participant(7, NIK, 100)];
        let rows = [payment("A", NIK, 16_800), payment("B", NIK, 50_400)];
        let plan = plan_payments(&rows, &payers, &[], Utc::now());
        assert_eq!(plan.inserts[0].first_month, 101);
        assert_eq!(plan.inserts[1].first_month, 102);
        assert_eq!(plan.inserts[1].last_month, 104);
        assert_eq!(plan.paid_through[&7], 104);
    }

    #[test]
    fn repeated_reference_is_duplicate_or_conflict() {
        let payers = [participant(7, NIK, 100)];
        let rows = [
            payment("A", NIK, 16_800),
            payment("A", NIK, 16_800),
            payment("A", NIK, 33_600),
        ];
        let plan = plan_payments(&rows, &payers, &[], Utc::now());
        assert_eq!(plan.inserts.len(), 1);
        assert_eq!(plan.outcomes[1], PaymentOutcome::Duplicate);
        assert_eq!(
            plan.outcomes[2],
            PaymentOutcome::Conflict {
                existing_amount: 16_800
            }
        );
    }

    #[test]
    fn unknown_payer_and_partial_month_are_refused() {
        let payers = [participant(7, NIK, 100)];
        let rows = [payment("A", "1872011205900004", 16_800), payment("B", NIK, 20_000)];
        let plan = plan_payments(&rows, &payers, &[], Utc::now());
        assert_eq!(plan.outcomes[0], PaymentOutcome::UnknownParticipant);
        assert!(matches!(
            plan.outcomes[1],
            PaymentOutcome::Invalid(PaymentError::NotWholeMonths { .. })
        ));
        assert!(plan.inserts.is_empty());
        assert!(plan.paid_through.is_empty());
    }
}
