//! `receipt_auth = "signature"`: the daemon's Kannel `dlr-url` carries a
//! signature of the reminder id instead of the receipt token (which smsbox
//! would log), and the receipt route accepts a report only with the right
//! signature for its own reminder.

use pengingat::channels::OutboundSms;
use pengingat::channels::sms::providers::kannel_signature as signature;

use super::kannel_reports::{kannel_pool, start_mock};
use super::{Receiver, Sql, now, pending_reminders, token};
use crate::helpers::*;

both_backends!(
    signed_kannel_reports_keep_the_token_out_of_the_url_and_settle_reminders,
    kannel_reports_with_a_wrong_signature_are_refused_and_change_nothing,
);

const SIGNED: &str = "receipt_auth = \"signature\"\n";

async fn signed_kannel_reports_keep_the_token_out_of_the_url_and_settle_reminders(db: &TestDb) {
    let ids = pending_reminders(db, 2).await;
    let sql = Sql::open(db).await;
    let receiver = Receiver::start_with(db, SIGNED).await;
    let secrets = tempfile::tempdir().unwrap();
    let mock = start_mock(true).await;
    let pool = kannel_pool(&mock.base, &receiver, &secrets, SIGNED);
    for id in &ids {
        let sms = OutboundSms {
            reminder_id: *id,
            to: "+6281200000001".into(),
            text: format!("Yth. peserta, iuran Juli 2025 jatuh tempo 15/07/2025. Ref {id}"),
        };
        sql.mark_sending(*id).await;
        pool.send(&sms).await.unwrap();
        sql.record_sent(*id, "kannel", None, now().timestamp()).await;
        assert_eq!(sql.wait_final(*id).await.status, "delivered");
    }
    let all = receiver
        .http
        .get(mock.url("/messages"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(all.contains("sig="), "the dlr-url carries the signature: {all}");
    assert!(!all.contains(&token("kannel")), "the token never leaves: {all}");
    mock.stop().await;
    receiver.stop().await;
    sql.close().await;
}

async fn kannel_reports_with_a_wrong_signature_are_refused_and_change_nothing(db: &TestDb) {
    let ids = pending_reminders(db, 2).await;
    let sql = Sql::open(db).await;
    for id in &ids {
        sql.mark_sent(*id, "kannel", None, now().timestamp() - 3_600).await;
    }
    let receiver = Receiver::start_with(db, SIGNED).await;
    let key = token("kannel");
    let report = |id: i64, sig: &str| format!("/receipts/kannel?id={id}&status=1&sig={sig}");
    let (first, second) = (ids[0], ids[1]);
    let refused = [
        (
            "another reminder's signature",
            report(first, &signature(&key, "kannel", second)),
        ),
        (
            "another gateway's signature",
            report(first, &signature(&key, "jasmin", first)),
        ),
        (
            "signed with another key",
            report(first, &signature("lain", "kannel", first)),
        ),
        ("an empty signature", report(first, "")),
        (
            "no signature, no token",
            format!("/receipts/kannel?id={first}&status=1"),
        ),
        (
            "a signature without an id",
            format!("/receipts/kannel?status=1&sig={}", signature(&key, "kannel", first)),
        ),
    ];
    for (case, path) in refused {
        assert_eq!(receiver.get(&path).await.0, 401, "{case}");
    }
    assert_eq!(sql.delivery(first).await.status, "sent");
    assert!(sql.receipts().await.is_empty(), "nothing recorded");

    assert_eq!(
        receiver.get(&report(first, &signature(&key, "kannel", first))).await.0,
        200
    );
    assert_eq!(sql.delivery(first).await.status, "delivered");
    // A report of a message sent before the switch still carries the token.
    let with_token = format!("/receipts/kannel?id={second}&status=1&token={key}");
    assert_eq!(receiver.get(&with_token).await.0, 200);
    assert_eq!(sql.delivery(second).await.status, "delivered");
    receiver.stop().await;
    sql.close().await;
}
