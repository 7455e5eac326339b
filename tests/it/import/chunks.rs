//! Imports checked and written a chunk at a time (`chunk_rows` of 2 here):
//! one transaction for the whole file, every problem listed, repeats found
//! across chunks, payments applied in `paid_at` order across chunks, and
//! line numbers right after chunk boundaries and after the reader's 64 KiB
//! pieces. With two rows a chunk an external sort's run holds 128 keys, so
//! files of a few hundred rows are sorted in several runs on disk.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use pengingat::domain::ExternalRef;
use pengingat::import::{ImportOptions, PaymentCounts, import_participants, import_payments};
use pengingat::store::{NoProgress, Progress};

use super::{BUDI, at_col, file, invalid_errors, load_participants, options, paid, participant_count, stored};
use crate::helpers::*;

both_backends!(
    a_failure_after_the_first_chunk_leaves_nothing_written,
    every_problem_in_every_chunk_is_listed_and_nothing_is_written,
    repeats_across_chunks_are_found,
    payments_out_of_date_order_across_chunks_are_applied_in_date_order,
    line_numbers_stay_right_after_chunk_and_read_boundaries,
    files_larger_than_one_sort_run_keep_every_rule,
);

/// Two rows a chunk.
fn chunked() -> ImportOptions {
    ImportOptions {
        chunk_rows: 2,
        ..options()
    }
}

/// Two rows a chunk, bad rows skipped.
fn chunked_skipping() -> ImportOptions {
    ImportOptions {
        skip_invalid: true,
        ..chunked()
    }
}

/// Panics when the store reports its second chunk written: the import
/// stops half way, inside its transaction.
#[derive(Default)]
struct FailSecondChunk(AtomicU64);

impl Progress for FailSecondChunk {
    fn advance(&self, _rows: u64) {
        if self.0.fetch_add(1, Ordering::SeqCst) == 1 {
            panic!("stopped after the second chunk");
        }
    }
}

/// A participant row for Metro with a generated NIK.
fn participant(serial: u32) -> String {
    format!("187201120590{serial:04},Peserta {serial},0812{serial:08},18.72.01.1001,bpu,16800,2025-06\n")
}

const PARTICIPANT_HEADER: &str = "nik,name,phone,kelurahan,segment,monthly_amount,paid_through\n";
const PAYMENT_HEADER: &str = "external_ref,nik,amount,paid_at,channel\n";

fn payment(reference: &str, nik: &str, amount: u32, day: &str) -> String {
    format!("{reference},{nik},{amount},2025-07-{day},jmo\n")
}

fn payment_ref(reference: &str) -> ExternalRef {
    ExternalRef::parse(reference).unwrap()
}

