//! Composing the digest e-mail: pure functions from the participants
//! behind, the active ratio and the previous digest's ratio to a subject, a
//! plain-text body and an HTML alternative, all in Bahasa Indonesia. The
//! plain text is written as it is (an e-mail's text part needs no escaping);
//! the HTML is the compiled template `templates/digest.html`, which escapes
//! every value.
//!
//! Phone numbers only ever appear masked (`+62812****890`); NIKs and
//! e-mail addresses of participants not at all.

use std::fmt::Write as _;

use askama::Template;
use chrono::{Datelike, NaiveDateTime, Weekday};
use serde::Serialize;

use crate::domain::money::format_rupiah;
use crate::domain::{ArrearsBucket, ContributionMonth, PhoneNumber, StandingRules};
use crate::schedule::vars::indonesian_date;

use crate::store::BehindParticipant;

use super::contacts::{self, ContactLine};

/// Active BPU participants out of all BPU participants of a kelurahan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ActiveRatio {
    /// BPU participants.
    pub bpu: i64,
    /// Active ones among them.
    pub active: i64,
}

impl ActiveRatio {
    /// The ratio in tenths of a percent, rounded half up (`825` = 82,5%);
    /// `None` without BPU participants.
    pub fn permille(&self) -> Option<i64> {
        (self.bpu > 0).then(|| (self.active.max(0) * 2000 + self.bpu) / (2 * self.bpu))
    }

    /// `82,5%`, or `-` without BPU participants.
    pub fn percent_text(&self) -> String {
        self.permille()
            .map_or_else(|| "-".to_string(), |p| format!("{}%", decimal(p)))
    }
}

/// `825` → `82,5` (tenths, Indonesian decimal comma).
fn decimal(tenths: i64) -> String {
    let sign = if tenths < 0 { "-" } else { "" };
    let t = tenths.abs();
    format!("{sign}{},{}", t / 10, t % 10)
}

/// The ratio a previous digest carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousDigest {
    /// Its ISO week key.
    pub week: String,
    /// Its ratio.
    pub ratio: ActiveRatio,
}

/// One participant as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestEntry {
    /// Name as stored.
    pub name: String,
    /// The masked phone number, or `-`.
    pub masked_phone: String,
    /// Months whose due date has passed unpaid.
    pub months_in_arrears: u32,
    /// `monthly_amount × months_in_arrears`, in rupiah.
    pub amount_due: i64,
    /// Non-active (no cover) under the standing rules.
    pub nonactive: bool,
    /// Opted out of reminders ("berhenti SMS").
    pub opted_out: bool,
    /// `self`, `collective` or `budget`.
    pub funding: String,
}

impl DigestEntry {
    /// Notes shown after the amount: `nonaktif`, `berhenti SMS`, `kolektif`, `APBD`.
    fn notes(&self) -> Vec<&'static str> {
        let mut notes = Vec::new();
        if self.nonactive {
            notes.push("nonaktif");
        }
        if self.opted_out {
            notes.push("berhenti SMS");
        }
        match self.funding.as_str() {
            "collective" => notes.push("kolektif"),
            "budget" => notes.push("APBD"),
            _ => {}
        }
        notes
    }
}

