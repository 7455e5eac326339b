//! Kannel: `GET /cgi-bin/sendsms` and `GET dlr-url` reports.

use axum::http::{Method, StatusCode};
use mock_sms_gateway::{FinalStatus, KannelFailure, Preset, kannel_failure_of};

use super::{Gateway, Receiver, config, now};

/// Percent-encodes a query value.
fn enc(value: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().append_pair("v", value);
    url.query().unwrap()[2..].to_string()
}

async fn sendsms(gateway: &Gateway, query: &str) -> (StatusCode, String, String) {
    let response = gateway
        .http
        .get(gateway.url(&format!("/cgi-bin/sendsms?{query}")))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn accepts_and_reports_smsc_then_handset_delivery() {
    let receiver = Receiver::start().await;
    let gateway = Gateway::start(config()).await;
    let dlr_url = receiver.url("/dlr/kannel?id=ref-1&st=%d&fid=%F&to=%P&ts=%T&smsc=%i&a=%A");
    let query = format!(
        "username=kannel&password=kannel&from=PENGINGAT&to={}&text={}&dlr-mask=11&dlr-url={}",
        enc("+6281234567890"),
        enc("Iuran Anda jatuh tempo 15/07/2025"),
        enc(&dlr_url)
    );
    let (status, content_type, body) = sendsms(&gateway, &query).await;
    assert_eq!(
        (status, content_type.as_str(), body.as_str()),
        (StatusCode::ACCEPTED, "text/html", "0: Accepted for delivery")
    );

    let messages = gateway.messages().await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.preset, Preset::Kannel);
    assert_eq!(message.to, "+6281234567890");
    assert_eq!(message.from.as_deref(), Some("PENGINGAT"));
    assert_eq!(message.text, "Iuran Anda jatuh tempo 15/07/2025");
    assert_eq!(message.reference.as_deref(), Some("ref-1"));
    assert_eq!(message.final_status, FinalStatus::Delivered);
    assert_eq!(message.received_at, now());

    let reports = receiver.wait_for(2).await;
    assert!(
        reports
            .iter()
            .all(|r| r.method == Method::GET && r.path == "/dlr/kannel")
    );
    assert_eq!(reports[0].param("st").as_deref(), Some("8"));
    assert_eq!(reports[0].param("a").as_deref(), Some("ACK/"));
    let last = &reports[1];
    assert_eq!(last.param("id").as_deref(), Some("ref-1"));
    assert_eq!(last.param("st").as_deref(), Some("1"));
    assert_eq!(last.param("to").as_deref(), Some("+6281234567890"));
    assert_eq!(last.param("ts"), Some(now().timestamp().to_string()));
    assert_eq!(last.param("smsc").as_deref(), Some("mock"));
    let fid = last.param("fid").unwrap();
    assert_eq!(
        last.param("a").unwrap(),
        format!(
            "id:{fid} sub:001 dlvrd:001 submit date:2507100830 done date:2507100830 stat:DELIVRD err:000 \
             text:Iuran Anda jatuh tem"
        )
    );
    gateway.stop().await;
}

