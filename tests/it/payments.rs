//! Payments through each of the three paths (HTTP API, inbox folder, file
//! import): each cancels the pending reminders it covers, is credited to
//! the latest reminder sent within the window, and changes nothing when it
//! comes again.

mod api;
mod inbox;

use pengingat::domain::Channel;
use pengingat::store::{AttemptOutcome, NoProgress, ReminderRecord};

use crate::helpers::*;

/// The NIK of `participant(1, …)`.
pub const NIK: &str = "1872011205900001";

/// The h-1 SMS reminder of July 2025 went out on 14 July 09:00 WIB.
pub const SENT_AT: &str = "2025-07-14T02:00:05Z";

/// Participant 1, paid through June 2025, with two July reminders: the h-1
/// SMS sent at [`SENT_AT`], and the h0 SMS still pending for 15 July.
pub async fn reminded_participant(db: &TestDb) {
    load_test_kelurahan(db).await;
    db.store
        .upsert_participants(&[participant(1, "2025-06")], at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let mut h1 = h0_july(Channel::Sms);
    h1.rule = "h-1".into();
    h1.rule_offset = -1;
    let o = &mut h1.occurrences[0];
    o.occurrence_date -= 1;
    o.send_date -= 1;
    o.planned_at -= 86_400;
    o.expires_at = Some(o.planned_at + 10 * 3600);
    let created = at("2025-07-13T00:00:00Z");
    db.store.insert_reminders(&h1, created).await.unwrap();
    db.store
        .insert_reminders(&h0_july(Channel::Sms), created)
        .await
        .unwrap();
    let claimed = db
        .store
        .claim_due(at("2025-07-14T02:00:00Z"), Channel::Sms, 10, "w")
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "only the h-1 reminder is due on the 14th");
    let sent = AttemptOutcome::Sent {
        gateway: "kannel".into(),
        provider_message_id: None,
        encoding: Some("gsm7".into()),
        segments: Some(1),
    };
    db.store
        .finish_attempts("w", &[(claimed[0].id, sent)], at(SENT_AT))
        .await
        .unwrap();
}

/// The participant's reminders by rule.
pub async fn reminder(db: &TestDb, rule: &str) -> ReminderRecord {
    db.store
        .list_reminders(Some(NIK), 10)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} reminder"))
}

/// The participant's paid-through month, as `YYYY-MM`.
pub async fn paid_through(db: &TestDb) -> String {
    let nik = pengingat::domain::Nik::parse(NIK).unwrap();
    db.store.participants_by_nik(&[nik]).await.unwrap()[0]
        .paid_through_month()
        .to_string()
}

/// Asserts the state one July payment leaves: paid through July, the h0
/// reminder cancelled as paid, the h-1 reminder credited after `days` days.
pub async fn assert_paid_and_credited(db: &TestDb, days: i32) {
    assert_eq!(paid_through(db).await, "2025-07");
    let h0 = reminder(db, "h0").await;
    assert_eq!((h0.status.as_str(), h0.reason.as_deref()), ("cancelled", Some("paid")));
    let h1 = reminder(db, "h-1").await;
    let credited = db.store.attributed_payments(&Default::default()).await.unwrap();
    assert_eq!(credited.len(), 1, "{credited:?}");
    assert_eq!((credited[0].reminder_id, credited[0].days_to_pay), (h1.id, days));
    assert_eq!((credited[0].rule.as_str(), credited[0].amount), ("h-1", 16_800));
}

both_backends!(import_path_cancels_and_credits, outside_the_window_nothing_is_credited);

async fn import_path_cancels_and_credits(db: &TestDb) {
    reminded_participant(db).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bayar.csv");
    std::fs::write(
        &file,
        format!("external_ref,nik,amount,paid_at,channel\nJMO-1,{NIK},16800,2025-07-16T03:00:00Z,jmo\n"),
    )
    .unwrap();
    let options = pengingat::import::ImportOptions::new(at("2025-07-16T04:00:00Z"));
    let report = pengingat::import::import_payments(db.store.as_ref(), &file, &options, &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.rows, 1);
    let counts = |recorded, duplicates, credited, reminders_cancelled| {
        pengingat::import::ImportCounts::Payments(pengingat::import::PaymentCounts {
            recorded,
            duplicates,
            credited,
            reminders_cancelled,
        })
    };
    assert_eq!(report.counts, counts(1, 0, 1, 1));
    // 14 July 02:00:05 → 16 July 03:00:00 is 2 days and 1 hour: 2 whole days.
    assert_paid_and_credited(db, 2).await;

    // The same file again changes nothing.
    let again = pengingat::import::import_payments(db.store.as_ref(), &file, &options, &NoProgress)
        .await
        .unwrap();
    assert_eq!(again.counts, counts(0, 1, 0, 0));
    assert_paid_and_credited(db, 2).await;
}

async fn outside_the_window_nothing_is_credited(db: &TestDb) {
    reminded_participant(db).await;
    // 15 days after the send, with the default 14-day window.
    let mut pay = payment("JMO-2", 1, 16_800, "2025-07-29T02:00:06Z");
    pay.paid_at = at("2025-07-29T02:00:06Z");
    let batch = pengingat::store::PaymentBatch {
        source: pengingat::store::PaymentSource::Import,
        now: at("2025-07-30T00:00:00Z"),
        strict: true,
        attribution_secs: 14 * 86_400,
    };
    let outcomes = db.store.record_payments(&[pay], &batch, &NoProgress).await.unwrap();
    assert!(
        matches!(
            &outcomes[0],
            pengingat::store::PaymentOutcome::Recorded {
                attribution: None,
                cancelled_reminders: 1,
                ..
            }
        ),
        "{outcomes:?}"
    );
    assert!(
        db.store
            .attributed_payments(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(reminder(db, "h0").await.reason.as_deref(), Some("paid"));
}
