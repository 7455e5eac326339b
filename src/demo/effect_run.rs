//! One seeded run of the holdout measurement on a generated population with
//! a known effect (`seed::effect`): the real scan assigns the holdout group
//! and records the reminders, the simulated payers pay or not by their
//! drawn outcomes, and the effect report says what it sees. Tests run a
//! few seeds; `benches/holdout_effect.rs` runs 20 and counts how many
//! intervals contain the true effect.

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::domain::{DueDateRules, ExternalRef, KelurahanCode, NewPayment, Payer, PaymentChannel, StandingRules};
use crate::report::effect::{self, Comparison};
use crate::scan::{self, ScanContext};
use crate::schedule::Schedules;
use crate::seed::effect::{Behaviour, effect_population, true_effect_pp};
use crate::store::{Kelurahan, NoProgress, PaymentBatch, PaymentSource, Store};

/// The two kelurahan of a run (Kota Metro, WIB).
pub const RUN_KELURAHAN: [&str; 2] = ["18.72.01.1001", "18.72.01.1005"];

/// What one run found.
#[derive(Debug, Clone)]
pub struct EffectRun {
    /// The true effect on the measured participants, in percentage points.
    pub true_effect_pp: f64,
    /// The report's total line for the month, paid by the due date.
    pub by_due: Comparison,
}

impl EffectRun {
    /// Whether the report's 95% interval contains the true effect.
    pub fn covered(&self) -> bool {
        self.by_due
            .difference
            .is_some_and(|d| d.low_pp <= self.true_effect_pp && self.true_effect_pp <= d.high_pp)
    }
}

fn instant(s: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(s.parse()?)
}

/// Runs seed `seed` with `n` participants, `fraction` held out, on an
/// empty store: July 2025 is everyone's first unpaid month; the scan on
/// 8 July (h-7) records the reminders; payers pay on 10 July; the report is
/// read on 20 August, after both deadlines.
pub async fn run(
    store: &dyn Store,
    seed: u64,
    n: u32,
    fraction: f64,
    behaviour: Behaviour,
) -> anyhow::Result<EffectRun> {
    let codes: Vec<KelurahanCode> = RUN_KELURAHAN
        .iter()
        .map(|c| KelurahanCode::parse(c))
        .collect::<Result<_, _>>()
        .context("kelurahan code")?;
    let kelurahan: Vec<Kelurahan> = codes
        .iter()
        .map(|code| Kelurahan {
            time_zone: code.time_zone(),
            code: code.clone(),
            name: format!("Kelurahan {}", code.as_str()),
            kecamatan: "Metro Pusat".into(),
            kabupaten_kota: "Kota Metro".into(),
            provinsi: "Lampung".into(),
        })
        .collect();
    store.upsert_kelurahan(&kelurahan).await?;
    let schedules = Schedules::shipped_with(&format!(
        "[holdout]\nfraction = {fraction}\nsalt = \"simulasi-{seed}\"\n"
    ))?;
    let june = crate::domain::ContributionMonth::parse("2025-06")?;
    let population = effect_population(seed, n, &codes, june, behaviour);
    store
        .upsert_participants(&population.participants, instant("2025-07-01T00:00:00Z")?, &NoProgress)
        .await?;
    let due = DueDateRules::default();
    let standing = StandingRules::default();
    let ctx = ScanContext {
        schedules: &schedules,
        kelurahan: &kelurahan,
        due: &due,
        standing: &standing,
    };
    scan::run(store, &ctx, instant("2025-07-08T02:05:00Z")?).await?;
    let held_out: std::collections::HashSet<String> = store
        .list_reminders(None, i64::from(n) * 4)
        .await?
        .into_iter()
        .filter(|r| r.reason.as_deref() == Some("holdout"))
        .map(|r| r.nik)
        .collect();
    let mut payments = Vec::new();
    for (i, payer) in population.payers.iter().enumerate() {
        if payer.pays(!held_out.contains(payer.nik.as_str())) {
            payments.push(NewPayment {
                external_ref: ExternalRef::parse(&format!("SIM-{seed}-{i}"))?,
                payer: Payer::Nik(payer.nik.clone()),
                amount: crate::domain::Rupiah::new(16_800)?,
                months: Some(1),
                paid_at: instant("2025-07-10T03:00:00Z")?,
                channel: PaymentChannel::parse("jmo")?,
            });
        }
    }
    let batch = PaymentBatch {
        source: PaymentSource::Import,
        now: instant("2025-07-10T04:00:00Z")?,
        strict: true,
        attribution_secs: 14 * 86_400,
    };
    store.record_payments(&payments, &batch, &NoProgress).await?;
    let report = effect::compute(
        store,
        &kelurahan,
        &schedules,
        &due,
        None,
        instant("2025-08-20T00:00:00Z")?,
    )
    .await?;
    let by_due = report
        .lines
        .iter()
        .find(|l| l.kelurahan_code.is_none())
        .and_then(|l| l.by_due)
        .context("the report has no total line for July 2025")?;
    Ok(EffectRun {
        true_effect_pp: true_effect_pp(&population.payers),
        by_due,
    })
}
