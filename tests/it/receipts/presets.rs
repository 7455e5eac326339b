//! Every preset's receipts, in the gateway's exact format, settle `sent`
//! reminders; each gets the answer its gateway expects.

use serde_json::json;

use super::{Receiver, Sql, now, pending_reminders, token};
use crate::helpers::*;

both_backends!(
    kannel_receipts_settle_reminders_by_our_id,
    jasmin_receipts_settle_reminders_by_its_uuid,
    twilio_callbacks_settle_reminders_by_sid,
    infobip_batches_settle_each_reminder,
    webhook_receipts_settle_reminders_by_either_id,
);

const SENT_AT: i64 = 1_752_548_400; // 2025-07-15T03:00:00Z minus an hour

async fn kannel_receipts_settle_reminders_by_our_id(db: &TestDb) {
    let ids = pending_reminders(db, 3).await;
    let sql = Sql::open(db).await;
    for id in &ids {
        sql.mark_sent(*id, "kannel", None, SENT_AT).await;
    }
    let receiver = Receiver::start(db).await;
    let dlr = |id: i64, d: u8| {
        format!(
            "/receipts/kannel?id={id}&status={d}&smsc=mock&fid=F{id}&ts=1752548460&token={}",
            token("kannel")
        )
    };
    for (id, d) in [(ids[0], 8), (ids[0], 1), (ids[1], 2), (ids[2], 16)] {
        assert_eq!(receiver.get(&dlr(id, d)).await, (200, String::new()));
    }
    let delivered = sql.delivery(ids[0]).await;
    assert_eq!((delivered.status.as_str(), delivered.reason), ("delivered", None));
    assert_eq!(delivered.final_at, Some(now().timestamp()));
    for id in &ids[1..] {
        let d = sql.delivery(*id).await;
        assert_eq!(d.status, "undelivered");
        assert_eq!(
            d.reason.as_deref(),
            Some("not delivered to the handset (delivery receipt)")
        );
    }
    let receipts = sql.receipts().await;
    let outcomes: Vec<_> = receipts
        .iter()
        .map(|r| (r.status.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("sent", "noted"),
            ("delivered", "applied"),
            ("undelivered", "applied"),
            ("undelivered", "applied")
        ]
    );
    assert_eq!(receipts[1].reminder_id, Some(ids[0]));
    assert_eq!(receipts[1].provider_message_id, Some(format!("F{}", ids[0])));
    assert_eq!(receipts[1].received_at, now().timestamp());
    assert!(
        receipts.iter().all(|r| !r.raw.contains("secret")),
        "tokens are not kept"
    );
    receiver.stop().await;
    sql.close().await;
}

async fn jasmin_receipts_settle_reminders_by_its_uuid(db: &TestDb) {
    let ids = pending_reminders(db, 2).await;
    let sql = Sql::open(db).await;
    let uuids = [
        "07033084-5cfd-4812-90a4-e4d24ffb6e3d",
        "c723d42a-0b1e-4d7c-9a55-2f7e2b7b1a00",
    ];
    for (id, uuid) in ids.iter().zip(uuids) {
        sql.mark_sent(*id, "jasmin", Some(uuid), SENT_AT).await;
    }
    let receiver = Receiver::start(db).await;
    let path = format!("/receipts/jasmin?token={}", token("jasmin"));
    let form = |uuid: &str, status: &str, level: u8| {
        format!("id={uuid}&message_status={status}&level={level}&connector=mock&id_smsc=77&sub=001&dlvrd=001")
    };
    let ct = "application/x-www-form-urlencoded";
    // An upper-cased Jasmin id still matches: ids are normalised to lower case.
    let answers = [
        receiver
            .post(&path, ct, form(&uuids[0].to_uppercase(), "ESME_ROK", 1))
            .await,
        receiver.post(&path, ct, form(uuids[0], "DELIVRD", 3)).await,
        receiver.post(&path, ct, form(uuids[1], "EXPIRED", 2)).await,
    ];
    assert!(
        answers.iter().all(|a| *a == (200, "ACK/Jasmin".to_string())),
        "{answers:?}"
    );
    assert_eq!(sql.delivery(ids[0]).await.status, "delivered");
    let expired = sql.delivery(ids[1]).await;
    assert_eq!(
        (expired.status.as_str(), expired.reason.as_deref()),
        ("undelivered", Some("expired at the operator"))
    );
    let receipts = sql.receipts().await;
    assert_eq!(receipts.len(), 3);
    assert_eq!(receipts[0].provider_message_id.as_deref(), Some(uuids[0]));
    assert_eq!(
        (receipts[0].status.as_str(), receipts[0].outcome.as_str()),
        ("accepted", "noted")
    );
    assert_eq!(receipts[2].status, "expired");
    receiver.stop().await;
    sql.close().await;
}