/// Turns stored rows into entries: standing at `last_past_due` (every month
/// up to it has passed its due date); rows not in arrears are dropped.
/// Ordered by months in arrears (most first), then name.
pub fn entries(
    rows: &[BehindParticipant],
    last_past_due: ContributionMonth,
    rules: &StandingRules,
) -> Vec<DigestEntry> {
    let mut out: Vec<DigestEntry> = rows
        .iter()
        .filter_map(|r| {
            let standing = rules.standing(ContributionMonth::from_index(r.paid_through), last_past_due);
            (standing.months_in_arrears > 0).then(|| DigestEntry {
                name: r.name.clone(),
                masked_phone: r
                    .phone
                    .as_deref()
                    .and_then(|p| PhoneNumber::parse(p).ok())
                    .map_or_else(|| "-".to_string(), |p| p.masked()),
                months_in_arrears: standing.months_in_arrears,
                amount_due: r.monthly_amount.saturating_mul(i64::from(standing.months_in_arrears)),
                nonactive: !standing.active,
                opted_out: r.opted_out,
                funding: r.funding.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.months_in_arrears
            .cmp(&a.months_in_arrears)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

/// Everything one digest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestContent {
    /// Kelurahan code, dotted.
    pub kelurahan_code: String,
    /// Kelurahan name.
    pub kelurahan_name: String,
    /// ISO week key, `2025-W29`.
    pub week: String,
    /// When the figures were taken, in the kelurahan's local time.
    pub as_of: NaiveDateTime,
    /// That time zone's abbreviation: WIB, WITA or WIT.
    pub zone: String,
    /// The coordinators' names, in configured order.
    pub coordinators: Vec<String>,
    /// The participants behind, as [`entries`] orders them.
    pub entries: Vec<DigestEntry>,
    /// The kelurahan's active ratio now.
    pub ratio: ActiveRatio,
    /// The last digest sent for this kelurahan, if any.
    pub previous: Option<PreviousDigest>,
    /// Participants whose contact data needs checking ([`contacts::lines`]).
    pub contacts: Vec<ContactLine>,
}

/// A composed digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposedDigest {
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML alternative.
    pub html: String,
}

/// The three groups: 1 month, 2 months, 3 or more.
const GROUPS: [(ArrearsBucket, &str); 3] = [
    (ArrearsBucket::One, "Menunggak 1 bulan"),
    (ArrearsBucket::Two, "Menunggak 2 bulan"),
    (ArrearsBucket::ThreeOrMore, "Menunggak 3 bulan atau lebih"),
];

/// `29/2025` from `2025-W29` (the key itself when it is not one).
pub fn week_label(week: &str) -> String {
    match week.split_once("-W") {
        Some((year, n)) => format!("{}/{year}", n.trim_start_matches('0')),
        None => week.to_string(),
    }
}

/// The change since the previous digest, in percentage points.
pub fn change_text(ratio: &ActiveRatio, previous: Option<&PreviousDigest>) -> String {
    let Some(previous) = previous else {
        return "digest pertama, belum ada pembanding".to_string();
    };
    let since = format!(
        "rekap minggu {} ({})",
        week_label(&previous.week),
        previous.ratio.percent_text()
    );
    match (ratio.permille(), previous.ratio.permille()) {
        (Some(now), Some(before)) => {
            let delta = now - before;
            match delta.signum() {
                1 => format!("naik {} poin persen dari {since}", decimal(delta)),
                -1 => format!("turun {} poin persen dari {since}", decimal(-delta)),
                _ => format!("tetap (0,0 poin persen) dibanding {since}"),
            }
        }
        _ => format!("tidak dapat dibandingkan dengan {since}"),
    }
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Senin",
        Weekday::Tue => "Selasa",
        Weekday::Wed => "Rabu",
        Weekday::Thu => "Kamis",
        Weekday::Fri => "Jumat",
        Weekday::Sat => "Sabtu",
        Weekday::Sun => "Minggu",
    }
}

/// `Senin, 14 Juli 2025 pukul 07.00 WIB`.
fn as_of_text(c: &DigestContent) -> String {
    let date = c.as_of.date();
    format!(
        "{}, {} pukul {} {}",
        day_name(date.weekday()),
        indonesian_date(date),
        c.as_of.format("%H.%M"),
        c.zone
    )
}

/// `A`, `A dan B`, `A, B dan C`.
fn names_list(names: &[String]) -> String {
    match names {
        [] => "Koordinator".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} dan {last}", init.join(", ")),
    }
}

/// The entries of one group.
fn group(c: &DigestContent, bucket: ArrearsBucket) -> Vec<&DigestEntry> {
    c.entries
        .iter()
        .filter(|e| ArrearsBucket::of(e.months_in_arrears) == bucket)
        .collect()
}

fn total_due(entries: &[&DigestEntry]) -> i64 {
    entries.iter().map(|e| e.amount_due).sum()
}

/// The subject, plain text and HTML of a digest.
pub fn compose(c: &DigestContent) -> ComposedDigest {
    let behind = c.entries.len();
    let subject = format!(
        "Rekap mingguan tunggakan iuran BPU Kelurahan {}, minggu {}: {behind} peserta menunggak",
        c.kelurahan_name,
        week_label(&c.week)
    );
    ComposedDigest {
        subject,
        text: compose_text(c),
        html: compose_html(c),
    }
}

fn ratio_line(c: &DigestContent) -> String {
    match c.ratio.permille() {
        Some(_) => format!(
            "{} ({} dari {} peserta BPU aktif)",
            c.ratio.percent_text(),
            c.ratio.active,
            c.ratio.bpu
        ),
        None => "- (belum ada peserta BPU)".to_string(),
    }
}

const LEGEND: [&str; 4] = [
    "nonaktif: sudah menunggak sampai batas nonaktif; manfaat perlindungan tidak berlaku sampai iuran dibayar.",
    "berhenti SMS: peserta meminta tidak dikirimi pengingat; mohon dihubungi langsung.",
    "kolektif: iuran dibayar melalui pembayaran kolektif; APBD: iuran ditanggung pemerintah daerah.",
    "Nomor HP disamarkan untuk melindungi data pribadi peserta.",
];

const FOOTER: &str = "Pesan ini dikirim otomatis setiap minggu oleh layanan pengingat iuran BPJS Ketenagakerjaan. \
     Mohon tidak membalas pesan ini.";

fn compose_text(c: &DigestContent) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "Yth. {},", names_list(&c.coordinators));
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "berikut rekap mingguan peserta BPU BPJS Ketenagakerjaan Kelurahan {} ({}) yang menunggak iuran, per {}.",
        c.kelurahan_name,
        c.kelurahan_code,
        as_of_text(c)
    );
    let _ = writeln!(t);
    let _ = writeln!(t, "Rasio aktif: {}", ratio_line(c));
    let _ = writeln!(t, "Perubahan: {}", change_text(&c.ratio, c.previous.as_ref()));
    for (bucket, title) in GROUPS {
        let list = group(c, bucket);
        let _ = writeln!(t);
        if list.is_empty() {
            let _ = writeln!(t, "{} (0 peserta)", title.to_uppercase());
            let _ = writeln!(t, "  (tidak ada)");
            continue;
        }
        let _ = writeln!(
            t,
            "{} ({} peserta, jumlah {})",
            title.to_uppercase(),
            list.len(),
            format_rupiah(total_due(&list))
        );
        for (i, e) in list.iter().enumerate() {
            let mut line = format!(
                "  {}. {} | HP {} | {} bulan | {}",
                i + 1,
                e.name,
                e.masked_phone,
                e.months_in_arrears,
                format_rupiah(e.amount_due)
            );
            let notes = e.notes();
            if !notes.is_empty() {
                line.push_str(" | ");
                line.push_str(&notes.join(", "));
            }
            let _ = writeln!(t, "{line}");
        }
    }
    let all: Vec<&DigestEntry> = c.entries.iter().collect();
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "Jumlah: {} peserta menunggak, tunggakan {}.",
        all.len(),
        format_rupiah(total_due(&all))
    );
    let _ = writeln!(t);
    t.push_str(&contacts::text(&c.contacts));
    let _ = writeln!(t);
    let _ = writeln!(t, "Keterangan:");
    for line in LEGEND {
        let _ = writeln!(t, "- {line}");
    }
    let _ = writeln!(t);
    let _ = writeln!(t, "{FOOTER}");
    t
}

