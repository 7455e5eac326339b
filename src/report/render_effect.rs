//! The effect report as a terminal table, CSV or JSON (labels in Bahasa
//! Indonesia; CSV and JSON figures with a decimal point, for machines).

use super::OutputFormat;
use super::effect::{Comparison, Counts, EffectLine, EffectReport};
use super::table::{left_then_right, render, render_csv};

/// What a comparison reads while its deadline has not ended.
pub const NOT_YET: &str = "belum lewat";
/// What a comparison reads when its interval is too wide to be read.
pub const NOT_ENOUGH_DATA: &str = "belum cukup data";

/// The report in `format`.
pub fn render_effect_report(report: &EffectReport, format: OutputFormat) -> String {
    match format {
        OutputFormat::Table => table(report),
        OutputFormat::Csv => csv(report),
        OutputFormat::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
    }
}

/// `12.34` as `+12,3`.
pub fn pp(v: f64) -> String {
    format!("{v:+.1}").replace('.', ",")
}

/// `paid/total (share%)`, `-` for an empty group.
pub fn group(c: &Counts) -> String {
    if c.total == 0 {
        return "-".into();
    }
    let share = format!("{:.1}%", c.paid as f64 * 100.0 / c.total as f64).replace('.', ",");
    format!("{}/{} ({share})", c.paid, c.total)
}

/// The difference and interval as read: `+12,3 pp [+3,1; +21,0]`, or why there is none.
pub fn verdict(c: Option<&Comparison>) -> String {
    let Some(c) = c else { return NOT_YET.into() };
    match (&c.difference, c.enough_data) {
        (None, _) => "satu kelompok kosong".into(),
        (Some(d), true) => format!("{} pp [{}; {}]", pp(d.estimate_pp), pp(d.low_pp), pp(d.high_pp)),
        (Some(d), false) => format!(
            "{NOT_ENOUGH_DATA} ({} pp [{}; {}])",
            pp(d.estimate_pp),
            pp(d.low_pp),
            pp(d.high_pp)
        ),
    }
}

/// The lines' place: kelurahan name and code, or "TOTAL".
fn place(l: &EffectLine) -> String {
    match &l.kelurahan_code {
        Some(code) => format!("{} ({code})", l.kelurahan_name),
        None => "TOTAL".into(),
    }
}

/// The two deadlines of a line, labelled.
fn deadlines(l: &EffectLine) -> [(&'static str, Option<&Comparison>); 2] {
    [
        ("jatuh tempo", l.by_due.as_ref()),
        ("jatuh tempo + 30 hari", l.by_due_30.as_ref()),
    ]
}

fn table(report: &EffectReport) -> String {
    let mut out = format!(
        "Dampak pengingat: kelompok pembanding {:.0}% peserta BPU per kelurahan, tidak menerima pengingat {}.\n\
         Selisih = persentase yang membayar (diingatkan) dikurangi persentase yang membayar (pembanding), \
         dalam poin persen, dengan interval kepercayaan 95% (metode Newcombe).\n\
         \"{NOT_ENOUGH_DATA}\": interval lebih lebar dari {} poin persen.\n\n",
        report.fraction * 100.0,
        report.rules.join(", "),
        pp(report.max_interval_pp).trim_start_matches('+'),
    );
    if report.lines.is_empty() {
        out.push_str("Belum ada data: belum ada pengingat dari aturan kelompok pembanding.\n");
        return out;
    }
    let header = [
        "Kelurahan",
        "Bulan",
        "Dibayar paling lambat",
        "Diingatkan",
        "Pembanding",
        "Selisih [IK 95%]",
    ];
    let mut rows = Vec::new();
    for l in &report.lines {
        for (label, c) in deadlines(l) {
            rows.push(vec![
                place(l),
                l.month.clone(),
                label.to_string(),
                c.map_or_else(|| "-".into(), |c| group(&c.reminded)),
                c.map_or_else(|| "-".into(), |c| group(&c.held_out)),
                verdict(c),
            ]);
        }
    }
    out.push_str(&render(&header, &left_then_right(3, header.len()), &rows, 60));
    out
}

const CSV_HEADER: [&str; 14] = [
    "tingkat",
    "kode_kelurahan",
    "nama_kelurahan",
    "bulan",
    "batas",
    "diingatkan_jumlah",
    "diingatkan_bayar",
    "pembanding_jumlah",
    "pembanding_bayar",
    "selisih_pp",
    "ik95_bawah_pp",
    "ik95_atas_pp",
    "cukup_data",
    "keterangan",
];

fn csv(report: &EffectReport) -> String {
    let mut rows = Vec::new();
    for l in &report.lines {
        for (key, c) in [
            ("jatuh_tempo", l.by_due.as_ref()),
            ("jatuh_tempo_30", l.by_due_30.as_ref()),
        ] {
            let n = |v: Option<u64>| v.map_or_else(String::new, |v| v.to_string());
            let f = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.4}"));
            let d = c.and_then(|c| c.difference);
            let note = match c {
                None => NOT_YET,
                Some(c) if c.difference.is_none() => "satu kelompok kosong",
                Some(c) if !c.enough_data => NOT_ENOUGH_DATA,
                Some(_) => "",
            };
            rows.push(vec![
                if l.kelurahan_code.is_some() {
                    "kelurahan"
                } else {
                    "total"
                }
                .to_string(),
                l.kelurahan_code.clone().unwrap_or_default(),
                l.kelurahan_name.clone(),
                l.month.clone(),
                key.to_string(),
                n(c.map(|c| c.reminded.total)),
                n(c.map(|c| c.reminded.paid)),
                n(c.map(|c| c.held_out.total)),
                n(c.map(|c| c.held_out.paid)),
                f(d.map(|d| d.estimate_pp)),
                f(d.map(|d| d.low_pp)),
                f(d.map(|d| d.high_pp)),
                c.map_or_else(String::new, |c| if c.enough_data { "ya" } else { "tidak" }.to_string()),
                note.to_string(),
            ]);
        }
    }
    render_csv(&CSV_HEADER, &rows)
}
