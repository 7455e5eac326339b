//! Kannel's report values are bitmasks, and its `%A` names the SMSC's
//! reason: reminders sent through the daemon's own Kannel client (its
//! `dlr-url`) to the mock gateway, which reports like a real Kannel (2, 34
//! with `stat:EXPIRED`, 16 with `NACK/…`), end delivered or undelivered
//! with the SMSC's words in the reason; combined values (9, 18, 34) and an
//! 8 after a 1 settle hand-written reports the same way.

use std::sync::Arc;
use std::time::Duration;

use mock_sms_gateway::{KannelFailure, MockGatewayConfig, ReceiptConfig, kannel_failure_of};
use pengingat::channels::{GatewayPool, OutboundSms};
use pengingat::clock::FixedClock;
use pengingat::config::delivery::SmsSettings;

use super::{Receiver, Sql, now, pending_reminders, token};
use crate::helpers::*;
use crate::mock_gateway::{Gateway, MockClock};

both_backends!(
    kannel_failures_keep_the_smscs_reason_end_to_end,
    kannel_combined_values_and_late_acknowledgements_settle_reminders,
);

const UNDELIVERED: &str = "not delivered to the handset (delivery receipt)";
const EXPIRED: &str = "expired at the operator";

/// The mock gateway on loopback, sending its receipts at once; every
/// message delivered, or none.
pub(super) async fn start_mock(delivered: bool) -> Gateway {
    let config = MockGatewayConfig {
        receipts: ReceiptConfig {
            delay: Duration::ZERO,
            delivered_ratio: if delivered { 1.0 } else { 0.0 },
            ..ReceiptConfig::default()
        },
        clock: Arc::new(MockClock(FixedClock::at(now()))),
        ..MockGatewayConfig::default()
    };
    Gateway::start(config).await
}

/// The daemon's Kannel client for the mock at `base`, asking for receipts
/// at the receiver; `extra`: more TOML lines for the gateway.
pub(super) fn kannel_pool(base: &str, receiver: &Receiver, secrets: &tempfile::TempDir, extra: &str) -> GatewayPool {
    let password = secrets.path().join("kannel.password");
    std::fs::write(&password, "kannel\n").unwrap();
    let receipt_token = secrets.path().join("kannel.token");
    std::fs::write(&receipt_token, token("kannel")).unwrap();
    let toml = format!(
        "[[gateway]]\nname = \"kannel\"\npreset = \"kannel\"\nbase_url = \"{base}\"\nusername = \"kannel\"\n\
         password_file = \"{}\"\nreceipt_token_file = \"{}\"\n{extra}",
        password.display(),
        receipt_token.display()
    );
    let sms: SmsSettings = toml::from_str(&toml).unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    GatewayPool::from_settings(&sms, &receiver.base, http).unwrap()
}

/// The reason a reminder failing with `failure` ends with.
fn expected_reason(failure: KannelFailure) -> String {
    match failure {
        KannelFailure::Undelivered => format!("{UNDELIVERED}; SMSC: stat:UNDELIV err:001"),
        KannelFailure::Expired => format!("{EXPIRED}; SMSC: stat:EXPIRED err:022"),
        KannelFailure::Rejected => format!("{UNDELIVERED}; SMSC: NACK/0x00000045/Submit failed"),
    }
}

async fn kannel_failures_keep_the_smscs_reason_end_to_end(db: &TestDb) {
    let ids = pending_reminders(db, 12).await;
    let sql = Sql::open(db).await;
    let receiver = Receiver::start(db).await;
    let secrets = tempfile::tempdir().unwrap();
    let (mut seen, mut ids) = (Vec::new(), ids.into_iter());
    for delivered in [false, true] {
        let mock = start_mock(delivered).await;
        let pool = kannel_pool(&mock.base, &receiver, &secrets, "");
        for i in 0..6 {
            let id = ids.next().unwrap();
            let sms = OutboundSms {
                reminder_id: id,
                to: format!("+62812000000{:02}", i + 1),
                text: format!("Yth. peserta, iuran Juli 2025 jatuh tempo 15/07/2025. Ref {id}"),
            };
            sql.mark_sending(id).await;
            let accepted = pool.send(&sms).await.unwrap();
            assert_eq!((accepted.gateway.as_str(), accepted.message_id), ("kannel", None));
            sql.record_sent(id, "kannel", None, now().timestamp()).await;
            let settled = sql.wait_final(id).await;
            if delivered {
                assert_eq!((settled.status.as_str(), settled.reason), ("delivered", None));
                continue;
            }
            let failure = kannel_failure_of(&sms.to, &sms.text);
            seen.push(failure);
            assert_eq!(settled.status, "undelivered", "{failure:?}");
            assert_eq!(settled.reason.as_deref(), Some(expected_reason(failure).as_str()));
        }
        mock.stop().await;
    }
    for failure in [
        KannelFailure::Undelivered,
        KannelFailure::Expired,
        KannelFailure::Rejected,
    ] {
        assert!(seen.contains(&failure), "{failure:?} never occurred: {seen:?}");
    }
    let raws: Vec<String> = sql.receipts().await.into_iter().map(|r| r.raw).collect();
    assert!(raws.iter().any(|r| r.contains("status=34&")), "{raws:?}");
    assert!(raws.iter().all(|r| !r.contains("token")), "{raws:?}");
    receiver.stop().await;
    sql.close().await;
}

async fn kannel_combined_values_and_late_acknowledgements_settle_reminders(db: &TestDb) {
    let ids = pending_reminders(db, 6).await;
    let sql = Sql::open(db).await;
    for id in &ids {
        sql.mark_sent(*id, "kannel", None, now().timestamp() - 3_600).await;
    }
    let receiver = Receiver::start(db).await;
    let dlr = |id: i64, d: u8| {
        format!(
            "/receipts/kannel?id={id}&status={d}&smsc=mock&token={}",
            token("kannel")
        )
    };
    // An 8 after a 1 (the SMSC's acknowledgement overtaken) changes nothing.
    let reports = [
        (ids[0], 1),
        (ids[0], 8),
        (ids[1], 8),
        (ids[1], 1),
        (ids[2], 9),
        (ids[3], 18),
        (ids[4], 34),
        (ids[5], 36),
    ];
    for (id, d) in reports {
        assert_eq!(receiver.get(&dlr(id, d)).await, (200, String::new()), "%d = {d}");
    }
    let status = |d: super::Delivery| (d.status, d.reason);
    for id in &ids[..3] {
        assert_eq!(status(sql.delivery(*id).await), ("delivered".into(), None), "{id}");
    }
    for id in &ids[3..5] {
        assert_eq!(
            status(sql.delivery(*id).await),
            ("undelivered".into(), Some(UNDELIVERED.into())),
            "{id}"
        );
    }
    assert_eq!(sql.delivery(ids[5]).await.status, "sent", "36 is buffered, not final");
    let expired = "id%3A1+sub%3A001+dlvrd%3A000+stat%3AEXPIRED+err%3A022+text%3AYth.";
    let late = format!("{}&answer={expired}", dlr(ids[5], 34));
    assert_eq!(receiver.get(&late).await.0, 200);
    assert_eq!(
        status(sql.delivery(ids[5]).await),
        (
            "undelivered".into(),
            Some(format!("{EXPIRED}; SMSC: stat:EXPIRED err:022"))
        )
    );
    assert_eq!(receiver.get(&dlr(ids[0], 0)).await.0, 400, "0 is no report");
    receiver.stop().await;
    sql.close().await;
}
