//! Opt-out: an SMS STOP (Kannel's get-url, the generic JSON) and the
//! operator's opt-out by NIK both flag the participant and cancel their
//! pending reminders in one transaction; DAFTAR and opt-in clear the flag.

use pengingat::domain::{Nik, PhoneNumber};

use super::{Receiver, Sql, now, pending_reminders, token};
use crate::helpers::*;

both_backends!(
    an_sms_stop_opts_out_and_cancels_pending_reminders,
    daftar_opts_back_in_and_other_texts_are_ignored,
    opt_out_by_nik_and_back_in,
);

const STOP_REPLY: &str = "Anda tidak akan menerima pengingat iuran lagi. Balas DAFTAR untuk berlangganan kembali.";

async fn an_sms_stop_opts_out_and_cancels_pending_reminders(db: &TestDb) {
    let ids = pending_reminders(db, 3).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[2], "kannel", None, now().timestamp() - 60).await;
    let receiver = Receiver::start(db).await;
    // Kannel's `%p` as the SMSC gives it, `%a` with the participant's punctuation.
    let path = format!(
        "/inbound/kannel?from=081200000001&text=%20Stop.%20&token={}",
        token("kannel")
    );
    let (status, body) = receiver.get(&path).await;
    assert_eq!((status, body.as_str()), (200, STOP_REPLY), "the reply SMS");
    assert_eq!(sql.opt_out("1872011205900001").await, (true, Some(now().timestamp())));
    let cancelled = sql.delivery(ids[0]).await;
    assert_eq!(
        (cancelled.status.as_str(), cancelled.reason.as_deref()),
        ("cancelled", Some("opted out"))
    );
    assert_eq!(sql.delivery(ids[1]).await.status, "pending", "another participant");
    assert_eq!(sql.opt_out("1872011205900002").await, (false, None));

    // BERHENTI from participant 3, whose reminder is already sent: flagged, the sent one kept.
    let path = format!("/inbound/webhook?token={}", token("webhook"));
    let body = serde_json::json!({"from": "+6281200000003", "text": "berhenti"}).to_string();
    let (status, reply) = receiver.post(&path, "application/json", body).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&reply).unwrap(),
        serde_json::json!({"reply": STOP_REPLY})
    );
    assert!(sql.opt_out("1872011205900003").await.0);
    assert_eq!(sql.delivery(ids[2]).await.status, "sent");
    assert!(sql.receipts().await.is_empty(), "inbound SMS are not receipts");
    receiver.stop().await;
    sql.close().await;
}

async fn daftar_opts_back_in_and_other_texts_are_ignored(db: &TestDb) {
    pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    let receiver = Receiver::start(db).await;
    let kannel = |text: &str, from: &str| format!("/inbound/kannel?from={from}&text={text}&token={}", token("kannel"));
    assert_eq!(receiver.get(&kannel("UNREG", "%2B6281200000001")).await.0, 200);
    assert!(sql.opt_out("1872011205900001").await.0);
    // Not a keyword: no reply (Kannel's omit-empty sends nothing), nothing changes.
    assert_eq!(
        receiver.get(&kannel("terima%20kasih", "%2B6281200000001")).await,
        (200, String::new())
    );
    assert!(sql.opt_out("1872011205900001").await.0);
    // Not an Indonesian mobile: ignored.
    assert_eq!(receiver.get(&kannel("DAFTAR", "12345")).await, (200, String::new()));
    assert!(sql.opt_out("1872011205900001").await.0);
    let (status, reply) = receiver.get(&kannel("Daftar", "%2B6281200000001")).await;
    assert_eq!(status, 200);
    assert!(reply.contains("Balas STOP"), "{reply}");
    assert_eq!(sql.opt_out("1872011205900001").await, (false, None));
    // A sender nobody has: acknowledged, nothing to change.
    assert_eq!(receiver.get(&kannel("STOP", "%2B6281299999999")).await.0, 200);
    let missing = format!("/inbound/kannel?text=STOP&token={}", token("kannel"));
    assert_eq!(receiver.get(&missing).await.0, 400);
    receiver.stop().await;
    sql.close().await;
}

async fn opt_out_by_nik_and_back_in(db: &TestDb) {
    let ids = pending_reminders(db, 2).await;
    let sql = Sql::open(db).await;
    let nik = Nik::parse("1872011205900001").unwrap();
    let out = db.store.set_opt_out_by_nik(&nik, true, now()).await.unwrap().unwrap();
    assert_eq!((out.opted_out, out.changed, out.cancelled_reminders), (true, true, 1));
    assert_eq!(out.nik, nik.as_str());
    assert_eq!(sql.delivery(ids[0]).await.reason.as_deref(), Some("opted out"));
    assert_eq!(sql.delivery(ids[1]).await.status, "pending");
    let later = now() + chrono::Duration::hours(1);
    let again = db.store.set_opt_out_by_nik(&nik, true, later).await.unwrap().unwrap();
    assert_eq!((again.changed, again.cancelled_reminders), (false, 0));
    assert_eq!(
        sql.opt_out(nik.as_str()).await,
        (true, Some(now().timestamp())),
        "the first opt-out's time stays"
    );
    let back = db.store.set_opt_out_by_nik(&nik, false, later).await.unwrap().unwrap();
    assert_eq!(
        (back.opted_out, back.changed, back.cancelled_reminders),
        (false, true, 0)
    );
    assert_eq!(sql.opt_out(nik.as_str()).await, (false, None));
    assert_eq!(
        sql.delivery(ids[0]).await.status,
        "cancelled",
        "opting in does not revive cancelled reminders"
    );
    let nobody = Nik::parse("1872011205909999").unwrap();
    assert_eq!(db.store.set_opt_out_by_nik(&nobody, true, now()).await.unwrap(), None);
    let phone = PhoneNumber::parse("081200000002").unwrap();
    let by_phone = db.store.opt_out_by_phone(&phone, now()).await.unwrap();
    assert_eq!(by_phone.len(), 1);
    assert_eq!(
        (by_phone[0].nik.as_str(), by_phone[0].cancelled_reminders),
        ("1872011205900002", 1)
    );
    sql.close().await;
}
