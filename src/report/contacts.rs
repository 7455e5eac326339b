//! The contact-verification list (`pengingat report --contacts`, the
//! digest, the dashboard count): per kelurahan, the BPU participants whose
//! contact data the reminders found wrong or missing, with the reason and
//! its date, for the kelurahan office to check in the field. The rules are
//! [`crate::domain::contact_check`]; the rows come from
//! [`crate::store::Reports::contact_check_rows`].

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate};
use serde::Serialize;

use super::OutputFormat;
use super::table::{Align, render, render_csv};
use crate::domain::contact_check::{EndedMessage, problems};
use crate::domain::{ContactProblem, EmailAddress, PhoneNumber};
use crate::store::{ContactCheckRow, Kelurahan, Reports, StoreError};

/// One participant on the list, for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactEntry {
    /// Kelurahan code, dotted.
    pub kelurahan_code: String,
    /// Kelurahan name.
    pub kelurahan_name: String,
    /// The stored participant id.
    pub participant_id: i64,
    /// NIK in full: the office finds the participant in its register by it.
    pub nik: String,
    /// Name as stored.
    pub name: String,
    /// The phone number on file, masked (`+62812****890`), if any.
    pub masked_phone: Option<String>,
    /// The e-mail address on file, masked (`b***@example.com`), if any.
    pub masked_email: Option<String>,
    /// Why they are listed.
    pub problem: ContactProblem,
    /// The date of the newest failure behind it, or since when the
    /// participant has had no contact data, in the kelurahan's time zone.
    pub date: NaiveDate,
}

/// Reads the list for kelurahan codes under `prefix` (all when `None`),
/// ordered by kelurahan, reason, name.
pub async fn contact_list(
    store: &dyn Reports,
    kelurahan: &[Kelurahan],
    prefix: Option<&str>,
) -> Result<Vec<ContactEntry>, StoreError> {
    let rows = store.contact_check_rows(prefix).await?;
    Ok(entries(&rows, kelurahan))
}

/// The list from the store's rows (grouped by participant, each channel's
/// messages newest first) and the kelurahan (names and time zones).
pub fn entries(rows: &[ContactCheckRow], kelurahan: &[Kelurahan]) -> Vec<ContactEntry> {
    let by_code: HashMap<String, &Kelurahan> = kelurahan.iter().map(|k| (k.code.to_string(), k)).collect();
    let mut people: BTreeMap<i64, Vec<&ContactCheckRow>> = BTreeMap::new();
    for row in rows {
        people.entry(row.participant_id).or_default().push(row);
    }
    let mut out: Vec<ContactEntry> = people.values().flat_map(|rows| entries_of(rows, &by_code)).collect();
    out.sort_by(|a, b| {
        (&a.kelurahan_code, a.problem, a.name.to_lowercase(), a.participant_id).cmp(&(
            &b.kelurahan_code,
            b.problem,
            b.name.to_lowercase(),
            b.participant_id,
        ))
    });
    out
}

/// The failed messages of one channel that lead: the newest (n = 1), then
/// the one before it (n = 2) when that failed too. A channel whose newest
/// message did not fail has none.
fn leading<'a>(rows: &[&'a ContactCheckRow], channel: &str) -> Vec<EndedMessage<'a>> {
    let mut out = Vec::new();
    for (want, row) in (1..).zip(rows.iter().filter(|r| r.channel.as_deref() == Some(channel))) {
        if row.n != Some(want) {
            break;
        }
        out.push(EndedMessage {
            status: row.status.as_deref().unwrap_or_default(),
            reason: row.reason.as_deref(),
            ended_at: row.ended_at.unwrap_or_default(),
        });
    }
    out
}

fn entries_of(rows: &[&ContactCheckRow], by_code: &HashMap<String, &Kelurahan>) -> Vec<ContactEntry> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let kelurahan = by_code.get(&first.kelurahan_code);
    let tz = kelurahan.map_or(crate::domain::RegionTimeZone::Wib.tz(), |k| k.time_zone.tz());
    let local_date = |at: i64| {
        DateTime::from_timestamp(at, 0)
            .unwrap_or_default()
            .with_timezone(&tz)
            .date_naive()
    };
    let sms = leading(rows, "sms");
    let email = leading(rows, "email");
    problems(
        first.phone.is_some(),
        first.email.is_some(),
        first.contact_since,
        &sms,
        &email,
    )
    .into_iter()
    .map(|(problem, at)| ContactEntry {
        kelurahan_code: first.kelurahan_code.clone(),
        kelurahan_name: kelurahan.map(|k| k.name.clone()).unwrap_or_default(),
        participant_id: first.participant_id,
        nik: first.nik.clone(),
        name: first.name.clone(),
        masked_phone: first.phone.as_deref().map(mask_phone),
        masked_email: first.email.as_deref().map(mask_email),
        problem,
        date: local_date(at),
    })
    .collect()
}

/// A stored phone number masked; anything that does not parse is hidden whole.
pub fn mask_phone(phone: &str) -> String {
    PhoneNumber::parse(phone).map_or_else(|_| "****".to_string(), |p| p.masked())
}

fn mask_email(email: &str) -> String {
    EmailAddress::parse(email).map_or_else(|_| "***".to_string(), |e| e.masked())
}

