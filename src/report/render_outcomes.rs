//! The outcome report as a terminal table (80 columns), CSV or JSON.
//!
//! The table is three blocks: standing per kelurahan, reminders per
//! kelurahan, reminders per rule and channel; grouped (`--group-by`), a row
//! per region instead, its code before its name. The CSV is one sheet: a
//! `tingkat` column tells kelurahan (or region) rows, the total and rule
//! rows apart;
//! ratios are decimals with a dot. The JSON is [`OutcomeReport`] as is.
//!
//! SMS delivery (from receipts) and e-mail acceptance by the relay are
//! separate figures everywhere: e-mail has no delivery receipts, and one
//! percentage over both would read every e-mail as undelivered.

use super::OutputFormat;
use super::history::MonthSource;
use super::outcomes::{EmailFigures, KelurahanReport, OutcomeReport, RuleReport, SmsFigures};
use super::table::{left_then_right, render, render_csv};
use crate::domain::RegionTimeZone;
use crate::domain::money::format_rupiah;
use crate::wilayah::region::Level;

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
    let grouped = report.group_by != Level::Kelurahan;
    let head = if grouped { report.group_by.label() } else { "Kelurahan" };
    let standing: Vec<Vec<String>> = all
        .iter()
        .map(|k| standing_cells(k, standing_rebuilt(report, k), grouped))
        .collect();
    out += &render(
        &[head, "BPU", "Aktif", "Nonaktif", "Rasio", "Tgk 1", "Tgk 2", "Tgk 3+"],
        &left_then_right(1, 8),
        &standing,
        if grouped { 30 } else { 20 },
    );
    out += &format!(
        "\nPengingat per {} (SMS kirim/sampai/gagal; email diterima relay/gagal)\n",
        head.to_lowercase()
    );
    let effect: Vec<Vec<String>> = all.iter().map(|k| effect_cells(k, grouped)).collect();
    out += &render(
        &[head, "SMS", "SMS%", "Email", "Konversi", "Hari", "Dibayar"],
        &left_then_right(1, 7),
        &effect,
        if grouped { 30 } else { 16 },
    );
    out += "\nPengingat per aturan\n";
    let rules: Vec<Vec<String>> = report.rules.iter().map(rule_cells).collect();
    out += &render(
        &[
            "Aturan", "Kanal", "Kirim", "Sampai", "Gagal", "%Sampai", "%Relay", "Konversi", "Hari", "Dibayar",
        ],
        &left_then_right(2, 10),
        &rules,
        12,
    );
    out + "\nTgk = bulan menunggak; SMS% = SMS sampai ÷ SMS terkirim (laporan pengiriman);\n\
           email tidak punya laporan pengiriman: Kirim = diterima server email (relay),\n\
           %Relay = diterima ÷ dicoba; Konversi = pengingat yang diikuti pembayaran;\n\
           Hari = median hari dari pengingat sampai membayar.\n"
}

/// The name a row is listed under: a region's with its code in front
/// (region names repeat across Indonesia), a kelurahan's alone.
fn row_name(k: &KelurahanReport, grouped: bool) -> String {
    if grouped && !k.code.is_empty() {
        format!("{} {}", k.code, k.name)
    } else {
        k.name.clone()
    }
}

/// Whether `k`'s standing was rebuilt from the payment history rather than
/// read from a month-end snapshot (the total: when any kelurahan's was).
fn standing_rebuilt(report: &OutcomeReport, k: &KelurahanReport) -> bool {
    report.standing_rebuilt.contains(&k.code) || (k.code.is_empty() && !report.standing_rebuilt.is_empty())
}

/// A standing row; a rebuilt one's name carries `*`.
fn standing_cells(k: &KelurahanReport, rebuilt: bool, grouped: bool) -> Vec<String> {
    let name = row_name(k, grouped);
    vec![
        if rebuilt { format!("{name} *") } else { name },
        k.bpu.to_string(),
        k.active.to_string(),
        k.nonactive.to_string(),
        percent(k.active_ratio),
        k.arrears_1.to_string(),
        k.arrears_2.to_string(),
        k.arrears_3_plus.to_string(),
    ]
}

fn sms_triple(c: &SmsFigures) -> String {
    format!("{}/{}/{}", c.sent, c.delivered, c.failed)
}

fn email_pair(c: &EmailFigures) -> String {
    format!("{}/{}", c.relay_accepted, c.failed)
}

fn effect_cells(k: &KelurahanReport, grouped: bool) -> Vec<String> {
    let e = &k.effect;
    vec![
        row_name(k, grouped),
        sms_triple(&e.sms),
        percent(e.sms.delivery_rate),
        email_pair(&e.email),
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
        r.delivered.map_or_else(|| "-".to_string(), |d| d.to_string()),
        r.failed.to_string(),
        percent(r.delivery_rate),
        percent(r.relay_rate),
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
    "rasio_sms_tersampaikan",
    "email_diterima_relay",
    "email_gagal",
    "rasio_email_diterima_relay",
    "terkirim",
    "gagal",
    "membayar",
    "rasio_konversi",
    "median_hari_bayar",
    "nominal_dibayar",
    "status_direkonstruksi",
];

fn decimal(r: Option<f64>) -> String {
    r.map_or_else(String::new, |r| format!("{r:.4}"))
}

fn csv(report: &OutcomeReport) -> String {
    let level = report.group_by.key();
    let mut rows: Vec<Vec<String>> = report
        .kelurahan
        .iter()
        .map(|k| kelurahan_csv(level, k, standing_rebuilt(report, k)))
        .collect();
    rows.push(kelurahan_csv(
        "total",
        &report.total,
        standing_rebuilt(report, &report.total),
    ));
    rows.extend(report.rules.iter().map(rule_csv));
    // The name column is headed by what the rows are: `kelurahan`, or the level grouped by.
    let mut header = CSV_HEADER;
    header[2] = level;
    render_csv(&header, &rows)
}

/// A kelurahan's (or the total's) CSV row; `rebuilt`: its standing was
/// rebuilt, not read from a snapshot (`status_direkonstruksi` = `ya`).
fn kelurahan_csv(level: &str, k: &KelurahanReport, rebuilt: bool) -> Vec<String> {
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
        decimal(e.sms.delivery_rate),
        n(e.email.relay_accepted),
        n(e.email.failed),
        decimal(e.email.relay_rate),
        n(e.sent),
        n(e.failed),
        n(e.converted),
        decimal(e.conversion_rate),
        decimal(e.median_days_to_pay),
        n(e.amount_paid),
        if rebuilt { "ya" } else { "tidak" }.into(),
    ]
}

fn rule_csv(r: &RuleReport) -> Vec<String> {
    let n = |v: i64| v.to_string();
    let (sms, email) = if r.channel == "email" {
        (
            [n(0), n(0), n(0), String::new()],
            [n(r.sent), n(r.failed), decimal(r.relay_rate)],
        )
    } else {
        (
            [
                n(r.sent),
                n(r.delivered.unwrap_or_default()),
                n(r.failed),
                decimal(r.delivery_rate),
            ],
            [n(0), n(0), String::new()],
        )
    };
    let mut row = vec![
        "aturan".into(),
        String::new(),
        String::new(),
        r.rule.clone(),
        r.channel.clone(),
    ];
    row.extend(std::iter::repeat_n(String::new(), 7));
    row.extend(sms);
    row.extend(email);
    row.extend([
        n(r.sent),
        n(r.failed),
        n(r.converted),
        decimal(r.conversion_rate),
        decimal(r.median_days_to_pay),
        n(r.amount_paid),
        String::new(),
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
