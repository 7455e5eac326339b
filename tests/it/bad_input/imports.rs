//! Import files: participants (CSV and JSON), payments and the kelurahan
//! list, each refused whole with the line, the column and the value.

use std::path::PathBuf;

use pengingat::import::{ImportOptions, import_kelurahan, import_participants, import_payments};
use pengingat::store::{NoProgress, PaymentBatch, PaymentSource};

use super::{Case, assert_count, changed, snapshot, unnamed, words};
use crate::helpers::*;

both_backends!(bad_import_files_are_refused_whole);

/// What a file is imported as.
#[derive(Clone, Copy)]
enum Kind {
    Participants,
    Payments,
    Kelurahan,
}

/// One bad file.
struct File {
    case: Case,
    kind: Kind,
    name: &'static str,
    contents: Vec<u8>,
}

const PARTICIPANT_HEADER: &str = "nik,name,phone,email,kelurahan,segment,funding,monthly_amount,paid_through,start_month,preferred_channel,opted_out";

/// A good participant row with some fields replaced.
fn participant_row(changes: &[(&str, &str)]) -> String {
    let mut fields = vec![
        ("nik", "1872014506880001"),
        ("name", "Budi Santoso"),
        ("phone", "081234567801"),
        ("email", ""),
        ("kelurahan", "18.72.01.1001"),
        ("segment", "bpu"),
        ("funding", "self"),
        ("monthly_amount", "16800"),
        ("paid_through", "2025-06"),
        ("start_month", ""),
        ("preferred_channel", ""),
        ("opted_out", ""),
    ];
    for (key, value) in changes {
        let field = fields.iter_mut().find(|(k, _)| k == key).expect("a participant column");
        field.1 = value;
    }
    fields.iter().map(|(_, v)| *v).collect::<Vec<_>>().join(",")
}

const PAYMENT_HEADER: &str = "external_ref,nik,amount,paid_at,channel";

/// A good payment row with some fields replaced.
fn payment_row(changes: &[(&str, &str)]) -> String {
    let mut fields = [
        ("external_ref", "JMO-9"),
        ("nik", "1872011205900001"),
        ("amount", "16800"),
        ("paid_at", "2025-07-16T03:00:00Z"),
        ("channel", "jmo"),
    ];
    for (key, value) in changes {
        let field = fields.iter_mut().find(|(k, _)| k == key).expect("a payment column");
        field.1 = value;
    }
    fields.iter().map(|(_, v)| *v).collect::<Vec<_>>().join(",")
}

/// A participant named "José" in Latin-1, as old spreadsheets save it.
fn latin1() -> Vec<u8> {
    let row = participant_row(&[("name", "Jos@")]);
    let text = format!("{PARTICIPANT_HEADER}\n{row}\n");
    text.bytes().map(|b| if b == b'@' { 0xe9 } else { b }).collect()
}

const KELURAHAN_HEADER: &str = "kode,nama,kecamatan,kabupaten_kota,provinsi";

fn file(kind: Kind, name: &'static str, case: &'static str, contents: impl Into<Vec<u8>>, needles: &[&str]) -> File {
    File {
        case: Case {
            name: case,
            needles: words(needles),
        },
        kind,
        name,
        contents: contents.into(),
    }
}

fn participants(case: &'static str, changes: &[(&str, &str)], needles: &[&str]) -> File {
    let text = format!("{PARTICIPANT_HEADER}\n{}\n", participant_row(changes));
    file(Kind::Participants, "peserta.csv", case, text, needles)
}

fn payments(case: &'static str, changes: &[(&str, &str)], needles: &[&str]) -> File {
    let text = format!("{PAYMENT_HEADER}\n{}\n", payment_row(changes));
    file(Kind::Payments, "bayar.csv", case, text, needles)
}

