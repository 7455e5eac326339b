//! The dashboard's effect card: reminded vs the holdout group, per
//! contribution month, in total and per kelurahan, as `report --effect`
//! shows it (the same figures and words). Shown only while `[holdout]` is on.

use crate::report::effect::EffectReport;
use crate::report::render_effect::{group, pp, verdict};

/// How many of the latest contribution months the card shows.
pub const MONTHS_SHOWN: usize = 3;

/// The card's id on the page.
pub const EFFECT_ID: &str = "section-effect";

/// One row of the card's table, every cell written.
pub struct EffectRow {
    pub place: String,
    pub month: String,
    pub deadline: &'static str,
    pub reminded: String,
    pub held_out: String,
    pub difference: String,
}

/// The card: what it measures, and its rows (the total first, then each kelurahan).
pub struct EffectCard {
    pub id: &'static str,
    pub note: String,
    pub rows: Vec<EffectRow>,
}

/// The card of `report`: the latest [`MONTHS_SHOWN`] months.
pub fn card(report: &EffectReport) -> EffectCard {
    let mut months: Vec<&str> = report.lines.iter().map(|l| l.month.as_str()).collect();
    months.sort_unstable();
    months.dedup();
    let shown: Vec<&str> = months.iter().rev().take(MONTHS_SHOWN).copied().collect();
    let mut lines: Vec<_> = report
        .lines
        .iter()
        .filter(|l| shown.contains(&l.month.as_str()))
        .collect();
    // The total first, newest month first; then the kelurahan.
    lines.sort_by(|a, b| {
        (
            a.kelurahan_code.is_some(),
            &a.kelurahan_code,
            std::cmp::Reverse(&a.month),
        )
            .cmp(&(
                b.kelurahan_code.is_some(),
                &b.kelurahan_code,
                std::cmp::Reverse(&b.month),
            ))
    });
    let mut rows = Vec::new();
    for l in lines {
        let place = match &l.kelurahan_code {
            Some(code) => format!("{} ({code})", l.kelurahan_name),
            None => "Total".to_string(),
        };
        for (deadline, c) in [("jatuh tempo", l.by_due.as_ref()), ("+30 hari", l.by_due_30.as_ref())] {
            rows.push(EffectRow {
                place: place.clone(),
                month: l.month.clone(),
                deadline,
                reminded: c.map_or_else(|| "-".into(), |c| group(&c.reminded)),
                held_out: c.map_or_else(|| "-".into(), |c| group(&c.held_out)),
                difference: verdict(c),
            });
        }
    }
    EffectCard {
        id: EFFECT_ID,
        note: format!(
            "{:.0}% peserta BPU tiap kelurahan tidak menerima pengingat {} (kelompok pembanding). Selisih = \
             persentase membayar yang diingatkan dikurangi pembanding, dalam poin persen, dengan interval \
             kepercayaan 95% (Newcombe); \"belum cukup data\" bila interval lebih lebar dari {} poin persen.",
            report.fraction * 100.0,
            report.rules.join(", "),
            pp(report.max_interval_pp).trim_start_matches('+'),
        ),
        rows,
    }
}
