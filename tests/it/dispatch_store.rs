//! The dispatcher's half of the storage contract: claims, leases and outcomes.

use std::collections::HashSet;

use pengingat::domain::{Channel, ReminderStatus};
use pengingat::store::{AttemptOutcome, NoProgress};

use crate::helpers::*;

both_backends!(
    claims_due_reminders_once_under_a_lease,
    outcomes_are_recorded_for_the_lease_holder_only,
    concurrent_claimers_never_share_a_reminder,
);

const PLANNED: i64 = 1_752_544_800; // 2025-07-15T02:00:00Z

/// `n` participants with a pending h0 SMS reminder each, planned at PLANNED.
async fn pending_reminders(db: &TestDb, n: u32) {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (1..=n).map(|i| participant(i, "2025-06")).collect();
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let batch = h0_july(Channel::Sms);
    db.store
        .insert_reminders(&batch, at("2025-07-15T01:00:00Z"))
        .await
        .unwrap();
}

async fn claims_due_reminders_once_under_a_lease(db: &TestDb) {
    pending_reminders(db, 3).await;
    let before = at("2025-07-15T01:59:00Z");
    assert!(
        db.store.claim_due(before, 10, 60, "w1").await.unwrap().is_empty(),
        "not due yet"
    );
    let now = at("2025-07-15T02:00:30Z");
    let first = db.store.claim_due(now, 2, 60, "w1").await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].attempts, 1);
    assert_eq!(first[0].phone.as_deref(), Some("+6281200000001"));
    let rest = db.store.claim_due(now, 10, 600, "w2").await.unwrap();
    assert_eq!(rest.len(), 1, "the third only");
    assert!(db.store.claim_due(now, 10, 60, "w2").await.unwrap().is_empty());
    // w1 crashes: after its lease runs out its two are claimable again.
    let later = at("2025-07-15T02:02:00Z");
    let reclaimed = db.store.claim_due(later, 10, 60, "w3").await.unwrap();
    let ids: HashSet<i64> = reclaimed.iter().map(|r| r.id).collect();
    assert_eq!(ids, first.iter().map(|r| r.id).collect());
    assert!(reclaimed.iter().all(|r| r.attempts == 2));
}

async fn outcomes_are_recorded_for_the_lease_holder_only(db: &TestDb) {
    pending_reminders(db, 4).await;
    let now = at("2025-07-15T02:00:30Z");
    let claimed = db.store.claim_due(now, 10, 60, "w1").await.unwrap();
    let id = |i: usize| claimed[i].id;
    let outcomes = vec![
        (
            id(0),
            AttemptOutcome::Sent {
                gateway: "kannel".into(),
                provider_message_id: Some("abc".into()),
                encoding: Some("gsm7".into()),
                segments: Some(1),
            },
        ),
        (
            id(1),
            AttemptOutcome::Retry {
                error: "503 from kannel".into(),
                next_attempt_at: PLANNED + 600,
            },
        ),
        (id(2), AttemptOutcome::Cancelled { reason: "paid".into() }),
        (
            id(3),
            AttemptOutcome::Failed {
                reason: "400: invalid number".into(),
            },
        ),
    ];
    assert_eq!(
        db.store.finish_attempts("other", &outcomes, now).await.unwrap(),
        0,
        "not the lease holder"
    );
    assert_eq!(db.store.finish_attempts("w1", &outcomes, now).await.unwrap(), 4);
    let list = db.store.list_reminders(None, 10).await.unwrap();
    let by_id = |i: i64| list.iter().find(|r| r.id == i).unwrap();
    assert_eq!(by_id(id(0)).status(), Some(ReminderStatus::Sent));
    assert_eq!(by_id(id(1)).status(), Some(ReminderStatus::Pending));
    assert_eq!(by_id(id(2)).status(), Some(ReminderStatus::Cancelled));
    assert_eq!(by_id(id(2)).reason.as_deref(), Some("paid"));
    assert_eq!(by_id(id(3)).status(), Some(ReminderStatus::Failed));
    // The retried one waits for its next attempt, then is claimed again.
    assert!(
        db.store
            .claim_due(at("2025-07-15T02:05:00Z"), 10, 60, "w1")
            .await
            .unwrap()
            .is_empty()
    );
    let again = db
        .store
        .claim_due(at("2025-07-15T02:10:01Z"), 10, 60, "w1")
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, id(1));
    assert_eq!(again[0].attempts, 2);
}

async fn concurrent_claimers_never_share_a_reminder(db: &TestDb) {
    pending_reminders(db, 400).await;
    let other = pengingat::store::connect(&db.url, &Default::default()).await.unwrap();
    let now = at("2025-07-15T02:00:30Z");
    let mut seen: Vec<i64> = Vec::new();
    loop {
        let (a, b) = tokio::join!(db.store.claim_due(now, 25, 60, "a"), other.claim_due(now, 25, 60, "b"));
        let (a, b) = (a.unwrap(), b.unwrap());
        if a.is_empty() && b.is_empty() {
            break;
        }
        seen.extend(a.iter().chain(b.iter()).map(|r| r.id));
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(seen.len(), 400, "every reminder claimed");
    assert_eq!(unique.len(), 400, "none claimed twice");
}