#[tokio::test]
async fn undelivered_messages_report_what_a_real_kannel_reports() {
    let receiver = Receiver::start().await;
    let mut config = config();
    config.receipts.delivered_ratio = 0.0;
    let gateway = Gateway::start(config).await;
    // One text of each failure: 2 (UNDELIV), 34 (2 | 32, EXPIRED), 16 (the SMSC's NACK).
    let mut texts = Vec::new();
    for failure in [
        KannelFailure::Undelivered,
        KannelFailure::Expired,
        KannelFailure::Rejected,
    ] {
        let text = (0..)
            .map(|i| format!("Halo {i}"))
            .find(|t| kannel_failure_of("081234567890", t) == failure)
            .unwrap();
        texts.push((failure, text));
    }
    for (i, (_, text)) in texts.iter().enumerate() {
        let query = format!(
            "user=kannel&pass=kannel&to=081234567890&text={}&dlr-mask=19&dlr-url={}",
            enc(text),
            enc(&receiver.url(&format!("/dlr?n={i}&st=%d&a=%A&B=%B")))
        );
        assert_eq!(sendsms(&gateway, &query).await.0, StatusCode::ACCEPTED);
    }
    let reports = receiver.wait_for(3).await;
    let report = |n: usize| reports.iter().find(|r| r.param("n") == Some(n.to_string())).unwrap();
    assert_eq!(report(0).param("st").as_deref(), Some("2"));
    assert!(report(0).param("a").unwrap().contains(" stat:UNDELIV err:001 "));
    assert_eq!(report(1).param("st").as_deref(), Some("34"));
    assert!(report(1).param("a").unwrap().contains(" stat:EXPIRED err:022 "));
    assert_eq!(report(1).param("B").as_deref(), Some("022"));
    assert_eq!(report(2).param("st").as_deref(), Some("16"));
    assert_eq!(report(2).param("a").as_deref(), Some("NACK/0x00000045/Submit failed"));
    let messages = gateway.messages().await;
    assert!(messages.iter().all(|m| m.final_status == FinalStatus::Undelivered));
    gateway.stop().await;
}

#[tokio::test]
async fn ucs2_text_is_read_as_utf16be() {
    let gateway = Gateway::start(config()).await;
    let text = "Iuran – Rp16.800";
    let utf16: String = text
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .map(|b| format!("%{b:02X}"))
        .collect();
    let query = format!("username=kannel&password=kannel&to=%2B6281234567890&coding=2&text={utf16}");
    assert_eq!(sendsms(&gateway, &query).await.0, StatusCode::ACCEPTED);
    let message = &gateway.messages().await[0];
    assert_eq!(message.text, text);
    assert_eq!(message.coding, Some(2));
    gateway.stop().await;
}

#[tokio::test]
async fn refusals_use_smsbox_answers_and_record_nothing() {
    let gateway = Gateway::start(config()).await;
    let cases = [
        (
            "username=kannel&password=wrong&to=1&text=a",
            StatusCode::FORBIDDEN,
            "Authorization failed for sendsms",
        ),
        (
            "username=kannel&password=kannel&text=a",
            StatusCode::BAD_REQUEST,
            "Missing receiver number, rejected",
        ),
        (
            "username=kannel&password=kannel&to=&text=a",
            StatusCode::BAD_REQUEST,
            "Empty receiver number not allowed, rejected",
        ),
        (
            "username=kannel&password=kannel&to=%2B6281234567890",
            StatusCode::BAD_REQUEST,
            "Missing text, rejected",
        ),
        (
            "username=kannel&password=kannel&to=%2B6281234567890&text=a&dlr-mask=99",
            StatusCode::BAD_REQUEST,
            "DLR-Mask field misformed, rejected",
        ),
        (
            "username=kannel&password=kannel&to=%2B6281234567890&text=a&dlr-mask=19&dlr-url=ftp%3A%2F%2Fx",
            StatusCode::BAD_REQUEST,
            "DLR-URL field misformed, rejected",
        ),
        (
            "username=kannel&password=kannel&to=%2B6281234567890&text=a&coding=5",
            StatusCode::BAD_REQUEST,
            "Coding field misformed, rejected",
        ),
    ];
    for (query, status, body) in cases {
        let (got_status, content_type, got_body) = sendsms(&gateway, query).await;
        assert_eq!((got_status, got_body.as_str()), (status, body), "{query}");
        assert_eq!(content_type, "text/html");
    }
    assert!(gateway.messages().await.is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn several_recipients_are_several_messages() {
    let gateway = Gateway::start(config()).await;
    let query = "username=kannel&password=kannel&to=%2B6281111111111+%2B6282222222222&text=Halo";
    assert_eq!(sendsms(&gateway, query).await.0, StatusCode::ACCEPTED);
    let recipients: Vec<String> = gateway.messages().await.into_iter().map(|m| m.to).collect();
    assert_eq!(recipients, ["+6281111111111", "+6282222222222"]);
    gateway.stop().await;
}
