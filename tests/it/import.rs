//! Importing participant, payment and kelurahan files, on both backends.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use pengingat::domain::{Nik, RegionTimeZone};
use pengingat::import::{
    ImportCounts, ImportError, ImportOptions, ImportReport, InputFormat, PaymentCounts, import_kelurahan,
    import_participants, import_payments,
};
use pengingat::store::{NoProgress, ParticipantRecord, Progress, UpsertCounts};

use crate::helpers::*;

mod chunks;
mod concurrent;

both_backends!(
    spreadsheet_csv_with_bom_crlf_and_quoted_commas_imports,
    a_bad_row_refuses_the_whole_file_listing_every_problem,
    skip_invalid_imports_good_rows_and_writes_the_rejected_ones,
    json_wrong_types_are_row_errors_with_the_record_line,
    reimport_changes_nothing_and_keeps_stored_months,
    default_months_follow_the_kelurahan_clock,
    paid_ahead_limit_is_an_option,
    payments_import_advances_paid_through_once,
    bad_payments_are_all_listed_and_nothing_is_recorded,
    unreadable_files_fail_clearly_and_change_nothing,
    kelurahan_list_imports_and_reimports_unchanged,
);

/// 10:00 WIB on 10 July 2025: the current month is 2025-07 everywhere.
const NOW: &str = "2025-07-10T03:00:00Z";

fn options() -> ImportOptions {
    ImportOptions::new(at(NOW))
}

fn skipping() -> ImportOptions {
    ImportOptions {
        skip_invalid: true,
        ..options()
    }
}

/// A copy of a fixture in its own directory, so rejected-rows files land there.
fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name),
        &path,
    )
    .unwrap();
    (dir, path)
}

/// A file with `contents` in its own directory.
fn file(name: &str, contents: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    (dir, path)
}

async fn stored(db: &TestDb, nik: &str) -> Option<ParticipantRecord> {
    let found = db.store.participants_by_nik(&[Nik::parse(nik).unwrap()]).await.unwrap();
    found.into_iter().next()
}

async fn participant_count(db: &TestDb) -> i64 {
    let counts = db.store.segment_counts().await.unwrap();
    counts.bpu + counts.pu
}

fn upserted(report: &ImportReport) -> UpsertCounts {
    match report.counts {
        ImportCounts::Participants(c) => c,
        other => panic!("expected participant counts, got {other:?}"),
    }
}

fn paid(report: &ImportReport) -> PaymentCounts {
    match report.counts {
        ImportCounts::Payments(c) => c,
        other => panic!("expected payment counts, got {other:?}"),
    }
}

