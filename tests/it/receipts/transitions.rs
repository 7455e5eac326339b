//! Statuses only move forward: repeated and late receipts change nothing,
//! receipts that come before the send's record are matched afterwards, and
//! sends with no final receipt time out.

use pengingat::channels::sms::providers::normalise_provider_id;
use pengingat::config::delivery::Preset;
use pengingat::domain::ReminderStatus;
use pengingat::store::{IgnoredBecause, NewReceipt, ReceiptOutcome, ReceiptState};

use super::{Receiver, Sql, now, pending_reminders, token};
use crate::helpers::*;

both_backends!(
    a_repeated_receipt_is_kept_and_ignored,
    a_late_intermediate_receipt_never_downgrades,
    a_second_final_receipt_never_changes_the_first,
    a_receipt_for_an_unknown_reminder_is_kept_and_changes_nothing,
    a_receipt_before_the_send_record_waits_and_is_matched_after,
    a_receipt_for_a_reminder_still_sending_survives_the_send_record,
    a_receipt_through_another_gateway_is_ignored,
    unconfirmed_sends_time_out_to_unknown,
    a_receipt_racing_the_send_record_is_never_lost,
);

const SENT_AT: i64 = 1_752_548_400;

fn kannel(id: i64, d: u8) -> String {
    format!("/receipts/kannel?id={id}&status={d}&token={}", token("kannel"))
}

async fn a_repeated_receipt_is_kept_and_ignored(db: &TestDb) {
    let ids = pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[0], "kannel", None, SENT_AT).await;
    let receiver = Receiver::start(db).await;
    assert_eq!(receiver.get(&kannel(ids[0], 1)).await.0, 200);
    let first = sql.delivery(ids[0]).await;
    assert_eq!(
        receiver.get(&kannel(ids[0], 1)).await.0,
        200,
        "a repeat is acknowledged"
    );
    assert_eq!(sql.delivery(ids[0]).await, first, "nothing changed");
    let outcomes: Vec<_> = sql.receipts().await.into_iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, ["applied", "ignored"]);
    let raw = format!("id={}&status=1", ids[0]);
    let again = NewReceipt {
        reminder_id: Some(ids[0]),
        provider_message_id: None,
        state: ReceiptState::Delivered,
        detail: None,
        raw: &raw,
    };
    assert_eq!(
        db.store.record_receipt("kannel", &again, now()).await.unwrap(),
        ReceiptOutcome::Ignored {
            reminder_id: Some(ids[0]),
            because: IgnoredBecause::Final(ReminderStatus::Delivered)
        }
    );
    assert_eq!(sql.receipts().await.len(), 3, "every receipt is kept");
    receiver.stop().await;
    sql.close().await;
}

async fn a_late_intermediate_receipt_never_downgrades(db: &TestDb) {
    let ids = pending_reminders(db, 2).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[0], "kannel", None, SENT_AT).await;
    let sid = "SM0123456789abcdef0123456789abcdef";
    sql.mark_sent(ids[1], "twilio", Some(sid), SENT_AT).await;
    let receiver = Receiver::start(db).await;
    // Out of order: the final receipt first, then the SMSC acknowledgement.
    assert_eq!(receiver.get(&kannel(ids[0], 1)).await.0, 200);
    assert_eq!(receiver.get(&kannel(ids[0], 8)).await.0, 200);
    assert_eq!(receiver.get(&kannel(ids[0], 4)).await.0, 200);
    for status in ["delivered", "sent", "queued"] {
        let form = [("MessageSid", sid), ("MessageStatus", status)];
        let signature = receiver.twilio_signature("/receipts/twilio", &form);
        assert_eq!(
            receiver.post_twilio("/receipts/twilio", &form, Some(signature)).await.0,
            200
        );
    }
    assert_eq!(sql.delivery(ids[0]).await.status, "delivered");
    assert_eq!(sql.delivery(ids[1]).await.status, "delivered");
    let outcomes: Vec<_> = sql.receipts().await.into_iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        ["applied", "ignored", "ignored", "applied", "ignored", "ignored"]
    );
    receiver.stop().await;
    sql.close().await;
}

async fn a_second_final_receipt_never_changes_the_first(db: &TestDb) {
    let ids = pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[0], "kannel", None, SENT_AT).await;
    let receiver = Receiver::start(db).await;
    receiver.get(&kannel(ids[0], 2)).await;
    receiver.get(&kannel(ids[0], 1)).await;
    let d = sql.delivery(ids[0]).await;
    assert_eq!(d.status, "undelivered", "the first final receipt stands");
    receiver.stop().await;
    sql.close().await;
}

