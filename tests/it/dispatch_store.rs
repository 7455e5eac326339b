//! The dispatcher's half of the storage contract: claims held by registered
//! dispatchers, their release when a holder falls silent, and outcomes.

use std::collections::HashSet;

use pengingat::domain::{Channel, ReminderStatus};
use pengingat::store::{AttemptOutcome, NoProgress};

use crate::helpers::*;

both_backends!(
    claims_due_reminders_once_and_releases_a_silent_holder,
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

fn sent() -> AttemptOutcome {
    AttemptOutcome::Sent {
        gateway: "kannel".into(),
        provider_message_id: Some("abc".into()),
        encoding: Some("gsm7".into()),
        segments: Some(1),
    }
}

async fn claims_due_reminders_once_and_releases_a_silent_holder(db: &TestDb) {
    pending_reminders(db, 3).await;
    let start = at("2025-07-15T02:00:00Z");
    for w in ["w1", "w2"] {
        db.store.register_dispatcher(w, start).await.unwrap();
    }
    let before = at("2025-07-15T01:59:00Z");
    assert!(
        db.store
            .claim_due(before, Channel::Sms, 10, "w1")
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    assert!(
        db.store
            .claim_due(before, Channel::Email, 10, "w1")
            .await
            .unwrap()
            .is_empty(),
        "no e-mail reminders"
    );
    let now = at("2025-07-15T02:00:30Z");
    let first = db.store.claim_due(now, Channel::Sms, 2, "w1").await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].attempts, 1, "the attempt being made");
    assert_eq!(first[0].phone.as_deref(), Some("+6281200000001"));
    let rest = db.store.claim_due(now, Channel::Sms, 10, "w2").await.unwrap();
    assert_eq!(rest.len(), 1, "the third only");
    assert!(
        db.store
            .claim_due(now, Channel::Sms, 10, "w2")
            .await
            .unwrap()
            .is_empty()
    );
    // w2 heartbeats, w1 falls silent: within the lease nothing is released,
    // after it w1's claims go back to pending and w2's stay.
    let lease = 15;
    let soon = at("2025-07-15T02:00:10Z");
    assert!(db.store.heartbeat_dispatcher("w2", soon).await.unwrap());
    let stale_before = |t: chrono::DateTime<chrono::Utc>| t.timestamp() - lease;
    assert_eq!(
        db.store
            .release_stale_claims("w2", stale_before(soon), soon)
            .await
            .unwrap(),
        0
    );
    let later = at("2025-07-15T02:00:20Z");
    assert!(db.store.heartbeat_dispatcher("w2", later).await.unwrap());
    assert_eq!(
        db.store
            .release_stale_claims("w2", stale_before(later), later)
            .await
            .unwrap(),
        2
    );
    // w1's send of the first finished after the release: nobody claimed it
    // since, so the send is recorded; its other claim is not.
    let late = vec![
        (first[0].id, sent()),
        (first[1].id, AttemptOutcome::Cancelled { reason: "paid".into() }),
    ];
    assert_eq!(db.store.finish_attempts("w1", &late, later).await.unwrap(), 1);
    assert!(
        !db.store.heartbeat_dispatcher("w1", later).await.unwrap(),
        "w1 was taken for gone"
    );
    let reclaimed = db.store.claim_due(later, Channel::Sms, 10, "w3").await.unwrap();
    let ids: HashSet<i64> = reclaimed.iter().map(|r| r.id).collect();
    assert_eq!(ids, HashSet::from([first[1].id]));
    assert_eq!(
        reclaimed[0].attempts, 1,
        "a claim that ended without an outcome counts no attempt"
    );
    let list = db.store.list_reminders(None, 10).await.unwrap();
    let first_row = list.iter().find(|r| r.id == first[0].id).unwrap();
    assert_eq!(
        (first_row.status(), first_row.attempts),
        (Some(ReminderStatus::Sent), 1)
    );
}