async fn twilio_callbacks_settle_reminders_by_sid(db: &TestDb) {
    let ids = pending_reminders(db, 2).await;
    let sql = Sql::open(db).await;
    let sids = [
        "SM0123456789abcdef0123456789abcdef",
        "SMfedcba9876543210fedcba9876543210",
    ];
    for (id, sid) in ids.iter().zip(sids) {
        sql.mark_sent(*id, "twilio", Some(sid), SENT_AT).await;
    }
    let receiver = Receiver::start(db).await;
    for (sid, status) in [(sids[0], "sent"), (sids[0], "delivered"), (sids[1], "undelivered")] {
        let mut form = vec![
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("ApiVersion", "2010-04-01"),
            ("From", "+15005550006"),
            ("MessageSid", sid),
            ("MessageStatus", status),
            ("SmsSid", sid),
            ("SmsStatus", status),
            ("To", "+6281200000001"),
        ];
        if status == "undelivered" {
            form.push(("ErrorCode", "30003"));
        }
        let signature = receiver.twilio_signature("/receipts/twilio", &form);
        let answer = receiver.post_twilio("/receipts/twilio", &form, Some(signature)).await;
        assert_eq!(answer, (200, String::new()), "{status}");
    }
    assert_eq!(sql.delivery(ids[0]).await.status, "delivered");
    assert_eq!(sql.delivery(ids[1]).await.status, "undelivered");
    let receipts = sql.receipts().await;
    assert_eq!(receipts.len(), 3);
    assert!(receipts[2].raw.contains("ErrorCode=30003"));
    receiver.stop().await;
    sql.close().await;
}

fn infobip_result(message_id: &str, callback: Option<String>, group: &str, id: u16, name: &str) -> serde_json::Value {
    let mut result = json!({
        "bulkId": "bulk-1", "messageId": message_id, "to": "6281200000001", "sender": "PENGINGAT",
        "sentAt": "2025-07-15T02:00:00.000+0000", "doneAt": "2025-07-15T02:00:05.000+0000",
        "messageCount": 1, "mccMnc": "51010", "price": {"pricePerMessage": 0, "currency": "IDR"},
        "status": {"groupId": 3, "groupName": group, "id": id, "name": name, "description": "d"},
        "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "description": "No Error",
                  "permanent": false},
    });
    if let Some(data) = callback {
        result["callbackData"] = json!(data);
    }
    result
}

async fn infobip_batches_settle_each_reminder(db: &TestDb) {
    let ids = pending_reminders(db, 3).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[0], "infobip", Some(&format!("pengingat-{}", ids[0])), SENT_AT)
        .await;
    sql.mark_sent(ids[1], "infobip", Some("ib-2"), SENT_AT).await;
    sql.mark_sent(ids[2], "infobip", Some("ib-3"), SENT_AT).await;
    let receiver = Receiver::start(db).await;
    let body = json!({"results": [
        infobip_result(&format!("pengingat-{}", ids[0]), None, "DELIVERED", 2, "DELIVERED_TO_OPERATOR"),
        infobip_result(&format!("pengingat-{}", ids[0]), None, "DELIVERED", 5, "DELIVERED_TO_HANDSET"),
        infobip_result("ib-2", Some(ids[1].to_string()), "UNDELIVERABLE", 9, "UNDELIVERABLE_NOT_DELIVERED"),
        infobip_result("ib-3", None, "DELIVERED", 5, "DELIVERED_TO_HANDSET"),
    ]});
    let path = format!("/receipts/infobip?token={}", token("infobip"));
    let answer = receiver.post(&path, "application/json", body.to_string()).await;
    assert_eq!(answer, (200, String::new()));
    let statuses = [
        sql.delivery(ids[0]).await.status,
        sql.delivery(ids[1]).await.status,
        sql.delivery(ids[2]).await.status,
    ];
    assert_eq!(statuses, ["delivered", "undelivered", "delivered"]);
    let receipts = sql.receipts().await;
    assert_eq!(receipts.len(), 4, "one row per report of the batch");
    assert_eq!(
        receipts.iter().map(|r| r.reminder_id).collect::<Vec<_>>(),
        [Some(ids[0]), Some(ids[0]), Some(ids[1]), Some(ids[2])]
    );
    assert!(receipts[3].raw.contains("\"messageId\":\"ib-3\""));
    receiver.stop().await;
    sql.close().await;
}

async fn webhook_receipts_settle_reminders_by_either_id(db: &TestDb) {
    let ids = pending_reminders(db, 2).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[0], "webhook", Some("m-1"), SENT_AT).await;
    sql.mark_sent(ids[1], "webhook", Some("m-2"), SENT_AT).await;
    let receiver = Receiver::start(db).await;
    let post = |body: serde_json::Value| {
        receiver
            .http
            .post(receiver.url("/receipts/webhook"))
            .bearer_auth(token("webhook"))
            .json(&body)
            .send()
    };
    let by_id = post(
        json!({"id": ids[0].to_string(), "message_id": "m-1", "status": "delivered",
                            "at": "2025-07-15T02:59:00.000Z"}),
    )
    .await
    .unwrap();
    assert_eq!(by_id.status(), 200);
    assert_eq!(by_id.text().await.unwrap(), "{}");
    let by_message_id = post(json!({"id": null, "message_id": "m-2", "status": "failed"}))
        .await
        .unwrap();
    assert_eq!(by_message_id.status(), 200);
    assert_eq!(sql.delivery(ids[0]).await.status, "delivered");
    assert_eq!(sql.delivery(ids[1]).await.status, "undelivered");
    receiver.stop().await;
    sql.close().await;
}
