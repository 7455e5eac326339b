//! What the demo tells at its end: the effect report's total over all
//! kelurahan, month by month, next to the true effect the simulation drew,
//! so the operator sees the measurement and what it should have found.

use chrono::Duration;

use crate::domain::calendar::local_midnight;
use crate::domain::{ContributionMonth, DueDateRules};
use crate::report::effect::{Comparison, Counts, EffectReport};
use crate::report::render_effect::{group, pp, verdict};
use crate::schedule::Schedules;
use crate::store::Kelurahan;
use crate::store::holdout::EffectRow;

use super::payers::Payers;

/// One contribution month of the total line.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthEffect {
    /// The contribution month, `YYYY-MM`.
    pub month: String,
    /// Paid by the due date; `None` while that day has not ended.
    pub by_due: Option<Comparison>,
    /// Paid by 30 days after the due date; `None` while that day has not ended.
    pub by_due_30: Option<Comparison>,
    /// The simulation's true effect at the due date, in percentage points.
    pub true_by_due_pp: Option<f64>,
}

/// The effect report of a demo run and its months with their true effect.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoEffect {
    pub report: EffectReport,
    pub months: Vec<MonthEffect>,
}

/// When each kelurahan's deadline for `month` ends: midnight after its due
/// date in its time zone, with its own holidays (as the effect report judges).
pub struct Deadlines<'a> {
    pub kelurahan: &'a [Kelurahan],
    pub schedules: &'a Schedules,
    pub base_due: &'a DueDateRules,
}

impl Deadlines<'_> {
    /// The end of the due day of `month` in kelurahan `code`, Unix seconds.
    fn due_end(&self, code: &str, month: ContributionMonth) -> Option<i64> {
        let k = self.kelurahan.iter().find(|k| k.code.as_str() == code)?;
        let due = self
            .schedules
            .due_date_rules_for(&k.code, self.base_due)
            .due_date(month);
        Some(local_midnight(due + Duration::days(1), k.time_zone.tz()).timestamp())
    }
}

/// The true effect of the reminders on the reminded participants of
/// `month` at its due date, in percentage points: the share of them who
/// paid by the due date because a reminder persuaded them (the others who
/// paid would have paid anyway). `None` for an empty group.
pub fn true_effect_by_due(
    rows: &[EffectRow],
    payers: &Payers,
    deadlines: &Deadlines<'_>,
    month: ContributionMonth,
    reminded: Counts,
) -> Option<f64> {
    if reminded.total == 0 {
        return None;
    }
    let persuaded = rows
        .iter()
        .filter(|r| r.contribution_month == month.index() && !r.is_held_out())
        .filter(|r| payers.persuaded(r.participant_id, r.contribution_month))
        .filter(|r| {
            let end = deadlines.due_end(&r.kelurahan_code, month);
            r.paid_at.zip(end).is_some_and(|(t, end)| t < end)
        })
        .count() as f64;
    Some(persuaded * 100.0 / reminded.total as f64)
}

/// The total lines of `report` with their true effect.
pub fn months(
    report: &EffectReport,
    rows: &[EffectRow],
    payers: &Payers,
    deadlines: &Deadlines<'_>,
) -> Vec<MonthEffect> {
    report
        .lines
        .iter()
        .filter(|l| l.kelurahan_code.is_none())
        .map(|l| MonthEffect {
            month: l.month.clone(),
            by_due: l.by_due,
            by_due_30: l.by_due_30,
            true_by_due_pp: ContributionMonth::parse(&l.month)
                .ok()
                .zip(l.by_due)
                .and_then(|(m, c)| true_effect_by_due(rows, payers, deadlines, m, c.reminded)),
        })
        .collect()
}

/// The effect as the demo prints it, in lines of at most 80 columns.
pub fn render(effect: &DemoEffect) -> String {
    let r = &effect.report;
    let mut out = format!(
        "Dampak pengingat, semua kelurahan: {:.0}% peserta BPU tiap kelurahan\n\
         tidak menerima pengingat {} (kelompok pembanding). Selisih = persen\n\
         membayar diingatkan dikurangi pembanding, dalam poin persen (pp), dengan\n\
         interval kepercayaan 95% (IK). Per kelurahan: pengingat report --effect.\n",
        r.fraction * 100.0,
        r.rules.join(", "),
    );
    if effect.months.is_empty() {
        out.push_str("Belum ada data: belum ada pengingat dari aturan kelompok pembanding.\n");
    }
    for m in &effect.months {
        let name = ContributionMonth::parse(&m.month).map_or_else(|_| m.month.clone(), |c| c.indonesian_name());
        out.push_str(&format!("\nIuran {name}\n"));
        for (label, c) in [("jatuh tempo", &m.by_due), ("jatuh tempo + 30 hari", &m.by_due_30)] {
            out.push_str(&format!("  dibayar paling lambat {label}:\n"));
            match c {
                Some(c) => out.push_str(&format!(
                    "    diingatkan {}, pembanding {}\n    selisih {}\n",
                    group(&c.reminded),
                    group(&c.held_out),
                    verdict(Some(c)).replace(" [", " [IK "),
                )),
                None => out.push_str(&format!("    {}\n", verdict(None))),
            }
        }
        if let Some(t) = m.true_by_due_pp {
            out.push_str(&format!(
                "  efek sebenarnya dalam simulasi (jatuh tempo): {} pp\n",
                pp(t)
            ));
        }
    }
    out
}

/// The contact-verification count per kelurahan, two to a line within 80
/// columns, and the total.
pub fn render_contact_counts(counts: &[(String, i64)]) -> String {
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let mut out = format!(
        "Kontak perlu dicek (nomor/e-mail gagal atau tidak ada): {total} peserta\n\
         Daftar lengkap per kelurahan: pengingat report --contacts\n"
    );
    for pair in counts.chunks(2) {
        let cells: Vec<String> = pair
            .iter()
            .map(|(name, n)| {
                let name: String = name.chars().take(28).collect();
                format!("{name:<28}{n:>6}")
            })
            .collect();
        out.push_str(&format!("  {}\n", cells.join("   ")));
    }
    out
}