async fn outcomes_are_recorded_for_the_lease_holder_only(db: &TestDb) {
    pending_reminders(db, 5).await;
    let now = at("2025-07-15T02:00:30Z");
    let claimed = db.store.claim_due(now, Channel::Sms, 10, "w1").await.unwrap();
    let id = |i: usize| claimed[i].id;
    let outcomes = vec![
        (id(0), sent()),
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
        (
            id(4),
            AttemptOutcome::Postponed {
                error: Some("circuit breaker open for every gateway".into()),
            },
        ),
    ];
    assert_eq!(
        db.store.finish_attempts("other", &outcomes, now).await.unwrap(),
        0,
        "not the lease holder"
    );
    assert_eq!(db.store.finish_attempts("w1", &outcomes, now).await.unwrap(), 5);
    let list = db.store.list_reminders(None, 10).await.unwrap();
    let by_id = |i: i64| list.iter().find(|r| r.id == i).unwrap();
    assert_eq!(by_id(id(0)).status(), Some(ReminderStatus::Sent));
    assert_eq!(by_id(id(1)).status(), Some(ReminderStatus::Pending));
    assert_eq!(by_id(id(2)).status(), Some(ReminderStatus::Cancelled));
    assert_eq!(by_id(id(2)).reason.as_deref(), Some("paid"));
    assert_eq!(by_id(id(3)).status(), Some(ReminderStatus::Failed));
    assert_eq!(by_id(id(4)).status(), Some(ReminderStatus::Pending));
    let attempts: Vec<i32> = (0..5).map(|i| by_id(id(i)).attempts).collect();
    assert_eq!(attempts, vec![1, 1, 0, 1, 0], "real tries only");
    // The postponed one is ready again at once.
    let postponed = db.store.claim_due(now, Channel::Sms, 10, "w1").await.unwrap();
    assert_eq!(postponed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id(4)]);
    db.store
        .finish_attempts("w1", &[(id(4), AttemptOutcome::Postponed { error: None })], now)
        .await
        .unwrap();
    // The retried one waits for its next attempt, then is claimed again.
    assert!(
        db.store
            .claim_due(at("2025-07-15T02:05:00Z"), Channel::Sms, 10, "w1")
            .await
            .unwrap()
            .iter()
            .all(|r| r.id == id(4)),
        "only the postponed one"
    );
    let again = db
        .store
        .claim_due(at("2025-07-15T02:10:01Z"), Channel::Sms, 10, "w1")
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
        let (a, b) = tokio::join!(
            db.store.claim_due(now, Channel::Sms, 25, "a"),
            other.claim_due(now, Channel::Sms, 25, "b")
        );
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

/// On SQLite the dispatcher's own writes never checkpoint the WAL (that
/// would stall them); a task checkpoints alongside. A claim therefore
/// reaches the database file itself, the WAL aside, within a few seconds
/// though nothing else writes.
#[tokio::test]
async fn sqlite_dispatch_writes_are_checkpointed_alongside() {
    let db = sqlite_db().await;
    pending_reminders(&db, 3).await;
    let now = at("2025-07-15T02:00:30Z");
    db.store.register_dispatcher("w1", now).await.unwrap();
    let url = db.url.trim_start_matches("sqlite://").to_string();
    let file = std::path::PathBuf::from(url);
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(sending_in_file(&file).await, 0, "nothing claimed yet");
    let claimed = db.store.claim_due(now, Channel::Sms, 10, "w1").await.unwrap();
    assert_eq!(claimed.len(), 3);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut in_file = 0;
    while in_file < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        in_file = sending_in_file(&file).await;
    }
    assert_eq!(in_file, 3, "the claim was checkpointed into the database file");
}

/// Reminders `sending` in a copy of the database file without its WAL; 0
/// when the copy cannot be read (taken in the middle of a checkpoint).
async fn sending_in_file(file: &std::path::Path) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    std::fs::copy(file, &copy).unwrap();
    let Ok(pool) = sqlx::SqlitePool::connect(&format!("sqlite://{}", copy.display())).await else {
        return 0;
    };
    let counted: Result<(i64,), _> = sqlx::query_as("SELECT COUNT(*) FROM reminders WHERE status = 'sending'")
        .fetch_one(&pool)
        .await;
    pool.close().await;
    counted.map_or(0, |(n,)| n)
}
