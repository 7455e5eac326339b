//! Rule days a payment moved a participant onto after they had passed:
//! recorded as skipped with reason `passed_before_payment`, on both
//! backends, so the history explains every rule day.

use chrono::{DateTime, Utc};
use pengingat::domain::{ReminderStatus, SkipReason};
use pengingat::store::{NoProgress, PaymentBatch, PaymentSource, ReminderRecord};

use crate::helpers::*;

both_backends!(payment_onto_passed_days_leaves_skipped_rows);

async fn scan_at(db: &TestDb, now: DateTime<Utc>) {
    scan_shipped(db, now, None).await;
}

/// (rule, status, reason) of one participant's reminders for `month`.
fn of(rows: &[ReminderRecord], nik_serial: u32, m: &str) -> Vec<(String, String, Option<String>)> {
    let nik = format!("187201120590{nik_serial:04}");
    let mut v: Vec<_> = rows
        .iter()
        .filter(|r| r.nik == nik && r.contribution_month == month(m).index())
        .map(|r| (r.rule.clone(), r.status.clone(), r.reason.clone()))
        .collect();
    v.sort();
    v
}

async fn payment_onto_passed_days_leaves_skipped_rows(db: &TestDb) {
    load_test_kelurahan(db).await;
    // 1 pays one month while behind since May; 2 is first unpaid June all
    // along; 3 stays behind since May.
    let rows = [
        participant(1, "2025-04"),
        participant(2, "2025-05"),
        participant(3, "2025-04"),
    ];
    db.store
        .upsert_participants(&rows, at("2025-06-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    // The daemon runs every day from 1 July (June's days before then are
    // older than its history).
    for day in 1..=11 {
        scan_at(db, at(&format!("2025-07-{day:02}T02:05:00Z"))).await;
    }
    // June 2025 is due Monday 16 June (15 June is a Sunday): h-1 on 15 June,
    // h0 on 16 June and h+7 on 23 June had passed by 11 July, beyond their
    // catch-up; h-7 (9 June) is older than a scan looks back (31 days).
    let before = db.store.list_reminders(None, 1000).await.unwrap();
    assert!(of(&before, 1, "2025-06").is_empty(), "{before:?}");
    let batch = PaymentBatch {
        source: PaymentSource::Import,
        now: at("2025-07-11T05:00:00Z"),
        strict: true,
        attribution_secs: 14 * 86_400,
    };
    let pay = payment("JMO-MAY", 1, 16_800, "2025-07-11T04:00:00Z");
    db.store.record_payments(&[pay], &batch, &NoProgress).await.unwrap();
    scan_at(db, at("2025-07-12T02:05:00Z")).await;
    let after = db.store.list_reminders(None, 1000).await.unwrap();
    let passed = SkipReason::PassedBeforePayment.as_str();
    let june_of_1 = of(&after, 1, "2025-06");
    let rules: Vec<&str> = june_of_1.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(rules, ["h+7", "h-1", "h0"], "{june_of_1:?}");
    for (rule, status, reason) in &june_of_1 {
        assert_eq!(status, ReminderStatus::Skipped.as_str(), "{rule}");
        assert_eq!(reason.as_deref(), Some(passed), "{rule}");
    }
    // Who had June as first unpaid month all along keeps what the scans
    // recorded then (days missed before the daemon's history are not
    // theirs to explain by a payment), and nobody else gets these rows.
    assert!(
        of(&after, 2, "2025-06")
            .iter()
            .all(|(_, _, r)| r.as_deref() != Some(passed))
    );
    assert!(of(&after, 3, "2025-06").is_empty());
    // A second scan adds nothing.
    scan_at(db, at("2025-07-12T03:05:00Z")).await;
    let again = db.store.list_reminders(None, 1000).await.unwrap();
    assert_eq!(again.len(), after.len());
}