fn files() -> Vec<File> {
    use Kind::*;
    let good = participant_row(&[]);
    vec![
        participants(
            "participant_nik_too_short",
            &[("nik", "18720145068800")],
            &["line 2", "nik", "16 digits"],
        ),
        participants(
            "participant_nik_with_letters",
            &[("nik", "18720145068800AB")],
            &["line 2", "nik"],
        ),
        participants(
            "participant_nik_month_13",
            &[("nik", "1872014513880001")],
            &["line 2", "nik"],
        ),
        participants(
            "participant_kelurahan_unknown",
            &[("kelurahan", "18.72.09.9999")],
            &["line 2", "kelurahan", "18.72.09.9999"],
        ),
        participants(
            "participant_kelurahan_malformed",
            &[("kelurahan", "18.72.0")],
            &["line 2", "kelurahan", "18.72.0"],
        ),
        participants(
            "participant_kelurahan_wildcard",
            &[("kelurahan", "18.72.%")],
            &["line 2", "kelurahan", "18.72.%"],
        ),
        participants(
            "participant_segment_unknown",
            &[("segment", "xyz")],
            &["line 2", "segment", "xyz"],
        ),
        participants(
            "participant_funding_unknown",
            &[("funding", "negara")],
            &["line 2", "funding", "negara"],
        ),
        participants(
            "participant_amount_zero",
            &[("monthly_amount", "0")],
            &["line 2", "monthly_amount"],
        ),
        participants(
            "participant_amount_negative",
            &[("monthly_amount", "-16800")],
            &["line 2", "monthly_amount"],
        ),
        participants(
            "participant_amount_words",
            &[("monthly_amount", "enam belas ribu")],
            &["line 2", "monthly_amount"],
        ),
        participants(
            "participant_amount_fraction",
            &[("monthly_amount", "16800.5")],
            &["line 2", "monthly_amount"],
        ),
        participants(
            "participant_paid_through_1990",
            &[("paid_through", "1990-01")],
            &["line 2", "paid_through", "1990-01", "2015-07"],
        ),
        participants(
            "participant_paid_through_month_13",
            &[("paid_through", "2025-13")],
            &["line 2", "paid_through", "2025-13"],
        ),
        participants(
            "participant_paid_through_far_ahead",
            &[("paid_through", "2030-01")],
            &["line 2", "paid_through", "2030-01"],
        ),
        participants(
            "participant_start_after_paid_through",
            &[("start_month", "2025-09")],
            &["line 2", "paid_through", "start_month"],
        ),
        participants(
            "participant_phone_landline",
            &[("phone", "021-555")],
            &["line 2", "phone"],
        ),
        participants(
            "participant_phone_letters",
            &[("phone", "08abcdefgh")],
            &["line 2", "phone"],
        ),
        participants(
            "participant_email_malformed",
            &[("email", "siti@@contoh")],
            &["line 2", "email"],
        ),
        participants("participant_name_empty", &[("name", "")], &["line 2", "name"]),
        participants(
            "participant_channel_unknown",
            &[("preferred_channel", "merpati")],
            &["line 2", "preferred_channel", "merpati"],
        ),
        participants(
            "participant_opted_out_unclear",
            &[("opted_out", "mungkin")],
            &["line 2", "opted_out", "mungkin"],
        ),
        participants(
            "participant_nul_byte",
            &[("name", "Bu\0di")],
            &["line 2", "column 20", "NUL"],
        ),
        file(
            Participants,
            "peserta.csv",
            "participant_nik_twice",
            format!("{PARTICIPANT_HEADER}\n{good}\n{good}\n"),
            &["line 3", "nik"],
        ),
        file(
            Participants,
            "peserta.csv",
            "participant_extra_field",
            format!("{PARTICIPANT_HEADER}\n{good},x\n"),
            &["line 2", "fields"],
        ),
        file(
            Participants,
            "peserta.csv",
            "participant_missing_column",
            "nik,name,kelurahan,monthly_amount\n1872014506880001,Budi,18.72.01.1001,16800\n",
            &["segment"],
        ),
        file(
            Participants,
            "peserta.csv",
            "participant_empty_file",
            "",
            &["line 1", "empty"],
        ),
        file(
            Participants,
            "peserta.csv",
            "participant_latin1",
            latin1(),
            &["not UTF-8", "line 2"],
        ),
        file(
            Participants,
            "peserta.json",
            "participant_json_not_an_array",
            "{\"nik\": \"1872014506880001\"}",
            &["line 1", "JSON array"],
        ),
        file(
            Participants,
            "peserta.json",
            "participant_json_syntax",
            "[\n{\"nik\": }\n]",
            &["line 2", "column"],
        ),
        file(
            Participants,
            "peserta.json",
            "participant_json_record_not_object",
            "[\n{\"nik\": \"1872014506880001\", \"name\": \"Budi\", \"kelurahan\": \"18.72.01.1001\", \"segment\": \"bpu\", \"monthly_amount\": 16800},\n\"1872014506880002\"\n]",
            &["line 3", "a string"],
        ),
        file(
            Participants,
            "peserta.json",
            "participant_json_name_object",
            "[{\"nik\": \"1872014506880001\", \"name\": {\"x\": 1}, \"kelurahan\": \"18.72.01.1001\", \"segment\": \"bpu\", \"monthly_amount\": 16800}]",
            &["line 1", "name"],
        ),
        file(
            Participants,
            "peserta.json",
            "participant_json_escaped_nul",
            "[\n{\"nik\": \"1872014506880001\", \"name\": \"Bu\\u0000di\"}\n]",
            &["line 2", "NUL"],
        ),
        file(
            Participants,
            "peserta.json",
            "participant_json_empty",
            "  ",
            &["line 1", "empty"],
        ),
        file(
            Participants,
            "peserta.xlsx",
            "participant_unknown_extension",
            "nik\n",
            &["peserta.xlsx"],
        ),
        payments(
            "payment_unknown_nik",
            &[("nik", "1872011205909999")],
            &["line 2", "nik", "no participant"],
        ),
        payments("payment_nik_malformed", &[("nik", "123")], &["line 2", "nik"]),
        payments("payment_amount_zero", &[("amount", "0")], &["line 2", "amount"]),
        payments(
            "payment_amount_negative",
            &[("amount", "-16800")],
            &["line 2", "amount"],
        ),
        payments(
            "payment_amount_partial_month",
            &[("amount", "20000")],
            &["line 2", "amount"],
        ),
        payments("payment_amount_words", &[("amount", "banyak")], &["line 2", "amount"]),
        payments(
            "payment_paid_at_future",
            &[("paid_at", "2025-07-17T04:00:00Z")],
            &["line 2", "paid_at", "future"],
        ),
        payments(
            "payment_paid_at_malformed",
            &[("paid_at", "kemarin")],
            &["line 2", "paid_at", "kemarin"],
        ),
        payments(
            "payment_reference_missing",
            &[("external_ref", "")],
            &["line 2", "external_ref"],
        ),
        payments("payment_channel_empty", &[("channel", "")], &["line 2", "channel"]),
        payments(
            "payment_conflicts_with_stored",
            &[("external_ref", "JMO-1"), ("amount", "33600")],
            &["line 2", "external_ref", "already recorded"],
        ),
        payments(
            "payment_nul_byte",
            &[("external_ref", "JMO\0-9")],
            &["line 2", "column 4", "NUL"],
        ),
        file(
            Payments,
            "bayar.csv",
            "payment_reference_twice",
            format!(
                "{PAYMENT_HEADER}\n{}\n{}\n",
                payment_row(&[]),
                payment_row(&[("amount", "33600")])
            ),
            &["line 3", "external_ref"],
        ),
        file(
            Payments,
            "bayar.csv",
            "payment_no_payer_column",
            "external_ref,amount,paid_at,channel\nJMO-9,16800,2025-07-16T03:00:00Z,jmo\n",
            &["nik or kpj"],
        ),
        file(
            Payments,
            "bayar.json",
            "payment_json_escaped_nul",
            "[{\"external_ref\": \"JMO-9\\u0000\", \"nik\": \"1872011205900001\"}]",
            &["line 1", "NUL"],
        ),
        file(
            Payments,
            "bayar.json",
            "payment_json_amount_array",
            "[{\"external_ref\": \"JMO-9\", \"nik\": \"1872011205900001\", \"amount\": [16800], \"paid_at\": \"2025-07-16T03:00:00Z\", \"channel\": \"jmo\"}]",
            &["line 1", "amount"],
        ),
        file(
            Kelurahan,
            "wilayah.csv",
            "kelurahan_code_short",
            format!("{KELURAHAN_HEADER}\n18.72.01.100,Rusak,Metro Pusat,Kota Metro,Lampung\n"),
            &["line 2", "kode"],
        ),
        file(
            Kelurahan,
            "wilayah.csv",
            "kelurahan_unknown_province",
            format!("{KELURAHAN_HEADER}\n99.72.01.1001,Rusak,Metro Pusat,Kota Metro,Lampung\n"),
            &["line 2", "kode", "99"],
        ),
        file(
            Kelurahan,
            "wilayah.csv",
            "kelurahan_nul_in_name",
            format!("{KELURAHAN_HEADER}\n18.72.01.1009,Met\0ro,Metro Pusat,Kota Metro,Lampung\n"),
            &["line 2", "column 18", "NUL"],
        ),
        file(
            Kelurahan,
            "wilayah.csv",
            "kelurahan_wrong_header",
            "code,name\n18.72.01.1009,Metro\n",
            &["kode"],
        ),
        file(
            Kelurahan,
            "wilayah.csv",
            "kelurahan_empty_name",
            format!("{KELURAHAN_HEADER}\n18.72.01.1009,,Metro Pusat,Kota Metro,Lampung\n"),
            &["line 2", "nama"],
        ),
    ]
}

