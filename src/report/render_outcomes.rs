//! The outcome report as a terminal table (80 columns), CSV or JSON.
//!
//! The table is three blocks: standing per kelurahan, reminders per
//! kelurahan, reminders per rule and channel. The CSV is one sheet: a
//! `tingkat` column tells kelurahan rows, the total and rule rows apart;
//! ratios are decimals with a dot. The JSON is [`OutcomeReport`] as is.

use super::OutputFormat;
use super::history::MonthSource;
use super::outcomes::{ChannelFigures, KelurahanReport, OutcomeReport, RuleReport};
use super::table::{left_then_right, render, render_csv};
use crate::domain::RegionTimeZone;
use crate::domain::money::format_rupiah;

/// The report in the asked format.
pub fn render_outcome_report(report: &OutcomeReport, format: OutputFormat) -> String {
    match format {
        OutputFormat::Table => table(report),
        OutputFormat::Csv => csv(report),
        OutputFormat::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
    }
}

/// `0.875` as `87,5%`; `-` for none.
pub fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), |r| format!("{:.1}%", r * 100.0).replace('.', ","))
}

/// Days as `2` or `2,5`; `-` for none.
pub fn days(d: Option<f64>) -> String {
    match d {
        None => "-".to_string(),
        Some(d) if d.fract() == 0.0 => format!("{d:.0}"),
        Some(d) => format!("{d:.1}").replace('.', ","),
    }
}

fn table(report: &OutcomeReport) -> String {
    let wib = RegionTimeZone::Wib.tz();
    let period = match (report.from, report.to) {
        (None, None) => "semua waktu".to_string(),
        (from, to) => format!(
            "{} s.d. {}",
            from.map_or("awal".into(), |d| d.format("%d-%m-%Y").to_string()),
            to.map_or("sekarang".into(), |d| d.format("%d-%m-%Y").to_string())
        ),
    };
    let mut out = format!(
        "Laporan pengingat iuran BPU, periode {period}\nStatus peserta per {}\n\n",
        report.standing_at.with_timezone(&wib).format("%d-%m-%Y %H:%M WIB")
    );
    out += match report.standing_source {
        MonthSource::Current => "",
        MonthSource::Snapshot => "Status dari snapshot akhir bulan.\n\n",
        MonthSource::Rebuilt => {
            "* direkonstruksi: bukan snapshot akhir bulan; dihitung ulang dari data peserta\n  \
             hari ini dan riwayat pembayaran, sehingga hanya perkiraan.\n\n"
        }
    };
    let all: Vec<&KelurahanReport> = report.kelurahan.iter().chain(std::iter::once(&report.total)).collect();
    let rebuilt = |k: &KelurahanReport| {
        report.standing_rebuilt.contains(&k.code) || (k.code.is_empty() && !report.standing_rebuilt.is_empty())
    };
    let standing: Vec<Vec<String>> = all.iter().map(|k| standing_cells(k, rebuilt(k))).collect();
    out += &render(
        &[
            "Kelurahan",
            "BPU",
            "Aktif",
            "Nonaktif",
            "Rasio",
            "Tgk 1",
            "Tgk 2",
            "Tgk 3+",
        ],
        &left_then_right(1, 8),
        &standing,
        20,
    );
    out += "\nPengingat per kelurahan (kirim/sampai/gagal)\n";
    let effect: Vec<Vec<String>> = all.iter().map(|k| effect_cells(k)).collect();
    out += &render(
        &["Kelurahan", "SMS", "Email", "Sampai", "Konversi", "Hari", "Dibayar"],
        &left_then_right(1, 7),
        &effect,
        16,
    );
    out += "\nPengingat per aturan\n";
    let rules: Vec<Vec<String>> = report.rules.iter().map(rule_cells).collect();
    out += &render(
        &[
            "Aturan", "Kanal", "Kirim", "Sampai", "Gagal", "%Sampai", "Konversi", "Hari", "Dibayar",
        ],
        &left_then_right(2, 9),
        &rules,
        12,
    );
    out + "\nTgk = bulan menunggak; Konversi = pengingat yang diikuti pembayaran;\n\
           Hari = median hari dari pengingat sampai membayar.\n"
}

