//! Callbacks refused: wrong or missing secrets (401), Twilio signatures,
//! unknown gateways (404), malformed bodies (400), oversized bodies (413).
//! None of them records anything.

use super::{Receiver, Sql, pending_reminders, token};
use crate::helpers::*;

both_backends!(
    wrong_or_missing_tokens_are_refused,
    twilio_signatures_are_verified,
    malformed_receipts_are_refused_with_the_reason,
    oversized_bodies_are_refused,
);

const SENT_AT: i64 = 1_752_548_400;

async fn wrong_or_missing_tokens_are_refused(db: &TestDb) {
    let ids = pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[0], "kannel", None, SENT_AT).await;
    let receiver = Receiver::start(db).await;
    let id = ids[0];
    for path in [
        format!("/receipts/kannel?id={id}&status=1&token=wrong"),
        format!("/receipts/kannel?id={id}&status=1"),
        format!("/receipts/kannel?id={id}&status=1&token="),
        // Another gateway's token.
        format!("/receipts/kannel?id={id}&status=1&token={}", token("jasmin")),
    ] {
        assert_eq!(receiver.get(&path).await.0, 401, "{path}");
    }
    let wrong_bearer = receiver
        .http
        .post(receiver.url("/receipts/webhook"))
        .bearer_auth("nope")
        .json(&serde_json::json!({"id": id, "status": "delivered"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_bearer.status(), 401);
    let path = format!("/receipts/nosuch?id={id}&status=1&token={}", token("kannel"));
    assert_eq!(receiver.get(&path).await.0, 404, "unknown gateway");
    let inbound = "/inbound/kannel?from=%2B6281200000001&text=STOP&token=wrong";
    assert_eq!(receiver.get(inbound).await.0, 401);
    assert!(sql.receipts().await.is_empty(), "nothing recorded");
    assert_eq!(sql.delivery(id).await.status, "sent");
    assert_eq!(sql.opt_out("1872011205900001").await, (false, None));
    receiver.stop().await;
    sql.close().await;
}

async fn twilio_signatures_are_verified(db: &TestDb) {
    let ids = pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    let sid = "SM0123456789abcdef0123456789abcdef";
    sql.mark_sent(ids[0], "twilio", Some(sid), SENT_AT).await;
    let receiver = Receiver::start(db).await;
    let form = [
        ("MessageSid", sid),
        ("MessageStatus", "delivered"),
        ("To", "+6281200000001"),
    ];
    let good = receiver.twilio_signature("/receipts/twilio", &form);
    let tampered = [
        ("MessageSid", sid),
        ("MessageStatus", "delivered"),
        ("To", "+6281200000002"),
    ];
    let other_url = receiver.twilio_signature("/receipts/kannel", &form);
    let other_key = pengingat::channels::sms::providers::twilio_signature(
        "not-the-token",
        &receiver.url("/receipts/twilio"),
        &form,
    );
    assert_eq!(
        receiver.post_twilio("/receipts/twilio", &form, None).await.0,
        401,
        "unsigned"
    );
    assert_eq!(
        receiver
            .post_twilio("/receipts/twilio", &tampered, Some(good.clone()))
            .await
            .0,
        401
    );
    assert_eq!(
        receiver.post_twilio("/receipts/twilio", &form, Some(other_url)).await.0,
        401
    );
    assert_eq!(
        receiver.post_twilio("/receipts/twilio", &form, Some(other_key)).await.0,
        401
    );
    assert!(sql.receipts().await.is_empty());
    assert_eq!(sql.delivery(ids[0]).await.status, "sent");
    assert_eq!(
        receiver.post_twilio("/receipts/twilio", &form, Some(good)).await,
        (200, String::new())
    );
    assert_eq!(sql.delivery(ids[0]).await.status, "delivered");
    receiver.stop().await;
    sql.close().await;
}

async fn malformed_receipts_are_refused_with_the_reason(db: &TestDb) {
    let ids = pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[0], "infobip", Some("ib-1"), SENT_AT).await;
    let receiver = Receiver::start(db).await;
    let json = "application/json";
    let infobip = format!("/receipts/infobip?token={}", token("infobip"));
    let (status, body) = receiver.post(&infobip, json, "{\"results\": [").await;
    assert_eq!(status, 400);
    assert!(body.starts_with("malformed receipt: malformed JSON"), "{body}");
    // One bad report refuses the whole batch: the good one is not applied either.
    let batch = serde_json::json!({"results": [
        {"messageId": "ib-1", "status": {"groupName": "DELIVERED", "id": 5}},
        {"messageId": "ib-2"},
    ]});
    let (status, body) = receiver.post(&infobip, json, batch.to_string()).await;
    assert_eq!(
        (status, body.as_str()),
        (400, "malformed receipt: results[1].status is missing\n")
    );
    let kannel = format!("/receipts/kannel?id={}&token={}", ids[0], token("kannel"));
    let (status, body) = receiver.get(&kannel).await;
    assert_eq!((status, body.as_str()), (400, "malformed receipt: status is missing\n"));
    let kannel = format!("/receipts/kannel?id=abc&status=1&token={}", token("kannel"));
    assert_eq!(receiver.get(&kannel).await.0, 400);
    let jasmin = format!("/receipts/jasmin?token={}", token("jasmin"));
    let (status, body) = receiver
        .post(&jasmin, "application/x-www-form-urlencoded", "level=2")
        .await;
    assert_eq!((status, body.as_str()), (400, "malformed receipt: id is missing\n"));
    let form = [("MessageStatus", "delivered")];
    let signature = receiver.twilio_signature("/receipts/twilio", &form);
    assert_eq!(
        receiver.post_twilio("/receipts/twilio", &form, Some(signature)).await.0,
        400
    );
    let webhook = format!("/receipts/webhook?token={}", token("webhook"));
    let (status, body) = receiver.post(&webhook, json, "{\"status\": \"delivered\"}").await;
    assert_eq!(status, 400);
    assert!(body.contains("neither a reminder id nor a message id"), "{body}");
    assert!(sql.receipts().await.is_empty(), "nothing recorded");
    assert_eq!(sql.delivery(ids[0]).await.status, "sent");
    receiver.stop().await;
    sql.close().await;
}

async fn oversized_bodies_are_refused(db: &TestDb) {
    pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    let receiver = Receiver::start(db).await;
    let infobip = format!("/receipts/infobip?token={}", token("infobip"));
    let filler = "x".repeat(64 * 1024);
    let big = format!("{{\"results\": [], \"padding\": \"{filler}\"}}");
    assert_eq!(receiver.post(&infobip, "application/json", big).await.0, 413);
    let inbound = format!("/inbound/webhook?token={}", token("webhook"));
    let big = format!("{{\"from\": \"+6281200000001\", \"text\": \"{filler}\"}}");
    assert_eq!(receiver.post(&inbound, "application/json", big).await.0, 413);
    assert!(sql.receipts().await.is_empty());
    receiver.stop().await;
    sql.close().await;
}