fn invalid_errors(result: Result<ImportReport, ImportError>) -> Vec<(usize, Option<String>)> {
    match result {
        Err(ImportError::Invalid { errors, .. }) => errors.into_iter().map(|e| (e.line, e.column)).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn at_col(line: usize, column: &str) -> (usize, Option<String>) {
    (line, Some(column.to_string()))
}

/// Counts the rows a store reports written.
#[derive(Default)]
struct Counting(AtomicU64);

impl Progress for Counting {
    fn advance(&self, rows: u64) {
        self.0.fetch_add(rows, Ordering::SeqCst);
    }
}

const BUDI: &str = "1872014506880001";
const SITI: &str = "1872011203900002";
const AHMAD: &str = "1872012511850003";

async fn spreadsheet_csv_with_bom_crlf_and_quoted_commas_imports(db: &TestDb) {
    load_test_kelurahan(db).await;
    let (_dir, path) = fixture("participants_bom_crlf.csv");
    let progress = Counting::default();
    let report = import_participants(db.store.as_ref(), &path, &options(), &progress)
        .await
        .unwrap();
    assert_eq!(report.rows, 3);
    assert_eq!(upserted(&report).inserted, 3);
    assert_eq!(progress.0.load(Ordering::SeqCst), 3);
    assert_eq!(report.warnings, ["ignored unknown column(s): Catatan"]);
    assert!(report.rejected.is_empty() && report.rejected_file.is_none());

    let budi = stored(db, BUDI).await.unwrap();
    assert_eq!(budi.name, "Siregar, Budi");
    assert_eq!(budi.phone.as_deref(), Some("+6281234567801"));
    assert_eq!((budi.segment.as_str(), budi.funding.as_str()), ("bpu", "self"));
    assert_eq!(budi.monthly_amount, 16_800);
    assert_eq!(budi.paid_through_month(), month("2025-06"));
    assert_eq!(budi.start_month, month("2025-07").index());
    assert_eq!((budi.preferred_channel.as_str(), budi.opted_out), ("sms", false));

    let siti = stored(db, SITI).await.unwrap();
    assert_eq!(siti.kpj.as_deref(), Some("19012345678"));
    assert_eq!(siti.kelurahan_code, "18.72.01.1005");
    assert_eq!(siti.funding, "collective");
    assert_eq!(
        (siti.start_month, siti.paid_through),
        (month("2024-01").index(), month("2023-12").index())
    );
    assert_eq!((siti.preferred_channel.as_str(), siti.opted_out), ("email", true));

    let ahmad = stored(db, AHMAD).await.unwrap();
    assert_eq!(ahmad.name, "Ahmad \"Ucok\" Santoso");
    assert_eq!((ahmad.segment.as_str(), ahmad.funding.as_str()), ("pu", "budget"));
    assert_eq!(ahmad.preferred_channel, "both");
    assert_eq!(ahmad.paid_through_month(), month("2025-06"));
}

async fn a_bad_row_refuses_the_whole_file_listing_every_problem(db: &TestDb) {
    load_test_kelurahan(db).await;
    let (dir, path) = fixture("participants_mixed.csv");
    let result = import_participants(db.store.as_ref(), &path, &options(), &NoProgress).await;
    let message = result.as_ref().map(|_| ()).unwrap_err().to_string();
    assert!(
        message.contains("participants_mixed.csv") && message.contains("nothing was imported"),
        "{message}"
    );
    assert!(
        message.contains("line 4, column phone: phone number is not a mobile number"),
        "{message}"
    );
    assert_eq!(
        invalid_errors(result),
        vec![
            at_col(3, "nik"),
            at_col(4, "phone"),
            at_col(4, "email"),
            at_col(5, "kelurahan"),
            at_col(6, "monthly_amount"),
            at_col(7, "monthly_amount"),
            at_col(8, "paid_through"),
            at_col(9, "nik"),
            at_col(10, "paid_through"),
            at_col(11, "segment"),
            at_col(11, "funding"),
            at_col(11, "preferred_channel"),
            at_col(12, "name"),
            at_col(12, "kelurahan"),
            at_col(12, "monthly_amount"),
            at_col(14, "paid_through"),
        ]
    );
    assert_eq!(participant_count(db).await, 0);
    assert!(!dir.path().join("participants_mixed.rejected.csv").exists());
}

async fn skip_invalid_imports_good_rows_and_writes_the_rejected_ones(db: &TestDb) {
    load_test_kelurahan(db).await;
    let (dir, path) = fixture("participants_mixed.csv");
    let report = import_participants(db.store.as_ref(), &path, &skipping(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.rows, 13);
    assert_eq!(upserted(&report).inserted, 2);
    assert_eq!(report.rejected.len(), 16);
    let duplicate = report.rejected.iter().find(|e| e.line == 9).unwrap();
    assert!(duplicate.reason.contains("line 2"), "{duplicate}");
    assert_eq!(participant_count(db).await, 2);
    let indah = stored(db, "1872010505900010").await.unwrap();
    assert_eq!(
        (indah.funding.as_str(), indah.preferred_channel.as_str()),
        ("collective", "email")
    );
    assert_eq!(indah.start_month, month("2024-03").index());

    let rejected_file = report.rejected_file.unwrap();
    assert_eq!(rejected_file, dir.path().join("participants_mixed.rejected.csv"));
    let text = std::fs::read_to_string(&rejected_file).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header.first().map(String::as_str), Some("nik"));
    assert_eq!(&header[header.len() - 2..], ["line", "reason"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let lines: Vec<&str> = rows.iter().map(|r| &r[13]).collect();
    assert_eq!(lines, ["3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "14"]);
    assert_eq!(&rows[1][2], "Siti Aminah");
    assert!(
        rows[1][14].starts_with("phone: ") && rows[1][14].contains("; email: "),
        "{:?}",
        &rows[1]
    );
    assert_eq!(&rows[4][8], "16.800,50");

    // The fixed file imports again; its line and reason columns are ignored.
    let again = import_participants(db.store.as_ref(), &rejected_file, &skipping(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(again.warnings, ["ignored unknown column(s): line, reason"]);
}

async fn json_wrong_types_are_row_errors_with_the_record_line(db: &TestDb) {
    load_test_kelurahan(db).await;
    let (dir, path) = fixture("participants.json");
    let result = import_participants(db.store.as_ref(), &path, &options(), &NoProgress).await;
    assert_eq!(
        invalid_errors(result),
        vec![
            at_col(14, "name"),
            at_col(14, "monthly_amount"),
            at_col(15, "kelurahan"),
            at_col(15, "monthly_amount"),
            (16, None),
        ]
    );
    assert_eq!(participant_count(db).await, 0);

    let report = import_participants(db.store.as_ref(), &path, &skipping(), &NoProgress)
        .await
        .unwrap();
    assert_eq!((report.rows, upserted(&report).inserted), (5, 2));
    assert!(
        report.rejected[1].reason.contains("found a boolean"),
        "{:?}",
        report.rejected
    );
    assert_eq!(report.warnings, ["ignored unknown column(s): catatan"]);
    let siti = stored(db, SITI).await.unwrap();
    assert_eq!((siti.kpj.as_deref(), siti.opted_out), (Some("19012345678"), true));
    assert_eq!(siti.preferred_channel, "email");
    let rejected = std::fs::read_to_string(dir.path().join("participants.rejected.csv")).unwrap();
    assert!(rejected.starts_with("\u{feff}nik,name,phone,kelurahan"), "{rejected}");
    assert!(rejected.contains(r#"{""first"":""Joko""}"#), "{rejected}");

    // The format may be given for a file with another extension.
    let (_d, odd) = file("peserta.txt", &std::fs::read(&path).unwrap());
    let err = import_participants(db.store.as_ref(), &odd, &options(), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::UnknownFormat { .. }), "{err}");
    let as_json = ImportOptions {
        format: Some(InputFormat::Json),
        ..skipping()
    };
    let report = import_participants(db.store.as_ref(), &odd, &as_json, &NoProgress)
        .await
        .unwrap();
    assert_eq!(upserted(&report).unchanged, 2);
}

async fn reimport_changes_nothing_and_keeps_stored_months(db: &TestDb) {
    load_test_kelurahan(db).await;
    let (_dir, path) = fixture("participants_bom_crlf.csv");
    import_participants(db.store.as_ref(), &path, &options(), &NoProgress)
        .await
        .unwrap();
    let again = import_participants(db.store.as_ref(), &path, &options(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        upserted(&again),
        UpsertCounts {
            inserted: 0,
            updated: 0,
            unchanged: 3
        }
    );

    // Payments move Budi ahead; the older file does not move him back.
    let (_p, payments) = fixture("payments.csv");
    import_payments(db.store.as_ref(), &payments, &options(), &NoProgress)
        .await
        .unwrap();
    // Three months later, rows without months keep the stored ones instead
    // of restarting at the new current month (which would erase arrears).
    let later = ImportOptions::new(at("2025-10-10T03:00:00Z"));
    let report = import_participants(db.store.as_ref(), &path, &later, &NoProgress)
        .await
        .unwrap();
    assert_eq!(upserted(&report).unchanged, 3);
    assert_eq!(stored(db, BUDI).await.unwrap().paid_through_month(), month("2025-08"));
    let ahmad = stored(db, AHMAD).await.unwrap();
    assert_eq!(
        (ahmad.start_month, ahmad.paid_through),
        (month("2025-07").index(), month("2025-06").index())
    );
}

async fn default_months_follow_the_kelurahan_clock(db: &TestDb) {
    load_test_kelurahan(db).await;
    let csv = "nik,name,kelurahan,segment,monthly_amount,paid_through,start_month\n\
               1872014506880001,Budi,18.72.01.1001,bpu,16800,,\n\
               5171014506880002,Made,51.71.01.1001,bpu,16800,,\n\
               1872011203900003,Siti,18.72.01.1001,bpu,16800,2025-03,\n\
               1872011203900004,Ani,18.72.01.1001,bpu,16800,,2024-02\n";
    let (_dir, path) = file("months.csv", csv.as_bytes());
    // 23:30 WIB on 31 July is already 1 August in Bali (WITA).
    let options = ImportOptions::new(at("2025-07-31T16:30:00Z"));
    import_participants(db.store.as_ref(), &path, &options, &NoProgress)
        .await
        .unwrap();
    let months = |p: ParticipantRecord| (p.start_month, p.paid_through);
    let m = |s: &str| month(s).index();
    assert_eq!(months(stored(db, BUDI).await.unwrap()), (m("2025-07"), m("2025-06")));
    assert_eq!(
        months(stored(db, "5171014506880002").await.unwrap()),
        (m("2025-08"), m("2025-07"))
    );
    assert_eq!(
        months(stored(db, "1872011203900003").await.unwrap()),
        (m("2025-04"), m("2025-03"))
    );
    assert_eq!(
        months(stored(db, "1872011203900004").await.unwrap()),
        (m("2024-02"), m("2024-01"))
    );
    let bali = db.store.list_kelurahan().await.unwrap();
    assert!(bali.iter().any(|k| k.time_zone == RegionTimeZone::Wita));
}

async fn paid_ahead_limit_is_an_option(db: &TestDb) {
    load_test_kelurahan(db).await;
    let csv = "nik,name,kelurahan,segment,monthly_amount,paid_through\n\
               1872014506880001,Budi,18.72.01.1001,bpu,16800,2025-09\n\
               1872011203900002,Siti,18.72.01.1001,bpu,16800,2026-07\n";
    let (_dir, path) = file("ahead.csv", csv.as_bytes());
    import_participants(db.store.as_ref(), &path, &options(), &NoProgress)
        .await
        .unwrap();
    let strict = ImportOptions {
        max_paid_ahead_months: 1,
        ..options()
    };
    let result = import_participants(db.store.as_ref(), &path, &strict, &NoProgress).await;
    assert_eq!(
        invalid_errors(result),
        vec![at_col(2, "paid_through"), at_col(3, "paid_through")]
    );
}

/// Loads the three participants of the BOM fixture.
async fn load_participants(db: &TestDb) {
    load_test_kelurahan(db).await;
    let (_dir, path) = fixture("participants_bom_crlf.csv");
    import_participants(db.store.as_ref(), &path, &options(), &NoProgress)
        .await
        .unwrap();
}

async fn payments_import_advances_paid_through_once(db: &TestDb) {
    load_participants(db).await;
    let (_dir, path) = fixture("payments.csv");
    let report = import_payments(db.store.as_ref(), &path, &options(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.rows, 4);
    assert_eq!(
        paid(&report),
        PaymentCounts {
            recorded: 3,
            duplicates: 1,
            ..Default::default()
        }
    );
    assert_eq!(stored(db, BUDI).await.unwrap().paid_through_month(), month("2025-08"));
    // Paid by KPJ: Rp50.400 is three months from January 2024.
    assert_eq!(stored(db, SITI).await.unwrap().paid_through_month(), month("2024-03"));
    let refs = [pengingat::domain::ExternalRef::parse("BANK-0003").unwrap()];
    let bank = db.store.payments_by_ref(&refs).await.unwrap();
    assert_eq!((bank[0].months, bank[0].amount), (1, 20_000));
    // A date-only paid_at is midnight WIB.
    assert_eq!(bank[0].paid_at, at("2025-07-04T17:00:00Z").timestamp());

    let again = import_payments(db.store.as_ref(), &path, &options(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        paid(&again),
        PaymentCounts {
            recorded: 0,
            duplicates: 4,
            ..Default::default()
        }
    );
    assert_eq!(stored(db, BUDI).await.unwrap().paid_through_month(), month("2025-08"));
}

async fn bad_payments_are_all_listed_and_nothing_is_recorded(db: &TestDb) {
    load_participants(db).await;
    let (_s, earlier) = file(
        "earlier.csv",
        b"external_ref,nik,amount,paid_at,channel\nSTORED-1,1872014506880001,16800,2025-07-01,jmo\n",
    );
    import_payments(db.store.as_ref(), &earlier, &options(), &NoProgress)
        .await
        .unwrap();

    let (dir, path) = fixture("payments_bad.csv");
    let result = import_payments(db.store.as_ref(), &path, &options(), &NoProgress).await;
    assert_eq!(
        invalid_errors(result),
        vec![
            at_col(3, "nik"),
            at_col(4, "paid_at"),
            at_col(5, "amount"),
            at_col(6, "amount"),
            at_col(7, "external_ref"),
            at_col(9, "channel"),
            at_col(10, "external_ref"),
            at_col(11, "external_ref"),
            at_col(12, "kpj"),
            at_col(13, "nik"),
            at_col(14, "months"),
            at_col(15, "paid_at"),
        ]
    );
    assert_eq!(stored(db, BUDI).await.unwrap().paid_through_month(), month("2025-07"));

    let report = import_payments(db.store.as_ref(), &path, &skipping(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        paid(&report),
        PaymentCounts {
            recorded: 1,
            duplicates: 1,
            ..Default::default()
        }
    );
    assert_eq!(stored(db, BUDI).await.unwrap().paid_through_month(), month("2025-08"));
    let conflict = report.rejected.iter().find(|e| e.line == 7).unwrap();
    assert!(conflict.reason.contains("line 2"), "{conflict}");
    let text = std::fs::read_to_string(dir.path().join("payments_bad.rejected.csv")).unwrap();
    assert_eq!(text.lines().count(), 13, "{text}");
}

async fn unreadable_files_fail_clearly_and_change_nothing(db: &TestDb) {
    load_test_kelurahan(db).await;
    let store = db.store.as_ref();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("tidak-ada.csv");
    let err = import_participants(store, &missing, &options(), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::Read { .. }), "{err}");
    assert!(err.to_string().contains("tidak-ada.csv"), "{err}");

    let (_l, latin1) = file(
        "latin1.csv",
        b"nik,name,kelurahan,segment,monthly_amount\n1872014506880001,Jos\xe9,18.72.01.1001,bpu,16800\n",
    );
    let err = import_participants(store, &latin1, &options(), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::NotUtf8 { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("latin1.csv is not UTF-8"), "{err}");

    let (_b, broken) = fixture("participants_broken.json");
    let err = import_participants(store, &broken, &options(), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::Malformed { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("participants_broken.json, line 3"), "{err}");

    let (_m, no_segment) = file("p.csv", b"NIK,Name,Kelurahan,Monthly_Amount\n");
    let err = import_participants(store, &no_segment, &options(), &NoProgress)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{} lacks the required column(s) segment", no_segment.display())
    );
    let (_n, no_payer) = file("y.csv", b"external_ref,amount,paid_at,channel\n");
    let err = import_payments(store, &no_payer, &options(), &NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ImportError::MissingColumn { columns, .. } if columns == &["nik or kpj"]),
        "{err}"
    );
    assert_eq!(participant_count(db).await, 0);
}

async fn kelurahan_list_imports_and_reimports_unchanged(db: &TestDb) {
    let (_dir, path) = file(
        "metro.csv",
        pengingat::wilayah::METRO_CSV.replace('\n', "\r\n").as_bytes(),
    );
    let report = import_kelurahan(db.store.as_ref(), &path).await.unwrap();
    assert_eq!(report.rows, 22);
    assert_eq!(
        report.counts,
        ImportCounts::Kelurahan(UpsertCounts {
            inserted: 22,
            updated: 0,
            unchanged: 0
        })
    );
    let again = import_kelurahan(db.store.as_ref(), &path).await.unwrap();
    assert_eq!(
        again.counts,
        ImportCounts::Kelurahan(UpsertCounts {
            inserted: 0,
            updated: 0,
            unchanged: 22
        })
    );

    let bad = "kode,nama,kecamatan,kabupaten_kota,provinsi\n18.72.01.1001,Metro,Metro Pusat,Kota Metro,Lampung\n18.72.01.100,Rusak,Metro Pusat,Kota Metro,Lampung\n";
    let (_b, bad) = file("bad.csv", bad.as_bytes());
    let err = import_kelurahan(db.store.as_ref(), &bad).await.unwrap_err();
    let ImportError::Invalid { errors, .. } = err else {
        panic!("{err}")
    };
    assert_eq!((errors[0].line, errors[0].column.as_deref()), (3, Some("kode")));
    assert_eq!(db.store.list_kelurahan().await.unwrap().len(), 22);
}