/// How many participants each kelurahan has on the list (a participant
/// listed for two reasons counts once), by code.
pub fn counts(list: &[ContactEntry]) -> BTreeMap<String, i64> {
    let mut seen: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for e in list {
        let ids = seen.entry(e.kelurahan_code.clone()).or_default();
        if !ids.contains(&e.participant_id) {
            ids.push(e.participant_id);
        }
    }
    seen.into_iter().map(|(code, ids)| (code, ids.len() as i64)).collect()
}

/// `15-07-2026`.
fn day(d: NaiveDate) -> String {
    d.format("%d-%m-%Y").to_string()
}

const CSV_HEADER: [&str; 9] = [
    "kode_kelurahan",
    "kelurahan",
    "nik",
    "nama",
    "hp",
    "email",
    "kode_alasan",
    "alasan",
    "tanggal",
];

/// The list as a table, CSV or JSON.
pub fn render_contacts(list: &[ContactEntry], format: OutputFormat) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
    match format {
        OutputFormat::Json => serde_json::to_string_pretty(list).unwrap_or_default() + "\n",
        OutputFormat::Csv => {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|e| {
                    vec![
                        e.kelurahan_code.clone(),
                        e.kelurahan_name.clone(),
                        e.nik.clone(),
                        e.name.clone(),
                        e.masked_phone.clone().unwrap_or_default(),
                        e.masked_email.clone().unwrap_or_default(),
                        e.problem.code().to_string(),
                        e.problem.label().to_string(),
                        e.date.format("%Y-%m-%d").to_string(),
                    ]
                })
                .collect();
            render_csv(&CSV_HEADER, &rows)
        }
        OutputFormat::Table => {
            let mut out = format!(
                "Daftar verifikasi kontak peserta BPU: {} peserta\n\n",
                counts(list).values().sum::<i64>()
            );
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|e| {
                    vec![
                        e.kelurahan_name.clone(),
                        e.name.clone(),
                        dash(&e.masked_phone),
                        e.problem.short().to_string(),
                        day(e.date),
                    ]
                })
                .collect();
            out += &render(
                &["Kelurahan", "Nama", "HP", "Alasan", "Tanggal"],
                &[Align::Left; 5],
                &rows,
                16,
            );
            out + "\nNomor HP gagal = 2 SMS terakhir tidak sampai karena nomornya salah/mati;\n\
                   Email ditolak = server email menolak alamatnya; Tanpa kontak = tidak ada\n\
                   nomor HP maupun email. Tanggal = kegagalan terakhir, atau sejak kapan data\n\
                   kontak kosong. Peserta keluar dari daftar setelah nomor HP atau email-nya\n\
                   diperbarui lewat impor. NIK lengkap ada di --format csv.\n"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{KelurahanCode, RegionTimeZone};

    fn kelurahan() -> Kelurahan {
        Kelurahan {
            code: KelurahanCode::parse("18.72.01.1005").unwrap(),
            name: "Metro".into(),
            kecamatan: "Metro Pusat".into(),
            kabupaten_kota: "Kota Metro".into(),
            provinsi: "Lampung".into(),
            time_zone: RegionTimeZone::Wib,
        }
    }

    fn row(id: i64, n: Option<i64>, channel: Option<&str>, at: i64) -> ContactCheckRow {
        ContactCheckRow {
            participant_id: id,
            nik: "1872015207850001".into(),
            name: format!("P{id}"),
            phone: Some("+6281234567890".into()),
            email: None,
            kelurahan_code: "18.72.01.1005".into(),
            contact_since: 0,
            channel: channel.map(str::to_string),
            n,
            status: Some("undelivered".into()),
            reason: Some("not delivered to the handset (delivery receipt)".into()),
            ended_at: Some(at),
        }
    }

    #[test]
    fn the_second_failure_must_be_the_one_before_the_newest() {
        // 17:30 UTC on 14 July is 15 July in WIB.
        let at = 1_784_050_200;
        let two = [
            row(1, Some(1), Some("sms"), at),
            row(1, Some(2), Some("sms"), at - 86_400),
        ];
        let list = entries(&two, &[kelurahan()]);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].problem, ContactProblem::PhoneUnreachable);
        assert_eq!(list[0].date, NaiveDate::from_ymd_opt(2026, 7, 15).unwrap());
        assert_eq!(list[0].masked_phone.as_deref(), Some("+62812****890"));
        // The newest message was delivered (not returned): only n = 2 failed.
        assert!(entries(&[row(1, Some(2), Some("sms"), at)], &[kelurahan()]).is_empty());
        assert_eq!(counts(&list).get("18.72.01.1005"), Some(&1));
    }

    #[test]
    fn csv_has_one_row_per_reason_and_no_full_phone() {
        let at = 1_784_050_200;
        let two = [row(1, Some(1), Some("sms"), at), row(1, Some(2), Some("sms"), at)];
        let csv = render_contacts(&entries(&two, &[kelurahan()]), OutputFormat::Csv);
        assert!(csv.starts_with("kode_kelurahan,kelurahan,nik,nama,hp,email,kode_alasan,alasan,tanggal"));
        assert!(
            csv.contains("18.72.01.1005,Metro,1872015207850001,P1,'+62812****890,,nomor_hp,"),
            "{csv}"
        );
        assert!(!csv.contains("6281234567890"), "{csv}");
        let table = render_contacts(&entries(&two, &[kelurahan()]), OutputFormat::Table);
        assert!(
            table.contains("1 peserta") && table.contains("Nomor HP gagal"),
            "{table}"
        );
        assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
        assert!(!table.contains("1872015207850001"), "{table}");
    }
}