async fn a_receipt_for_an_unknown_reminder_is_kept_and_changes_nothing(db: &TestDb) {
    let ids = pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[0], "kannel", None, SENT_AT).await;
    let before = sql.delivery(ids[0]).await;
    let receiver = Receiver::start(db).await;
    assert_eq!(receiver.get(&kannel(999_999, 1)).await, (200, String::new()));
    assert_eq!(sql.delivery(ids[0]).await, before);
    let receipts = sql.receipts().await;
    assert_eq!(receipts.len(), 1);
    assert_eq!(
        (receipts[0].reminder_id, receipts[0].outcome.as_str()),
        (None, "ignored")
    );
    assert!(receipts[0].raw.starts_with("id=999999&status=1"));
    receiver.stop().await;
    sql.close().await;
}

async fn a_receipt_before_the_send_record_waits_and_is_matched_after(db: &TestDb) {
    let ids = pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    sql.mark_sending(ids[0]).await;
    let receiver = Receiver::start(db).await;
    let uuid = "07033084-5CFD-4812-90A4-E4D24FFB6E3D";
    let path = format!("/receipts/jasmin?token={}", token("jasmin"));
    let ct = "application/x-www-form-urlencoded";
    for (status, level) in [("ESME_ROK", 1), ("DELIVRD", 2)] {
        let body = format!("id={uuid}&message_status={status}&level={level}");
        assert_eq!(receiver.post(&path, ct, body).await, (200, "ACK/Jasmin".to_string()));
    }
    let waiting: Vec<_> = sql
        .receipts()
        .await
        .into_iter()
        .map(|r| (r.reminder_id, r.outcome))
        .collect();
    assert_eq!(waiting, [(None, "waiting".to_string()), (None, "waiting".to_string())]);
    assert_eq!(sql.delivery(ids[0]).await.status, "sending");

    // The dispatcher records the send with the id Jasmin answered, normalised.
    let pid = normalise_provider_id(Preset::Jasmin, uuid).unwrap();
    sql.record_sent(ids[0], "jasmin", Some(&pid), SENT_AT).await;
    assert_eq!(db.store.apply_waiting_receipts(ids[0], now()).await.unwrap(), 2);
    let d = sql.delivery(ids[0]).await;
    assert_eq!((d.status.as_str(), d.final_at), ("delivered", Some(now().timestamp())));
    let matched: Vec<_> = sql
        .receipts()
        .await
        .into_iter()
        .map(|r| (r.reminder_id, r.outcome))
        .collect();
    assert_eq!(
        matched,
        [
            (Some(ids[0]), "noted".to_string()),
            (Some(ids[0]), "applied".to_string())
        ]
    );
    assert_eq!(
        db.store.apply_waiting_receipts(ids[0], now()).await.unwrap(),
        0,
        "matched once"
    );
    receiver.stop().await;
    sql.close().await;
}

async fn a_receipt_for_a_reminder_still_sending_survives_the_send_record(db: &TestDb) {
    let ids = pending_reminders(db, 2).await;
    let sql = Sql::open(db).await;
    sql.mark_sending(ids[0]).await;
    sql.mark_sending(ids[1]).await;
    let receiver = Receiver::start(db).await;
    // Kannel names our reminder: the receipt applies though the send is not recorded.
    assert_eq!(receiver.get(&kannel(ids[0], 1)).await.0, 200);
    assert_eq!(receiver.get(&kannel(ids[1], 2)).await.0, 200);
    assert_eq!(sql.delivery(ids[0]).await.status, "delivered");
    sql.record_sent(ids[0], "kannel", None, SENT_AT).await;
    sql.record_sent(ids[1], "kannel", None, SENT_AT).await;
    let d = sql.delivery(ids[0]).await;
    assert_eq!(
        (d.status.as_str(), d.gateway.as_deref(), d.sent_at),
        ("delivered", Some("kannel"), Some(SENT_AT)),
        "the send's record does not downgrade the receipt"
    );
    assert_eq!(sql.delivery(ids[1]).await.status, "undelivered");
    receiver.stop().await;
    sql.close().await;
}

async fn a_receipt_through_another_gateway_is_ignored(db: &TestDb) {
    let ids = pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[0], "infobip", Some("ib-1"), SENT_AT).await;
    let receiver = Receiver::start(db).await;
    assert_eq!(receiver.get(&kannel(ids[0], 1)).await.0, 200);
    assert_eq!(sql.delivery(ids[0]).await.status, "sent");
    let receipts = sql.receipts().await;
    assert_eq!(
        (receipts[0].reminder_id, receipts[0].outcome.as_str()),
        (Some(ids[0]), "ignored")
    );
    receiver.stop().await;
    sql.close().await;
}