/// A standing row; a rebuilt one's name carries `*`.
fn standing_cells(k: &KelurahanReport, rebuilt: bool) -> Vec<String> {
    vec![
        if rebuilt {
            format!("{} *", k.name)
        } else {
            k.name.clone()
        },
        k.bpu.to_string(),
        k.active.to_string(),
        k.nonactive.to_string(),
        percent(k.active_ratio),
        k.arrears_1.to_string(),
        k.arrears_2.to_string(),
        k.arrears_3_plus.to_string(),
    ]
}

fn triple(c: &ChannelFigures) -> String {
    format!("{}/{}/{}", c.sent, c.delivered, c.failed)
}

fn effect_cells(k: &KelurahanReport) -> Vec<String> {
    let e = &k.effect;
    vec![
        k.name.clone(),
        triple(&e.sms),
        triple(&e.email),
        percent(e.delivery_rate),
        percent(e.conversion_rate),
        days(e.median_days_to_pay),
        format_rupiah(e.amount_paid),
    ]
}

fn rule_cells(r: &RuleReport) -> Vec<String> {
    vec![
        r.rule.clone(),
        r.channel.clone(),
        r.sent.to_string(),
        r.delivered.to_string(),
        r.failed.to_string(),
        percent(r.delivery_rate),
        percent(r.conversion_rate),
        days(r.median_days_to_pay),
        format_rupiah(r.amount_paid),
    ]
}

const CSV_HEADER: [&str; 26] = [
    "tingkat",
    "kode",
    "kelurahan",
    "aturan",
    "kanal",
    "peserta_bpu",
    "aktif",
    "nonaktif",
    "rasio_aktif",
    "menunggak_1",
    "menunggak_2",
    "menunggak_3_lebih",
    "sms_terkirim",
    "sms_tersampaikan",
    "sms_gagal",
    "email_terkirim",
    "email_tersampaikan",
    "email_gagal",
    "terkirim",
    "tersampaikan",
    "gagal",
    "rasio_tersampaikan",
    "membayar",
    "rasio_konversi",
    "median_hari_bayar",
    "nominal_dibayar",
];

fn decimal(r: Option<f64>) -> String {
    r.map_or_else(String::new, |r| format!("{r:.4}"))
}

fn csv(report: &OutcomeReport) -> String {
    let mut rows: Vec<Vec<String>> = report.kelurahan.iter().map(|k| kelurahan_csv("kelurahan", k)).collect();
    rows.push(kelurahan_csv("total", &report.total));
    rows.extend(report.rules.iter().map(rule_csv));
    render_csv(&CSV_HEADER, &rows)
}

fn kelurahan_csv(level: &str, k: &KelurahanReport) -> Vec<String> {
    let e = &k.effect;
    let n = |v: i64| v.to_string();
    vec![
        level.into(),
        k.code.clone(),
        k.name.clone(),
        String::new(),
        String::new(),
        n(k.bpu),
        n(k.active),
        n(k.nonactive),
        decimal(k.active_ratio),
        n(k.arrears_1),
        n(k.arrears_2),
        n(k.arrears_3_plus),
        n(e.sms.sent),
        n(e.sms.delivered),
        n(e.sms.failed),
        n(e.email.sent),
        n(e.email.delivered),
        n(e.email.failed),
        n(e.sent),
        n(e.delivered),
        n(e.failed),
        decimal(e.delivery_rate),
        n(e.converted),
        decimal(e.conversion_rate),
        decimal(e.median_days_to_pay),
        n(e.amount_paid),
    ]
}

fn rule_csv(r: &RuleReport) -> Vec<String> {
    let n = |v: i64| v.to_string();
    let channel = |c: &str| -> [String; 3] {
        if r.channel == c {
            [n(r.sent), n(r.delivered), n(r.failed)]
        } else {
            [n(0), n(0), n(0)]
        }
    };
    let mut row = vec![
        "aturan".into(),
        String::new(),
        String::new(),
        r.rule.clone(),
        r.channel.clone(),
    ];
    row.extend(std::iter::repeat_n(String::new(), 7));
    row.extend(channel("sms"));
    row.extend(channel("email"));
    row.extend([
        n(r.sent),
        n(r.delivered),
        n(r.failed),
        decimal(r.delivery_rate),
        n(r.converted),
        decimal(r.conversion_rate),
        decimal(r.median_days_to_pay),
        n(r.amount_paid),
    ]);
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indonesian_number_formats() {
        assert_eq!(percent(Some(0.875)), "87,5%");
        assert_eq!(percent(None), "-");
        assert_eq!(days(Some(2.0)), "2");
        assert_eq!(days(Some(2.5)), "2,5");
    }
}