async fn a_failure_after_the_first_chunk_leaves_nothing_written(db: &TestDb) {
    load_participants(db).await;
    let before = participant_count(db).await;
    let mut csv = String::from(PARTICIPANT_HEADER);
    (1..=5).for_each(|n| csv.push_str(&participant(n)));
    let (_d, path) = file("peserta.csv", csv.as_bytes());
    let stopped = AssertUnwindSafe(import_participants(
        db.store.as_ref(),
        &path,
        &chunked(),
        &FailSecondChunk::default(),
    ))
    .catch_unwind()
    .await;
    assert!(stopped.is_err(), "the import should have stopped half way");
    assert_eq!(
        participant_count(db).await,
        before,
        "the first chunk must not stay written"
    );

    let mut csv = String::from(PAYMENT_HEADER);
    for (n, day) in ["01", "02", "03", "04", "05"].iter().enumerate() {
        csv.push_str(&payment(&format!("P{n}"), BUDI, 16800, day));
    }
    let (_e, path) = file("bayar.csv", csv.as_bytes());
    let stopped = AssertUnwindSafe(import_payments(
        db.store.as_ref(),
        &path,
        &chunked(),
        &FailSecondChunk::default(),
    ))
    .catch_unwind()
    .await;
    assert!(stopped.is_err(), "the import should have stopped half way");
    assert_eq!(stored(db, BUDI).await.unwrap().paid_through_month(), month("2025-06"));
    assert!(db.store.payments_by_ref(&[payment_ref("P0")]).await.unwrap().is_empty());

    // Without the interruption the same files go through whole.
    let report = import_payments(db.store.as_ref(), &path, &chunked(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(paid(&report).recorded, 5);
    assert_eq!(stored(db, BUDI).await.unwrap().paid_through_month(), month("2025-11"));
}

async fn every_problem_in_every_chunk_is_listed_and_nothing_is_written(db: &TestDb) {
    load_participants(db).await;
    let before = participant_count(db).await;
    let mut csv = String::from(PARTICIPANT_HEADER);
    for n in 1..=6 {
        let row = participant(n);
        csv.push_str(&match n {
            2 => row.replace("Peserta 2", ""),
            5 => row.replace(",bpu,", ",xx,"),
            _ => row,
        });
    }
    let (_d, path) = file("peserta.csv", csv.as_bytes());
    let result = import_participants(db.store.as_ref(), &path, &chunked(), &NoProgress).await;
    assert_eq!(invalid_errors(result), vec![at_col(3, "name"), at_col(6, "segment")]);
    assert_eq!(participant_count(db).await, before);

    let mut csv = String::from(PAYMENT_HEADER);
    csv.push_str(&payment("Q1", "1872011205909999", 16800, "01"));
    for n in 2..=5 {
        csv.push_str(&payment(&format!("Q{n}"), BUDI, 16800, "02"));
    }
    csv.push_str(&payment("Q6", BUDI, 16801, "03"));
    let (_e, path) = file("bayar.csv", csv.as_bytes());
    let result = import_payments(db.store.as_ref(), &path, &chunked(), &NoProgress).await;
    assert_eq!(invalid_errors(result), vec![at_col(2, "nik"), at_col(7, "amount")]);
    assert_eq!(stored(db, BUDI).await.unwrap().paid_through_month(), month("2025-06"));
}

async fn repeats_across_chunks_are_found(db: &TestDb) {
    load_participants(db).await;
    let mut csv = String::from(PARTICIPANT_HEADER);
    (1..=4).for_each(|n| csv.push_str(&participant(n)));
    csv.push_str(&participant(1).replace("Peserta 1", "Peserta Lagi"));
    let (_d, path) = file("peserta.csv", csv.as_bytes());
    let result = import_participants(db.store.as_ref(), &path, &chunked(), &NoProgress).await;
    match result {
        Err(pengingat::import::ImportError::Invalid { errors, .. }) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(
                errors[0].to_string(),
                "line 6, column nik: duplicate NIK: the same NIK is already on line 2"
            );
        }
        other => panic!("expected Invalid, got {other:?}"),
    }

    let mut csv = String::from(PAYMENT_HEADER);
    csv.push_str(&payment("R1", BUDI, 16800, "01")); // line 2
    csv.push_str(&payment("R2", BUDI, 16800, "02")); // line 3
    csv.push_str(&payment("R9", "1872011205909999", 16800, "03")); // line 4: unknown NIK
    csv.push_str(&payment("R3", BUDI, 16800, "04")); // line 5
    csv.push_str(&payment("R1", BUDI, 16800, "01")); // line 6: the same payment again
    csv.push_str(&payment("R2", BUDI, 33600, "02")); // line 7: another payment, same reference
    csv.push_str(&payment("R9", "1872011205909999", 16800, "03")); // line 8: repeats line 4
    let (_e, path) = file("bayar.csv", csv.as_bytes());
    let result = import_payments(db.store.as_ref(), &path, &chunked(), &NoProgress).await;
    match result {
        Err(pengingat::import::ImportError::Invalid { errors, .. }) => {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            assert_eq!(
                text,
                [
                    "line 4, column nik: no participant has this NIK",
                    "line 7, column external_ref: external reference already used on line 3 for a different payment",
                    "line 8, column external_ref: repeats line 4, which was rejected",
                ]
            );
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let report = import_payments(db.store.as_ref(), &path, &chunked_skipping(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        paid(&report),
        PaymentCounts {
            recorded: 3,
            duplicates: 1,
            ..Default::default()
        }
    );
    assert_eq!(stored(db, BUDI).await.unwrap().paid_through_month(), month("2025-09"));
}

async fn payments_out_of_date_order_across_chunks_are_applied_in_date_order(db: &TestDb) {
    load_participants(db).await;
    let mut csv = String::from(PAYMENT_HEADER);
    csv.push_str(&payment("LATE", BUDI, 16800, "09"));
    csv.push_str(&payment("MIDDLE", BUDI, 16800, "05"));
    csv.push_str(&payment("EARLY", BUDI, 16800, "01"));
    let (_d, path) = file("bayar.csv", csv.as_bytes());
    import_payments(db.store.as_ref(), &path, &chunked(), &NoProgress)
        .await
        .unwrap();
    let refs = [payment_ref("EARLY"), payment_ref("MIDDLE"), payment_ref("LATE")];
    let mut stored_payments = db.store.payments_by_ref(&refs).await.unwrap();
    stored_payments.sort_by_key(|p| p.paid_at);
    let covered: Vec<(String, i32)> = stored_payments
        .into_iter()
        .map(|p| (p.external_ref, p.first_month))
        .collect();
    assert_eq!(
        covered,
        [
            ("EARLY".to_string(), month("2025-07").index()),
            ("MIDDLE".to_string(), month("2025-08").index()),
            ("LATE".to_string(), month("2025-09").index()),
        ]
    );
}

async fn line_numbers_stay_right_after_chunk_and_read_boundaries(db: &TestDb) {
    load_test_kelurahan(db).await;
    // 2,000 rows (some 160 KB, several of the reader's 64 KiB pieces) with
    // CRLF endings, then a row whose quoted name spans two lines, a blank
    // line, and a bad row.
    let mut csv = String::from(PARTICIPANT_HEADER);
    (1..=2000).for_each(|n| csv.push_str(&participant(n)));
    csv.push_str("1872011205902001,\"Peserta\nDua Baris\",081200002001,18.72.01.1001,bpu,16800,2025-06\n");
    csv.push('\n');
    csv.push_str("1872011205902002,Peserta Rusak,081200002002,18.72.01.1001,xx,16800,2025-06\n");
    let crlf = csv.replace('\n', "\r\n");
    let (_d, path) = file("peserta.csv", crlf.as_bytes());
    let result = import_participants(db.store.as_ref(), &path, &chunked(), &NoProgress).await;
    assert_eq!(invalid_errors(result), vec![at_col(2005, "segment")]);

    // The same rows as JSON, one record a line after the opening bracket.
    let mut json = String::from("[\n");
    for n in 1..=2000u32 {
        json.push_str(&format!(
            "{{\"nik\": \"187201120590{n:04}\", \"name\": \"Peserta {n}\", \"kelurahan\": \"18.72.01.1001\", \"segment\": \"bpu\", \"monthly_amount\": 16800}},\n"
        ));
    }
    json.push_str("{\"nik\": \"1872011205902001\",\n \"name\": \"Peserta\", \"kelurahan\": \"18.72.01.1001\",\n \"segment\": \"bpu\", \"monthly_amount\": 16800},\n");
    json.push_str("{\"nik\": \"1872011205902002\", \"name\": \"Rusak\", \"kelurahan\": \"18.72.01.1001\", \"segment\": \"xx\", \"monthly_amount\": 16800}\n]\n");
    let (_e, path) = file("peserta.json", json.as_bytes());
    let result = import_participants(db.store.as_ref(), &path, &chunked(), &NoProgress).await;
    assert_eq!(invalid_errors(result), vec![at_col(2005, "segment")]);
}

async fn files_larger_than_one_sort_run_keep_every_rule(db: &TestDb) {
    load_test_kelurahan(db).await;
    // 400 participants (four sort runs of NIKs), the first NIK again last.
    let mut csv = String::from(PARTICIPANT_HEADER);
    (1..=400).for_each(|n| csv.push_str(&participant(n)));
    csv.push_str(&participant(1).replace("Peserta 1", "Peserta Lagi"));
    let (_d, path) = file("peserta.csv", csv.as_bytes());
    let result = import_participants(db.store.as_ref(), &path, &chunked(), &NoProgress).await;
    assert_eq!(invalid_errors(result), vec![at_col(402, "nik")]);
    let report = import_participants(db.store.as_ref(), &path, &chunked_skipping(), &NoProgress)
        .await
        .unwrap();
    assert_eq!((report.rows, report.rejected.len()), (401, 1));
    assert_eq!(participant_count(db).await, 400);

    // Two payments for each of 200 participants, the later one first (six
    // runs of references, four of dates), then the first row again and a
    // reference reused for another payment.
    let nik = |n: u32| format!("187201120590{n:04}");
    let mut csv = String::from(PAYMENT_HEADER);
    for n in 1..=200 {
        csv.push_str(&payment(&format!("L{n}"), &nik(n), 16800, "09"));
        csv.push_str(&payment(&format!("E{n}"), &nik(n), 16800, "01"));
    }
    csv.push_str(&payment("L1", &nik(1), 16800, "09")); // line 402: a duplicate
    csv.push_str(&payment("E7", &nik(7), 33600, "01")); // line 403: a conflict
    let (_e, path) = file("bayar.csv", csv.as_bytes());
    let result = import_payments(db.store.as_ref(), &path, &chunked(), &NoProgress).await;
    assert_eq!(invalid_errors(result), vec![at_col(403, "external_ref")]);
    let report = import_payments(db.store.as_ref(), &path, &chunked_skipping(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        paid(&report),
        PaymentCounts {
            recorded: 400,
            duplicates: 1,
            ..Default::default()
        }
    );
    for n in [1, 7, 128, 129, 200] {
        let person = stored(db, &nik(n)).await.unwrap();
        assert_eq!(person.paid_through_month(), month("2025-08"), "participant {n}");
        let refs = [payment_ref(&format!("E{n}")), payment_ref(&format!("L{n}"))];
        let mut covered: Vec<(String, i32)> = db
            .store
            .payments_by_ref(&refs)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.external_ref, p.first_month))
            .collect();
        covered.sort();
        assert_eq!(
            covered,
            [
                (format!("E{n}"), month("2025-07").index()),
                (format!("L{n}"), month("2025-08").index()),
            ],
            "the earlier payment covers the earlier month (participant {n})"
        );
    }
}