async fn unconfirmed_sends_time_out_to_unknown(db: &TestDb) {
    let ids = pending_reminders(db, 3).await;
    let sql = Sql::open(db).await;
    let hours_ago = |h: i64| now().timestamp() - h * 3_600;
    sql.mark_sent(ids[0], "kannel", None, hours_ago(80)).await;
    sql.mark_sent(ids[1], "kannel", None, hours_ago(10)).await;
    sql.mark_sent(ids[2], "kannel", None, hours_ago(80)).await;
    let receiver = Receiver::start(db).await;
    assert_eq!(receiver.get(&kannel(ids[2], 1)).await.0, 200);
    let timed_out = db.store.time_out_unconfirmed(hours_ago(72), now()).await.unwrap();
    assert_eq!(timed_out, 1);
    let d = sql.delivery(ids[0]).await;
    assert_eq!(
        (d.status.as_str(), d.reason.as_deref(), d.final_at),
        (
            "unknown",
            Some("no final delivery receipt within 72 hours"),
            Some(now().timestamp())
        )
    );
    assert_eq!(sql.delivery(ids[1]).await.status, "sent", "still within the window");
    assert_eq!(sql.delivery(ids[2]).await.status, "delivered");
    // A receipt after the time-out is kept, and the terminal status stands.
    assert_eq!(receiver.get(&kannel(ids[0], 1)).await.0, 200);
    assert_eq!(sql.delivery(ids[0]).await.status, "unknown");
    assert_eq!(db.store.time_out_unconfirmed(hours_ago(72), now()).await.unwrap(), 0);
    receiver.stop().await;
    sql.close().await;
}

/// The interleaving that loses a receipt under READ COMMITTED unless both
/// sides serialise: the receipt finds no send and is about to be kept
/// waiting, the send's record commits, and the matching runs before the
/// waiting receipt is committed. On PostgreSQL the test holds the receipt's
/// INSERT with a table lock until the matching has either finished (a lost
/// receipt) or is waiting for the receipt's transaction. SQLite's single
/// writer cannot interleave them; there the same steps run one after another.
async fn a_receipt_racing_the_send_record_is_never_lost(db: &TestDb) {
    let ids = pending_reminders(db, 1).await;
    let id = ids[0];
    let sql = Sql::open(db).await;
    sql.mark_sending(id).await;
    let receipt = || {
        let store = db.store.clone();
        tokio::spawn(async move {
            let new = NewReceipt {
                reminder_id: None,
                provider_message_id: Some("race-1"),
                state: ReceiptState::Delivered,
                detail: None,
                raw: "{\"message_id\": \"race-1\", \"status\": \"delivered\"}",
            };
            store.record_receipt("webhook", &new, now()).await.unwrap()
        })
    };
    let pool = match &sql {
        Sql::Postgres(pool) => pool.clone(),
        Sql::Sqlite(_) => {
            assert_eq!(receipt().await.unwrap(), ReceiptOutcome::Waiting);
            sql.record_sent(id, "webhook", Some("race-1"), SENT_AT).await;
            assert_eq!(db.store.apply_waiting_receipts(id, now()).await.unwrap(), 1);
            assert_eq!(sql.delivery(id).await.status, "delivered");
            sql.close().await;
            return;
        }
    };
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE receipts IN EXCLUSIVE MODE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let receipt = receipt();
    // The receipt found no send and is held at its INSERT.
    wait_for_backend_waiting_on(&pool, "relation").await;
    sql.record_sent(id, "webhook", Some("race-1"), SENT_AT).await;
    let store = db.store.clone();
    let matching = tokio::spawn(async move { store.apply_waiting_receipts(id, now()).await.unwrap() });
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !matching.is_finished() && waiting_on(&pool, "advisory").await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the matching neither finished nor waited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    holder.commit().await.unwrap();
    assert_eq!(receipt.await.unwrap(), ReceiptOutcome::Waiting);
    assert_eq!(matching.await.unwrap(), 1, "the matching saw the receipt");
    assert_eq!(sql.delivery(id).await.status, "delivered");
    sql.close().await;
}

/// Backends of this database waiting on a lock of `kind` (`relation`, `advisory`).
async fn waiting_on(pool: &sqlx::PgPool, kind: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND wait_event_type = 'Lock' AND wait_event = $1",
    )
    .bind(kind)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn wait_for_backend_waiting_on(pool: &sqlx::PgPool, kind: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while waiting_on(pool, kind).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing ever waited on a {kind} lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