/// The database holds a participant with a recorded payment `JMO-1` and
/// reminders; each bad file must leave all of it as it is.
async fn bad_import_files_are_refused_whole(db: &TestDb) {
    crate::payments::reminded_participant(db).await;
    let batch = PaymentBatch {
        source: PaymentSource::Import,
        now: at("2025-07-16T04:00:00Z"),
        strict: true,
        attribution_secs: 14 * 86_400,
    };
    db.store
        .record_payments(
            &[payment("JMO-1", 1, 16_800, "2025-07-16T03:00:00Z")],
            &batch,
            &NoProgress,
        )
        .await
        .unwrap();
    let files = files();
    assert_count(
        &files
            .iter()
            .map(|f| Case {
                name: f.case.name,
                needles: Vec::new(),
            })
            .collect::<Vec<_>>(),
        50,
    );
    let mut before = snapshot(db).await;
    let options = ImportOptions::new(at("2025-07-16T04:00:00Z"));
    let mut failures = Vec::new();
    for f in &files {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join(f.name);
        std::fs::write(&path, &f.contents).unwrap();
        let store = db.store.as_ref();
        let result = match f.kind {
            Kind::Participants => import_participants(store, &path, &options, &NoProgress).await,
            Kind::Payments => import_payments(store, &path, &options, &NoProgress).await,
            Kind::Kelurahan => import_kelurahan(store, &path).await,
        };
        match result {
            Ok(report) => failures.push(format!("case {:?} was accepted: {report:?}", f.case.name)),
            Err(e) => failures.extend(unnamed(&f.case, &e.to_string())),
        }
        assert!(
            !std::fs::read_dir(dir.path()).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("rejected")),
            "case {:?} wrote a rejected-rows file",
            f.case.name
        );
        if let Some(change) = changed(&f.case, db, &before).await {
            failures.push(change);
            before = snapshot(db).await;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