/// The HTML alternative, every figure already written; the template
/// `digest.html` places them and escapes every value.
#[derive(Template)]
#[template(path = "digest.html")]
struct DigestHtml<'a> {
    greeting: String,
    kelurahan_name: &'a str,
    kelurahan_code: &'a str,
    as_of: String,
    ratio: String,
    change: String,
    groups: Vec<GroupHtml<'a>>,
    behind: usize,
    total_due: String,
    contacts: &'a [ContactLine],
    contacts_title: &'static str,
    contacts_note: &'static str,
    contacts_none: &'static str,
    legend: &'static [&'static str],
    footer: &'static str,
}

/// One group of the HTML alternative.
struct GroupHtml<'a> {
    title: &'static str,
    total_due: String,
    rows: Vec<RowHtml<'a>>,
}

/// One participant of a group.
struct RowHtml<'a> {
    name: &'a str,
    masked_phone: &'a str,
    months: u32,
    amount_due: String,
    notes: String,
}

fn compose_html(c: &DigestContent) -> String {
    let groups = GROUPS
        .into_iter()
        .map(|(bucket, title)| {
            let list = group(c, bucket);
            GroupHtml {
                title,
                total_due: format_rupiah(total_due(&list)),
                rows: list
                    .into_iter()
                    .map(|e| RowHtml {
                        name: &e.name,
                        masked_phone: &e.masked_phone,
                        months: e.months_in_arrears,
                        amount_due: format_rupiah(e.amount_due),
                        notes: e.notes().join(", "),
                    })
                    .collect(),
            }
        })
        .collect();
    let all: Vec<&DigestEntry> = c.entries.iter().collect();
    crate::html::render(&DigestHtml {
        greeting: names_list(&c.coordinators),
        kelurahan_name: &c.kelurahan_name,
        kelurahan_code: &c.kelurahan_code,
        as_of: as_of_text(c),
        ratio: ratio_line(c),
        change: change_text(&c.ratio, c.previous.as_ref()),
        groups,
        behind: all.len(),
        total_due: format_rupiah(total_due(&all)),
        contacts: &c.contacts,
        contacts_title: contacts::TITLE,
        contacts_note: contacts::NOTE,
        contacts_none: contacts::NONE,
        legend: &LEGEND,
        footer: FOOTER,
    })
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
