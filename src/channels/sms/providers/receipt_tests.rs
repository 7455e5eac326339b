//! Each preset's receipts, read from the exact fields the mock gateway (and
//! the real gateway) sends.

use serde_json::Value;

use super::infobip::reminder_id_in_callback_data;
use super::*;
use crate::store::ReceiptState;

fn settings() -> WebhookReceiptSettings {
    WebhookReceiptSettings::default()
}

/// Reads one callback of `preset` from a gateway whose webhook receipts read as `webhook` says.
fn parse(
    preset: Preset,
    webhook: &WebhookReceiptSettings,
    query: Option<&str>,
    body: &[u8],
) -> Result<Vec<ParsedReceipt>, ParseError> {
    let gateway = CallbackGateway {
        name: "gw-1".into(),
        preset,
        token: None,
        auth_token: None,
        webhook: webhook.clone(),
        signed: false,
    };
    preset.provider().receipts(&gateway, query, body)
}

fn one(preset: Preset, query: Option<&str>, body: &str) -> ParsedReceipt {
    let mut all = parse(preset, &settings(), query, body.as_bytes()).unwrap();
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn state(preset: Preset, query: Option<&str>, body: &str) -> ReceiptState {
    one(preset, query, body).state
}

#[test]
fn kannel_dlr_values_map_to_receipt_states() {
    let q = |d: &str| format!("id=42&status={d}&smsc=mock&fid=4242&ts=1752136260&token=s3cret");
    for (d, expected) in [
        ("1", ReceiptState::Delivered),
        ("2", ReceiptState::Undelivered),
        ("16", ReceiptState::Undelivered),
        ("4", ReceiptState::Buffered),
        ("8", ReceiptState::Sent),
        ("9", ReceiptState::Delivered),
        ("18", ReceiptState::Undelivered),
        ("34", ReceiptState::Undelivered),
        ("36", ReceiptState::Buffered),
        ("40", ReceiptState::Sent),
    ] {
        assert_eq!(state(Preset::Kannel, Some(&q(d)), ""), expected, "%d = {d}");
    }
    for d in ["0", "64", "256"] {
        let error = parse(Preset::Kannel, &settings(), Some(&q(d)), b"").unwrap_err();
        assert_eq!(
            error,
            ParseError::Invalid {
                field: "status".into(),
                value: d.into()
            }
        );
    }
    let r = one(Preset::Kannel, Some(&q("1")), "");
    assert_eq!(r.reminder_id, Some(42));
    assert_eq!(r.provider_message_id.as_deref(), Some("4242"));
    assert_eq!(
        r.raw, "id=42&status=1&smsc=mock&fid=4242&ts=1752136260",
        "the token is not kept"
    );
}

#[test]
fn kannel_keeps_the_smsc_answer_as_the_detail() {
    let q = |d: &str, a: &str| format!("id=42&status={d}&answer={a}&fid=4242&token=s3cret");
    let expired = one(
        Preset::Kannel,
        Some(&q(
            "34",
            "id%3A4242+sub%3A001+dlvrd%3A000+stat%3AEXPIRED+err%3A022+text%3AIuran+Anda",
        )),
        "",
    );
    assert_eq!(expired.state, ReceiptState::Expired);
    assert_eq!(expired.detail.as_deref(), Some("stat:EXPIRED err:022"));
    let nack = one(Preset::Kannel, Some(&q("16", "NACK%2F0x00000045%2FSubmit+failed")), "");
    assert_eq!(nack.state, ReceiptState::Undelivered);
    assert_eq!(nack.detail.as_deref(), Some("NACK/0x00000045/Submit failed"));
    assert_eq!(one(Preset::Kannel, Some(&q("1", "")), "").detail, None);
}

#[test]
fn kannel_without_our_id_or_status_is_refused() {
    let err = |q: &str| parse(Preset::Kannel, &settings(), Some(q), b"").unwrap_err();
    assert_eq!(err("status=1"), ParseError::Missing("id".into()));
    assert_eq!(err("id=42"), ParseError::Missing("status".into()));
    assert_eq!(
        err("id=abc&status=1"),
        ParseError::Invalid {
            field: "id".into(),
            value: "abc".into()
        }
    );
    assert_eq!(
        err("id=42&status=%d"),
        ParseError::Invalid {
            field: "status".into(),
            value: "%d".into()
        }
    );
    assert!(matches!(err("id=0&status=1"), ParseError::Invalid { .. }));
}

#[test]
fn jasmin_statuses_map_and_ids_are_lower_cased() {
    let body = |status: &str, level: u8| {
        format!("id=07033084-5CFD-4812-90A4-E4D24FFB6E3D&message_status={status}&level={level}&connector=mock")
    };
    for (status, level, expected) in [
        ("DELIVRD", 3, ReceiptState::Delivered),
        ("UNDELIV", 2, ReceiptState::Undelivered),
        ("REJECTD", 2, ReceiptState::Undelivered),
        ("DELETED", 2, ReceiptState::Undelivered),
        ("EXPIRED", 2, ReceiptState::Expired),
        ("ACCEPTD", 2, ReceiptState::Sent),
        ("ENROUTE", 2, ReceiptState::Sent),
        ("UNKNOWN", 2, ReceiptState::Unknown),
        ("ESME_ROK", 1, ReceiptState::Accepted),
        ("ESME_RINVNUMDESTS", 1, ReceiptState::Undelivered),
    ] {
        assert_eq!(state(Preset::Jasmin, None, &body(status, level)), expected, "{status}");
    }
    let r = one(Preset::Jasmin, Some("token=x"), &body("DELIVRD", 3));
    assert_eq!(
        r.provider_message_id.as_deref(),
        Some("07033084-5cfd-4812-90a4-e4d24ffb6e3d")
    );
    assert_eq!(r.reminder_id, None);
    let get = one(Preset::Jasmin, Some("id=ABC&message_status=DELIVRD&level=2"), "");
    assert_eq!(get.provider_message_id.as_deref(), Some("abc"));
    assert_eq!(
        parse(Preset::Jasmin, &settings(), None, b"message_status=DELIVRD").unwrap_err(),
        ParseError::Missing("id".into())
    );
}

#[test]
fn twilio_statuses_map() {
    let body = |status: &str| {
        format!(
            "AccountSid=AC1&ApiVersion=2010-04-01&From=%2B15005550006&MessageSid=SM0123&MessageStatus={status}\
             &SmsSid=SM0123&SmsStatus={status}&To=%2B6281234567890"
        )
    };
    for (status, expected) in [
        ("delivered", ReceiptState::Delivered),
        ("read", ReceiptState::Delivered),
        ("undelivered", ReceiptState::Undelivered),
        ("failed", ReceiptState::Undelivered),
        ("sent", ReceiptState::Sent),
        ("queued", ReceiptState::Accepted),
        ("accepted", ReceiptState::Accepted),
        ("sending", ReceiptState::Accepted),
        ("partially_delivered", ReceiptState::Unknown),
    ] {
        assert_eq!(state(Preset::Twilio, None, &body(status)), expected, "{status}");
    }
    assert_eq!(
        one(Preset::Twilio, None, &body("sent")).provider_message_id.as_deref(),
        Some("SM0123")
    );
    assert_eq!(
        parse(Preset::Twilio, &settings(), None, b"MessageStatus=sent").unwrap_err(),
        ParseError::Missing("MessageSid".into())
    );
}

fn infobip_result(message_id: &str, group: &str, id: u16, callback: Option<&str>) -> Value {
    let mut v = serde_json::json!({
        "bulkId": "b1", "messageId": message_id, "to": "6281234567890",
        "status": {"groupId": 3, "groupName": group, "id": id, "name": "X", "description": "d"},
        "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "permanent": false},
    });
    if let Some(c) = callback {
        v["callbackData"] = c.into();
    }
    v
}

#[test]
fn infobip_batches_map_each_report() {
    let body = serde_json::json!({"results": [
        infobip_result("pengingat-7", "DELIVERED", 5, None),
        infobip_result("ib-2", "DELIVERED", 2, Some("reminder=8")),
        infobip_result("ib-3", "PENDING", 26, Some("9")),
        infobip_result("ib-4", "UNDELIVERABLE", 9, None),
        infobip_result("ib-5", "REJECTED", 12, None),
        infobip_result("ib-6", "EXPIRED", 15, None),
    ]})
    .to_string();
    let all = parse(Preset::Infobip, &settings(), None, body.as_bytes()).unwrap();
    let states: Vec<_> = all.iter().map(|r| r.state).collect();
    assert_eq!(
        states,
        [
            ReceiptState::Delivered,
            ReceiptState::Sent,
            ReceiptState::Buffered,
            ReceiptState::Undelivered,
            ReceiptState::Undelivered,
            ReceiptState::Expired,
        ]
    );
    let ids: Vec<_> = all.iter().map(|r| r.reminder_id).collect();
    assert_eq!(ids, [Some(7), Some(8), Some(9), None, None, None]);
    assert_eq!(all[3].provider_message_id.as_deref(), Some("ib-4"));
    assert!(all[0].raw.contains("\"messageId\":\"pengingat-7\""));
}

#[test]
fn infobip_refuses_a_batch_with_one_bad_report() {
    let mut bad = infobip_result("ib-1", "DELIVERED", 5, None);
    bad.as_object_mut().unwrap().remove("status");
    let body = serde_json::json!({"results": [infobip_result("ib-0", "DELIVERED", 5, None), bad]});
    assert_eq!(
        parse(Preset::Infobip, &settings(), None, body.to_string().as_bytes()).unwrap_err(),
        ParseError::Missing("results[1].status".into())
    );
    assert!(matches!(
        parse(Preset::Infobip, &settings(), None, b"{\"results\": 3}").unwrap_err(),
        ParseError::Json(_)
    ));
    assert!(matches!(
        parse(Preset::Infobip, &settings(), None, b"not json").unwrap_err(),
        ParseError::Json(_)
    ));
}

#[test]
fn callback_data_carries_the_reminder_id_in_several_spellings() {
    for (data, id) in [
        ("42", Some(42)),
        (" 42 ", Some(42)),
        ("reminder=42", Some(42)),
        ("participant=9&reminder_id=42", Some(42)),
        ("id:42", Some(42)),
        ("participant=9", None),
        ("", None),
    ] {
        assert_eq!(reminder_id_in_callback_data(data), id, "{data:?}");
    }
}

#[test]
fn webhook_receipts_follow_the_configured_pointers() {
    let r = one(
        Preset::Webhook,
        None,
        r#"{"id": "42", "message_id": " 9b7c ", "status": "delivered", "at": "2025-07-10T08:30:00.000Z"}"#,
    );
    assert_eq!(
        (r.reminder_id, r.provider_message_id.as_deref()),
        (Some(42), Some("9b7c"))
    );
    assert_eq!(r.state, ReceiptState::Delivered);
    for (status, expected) in [
        ("undelivered", ReceiptState::Undelivered),
        ("FAILED", ReceiptState::Undelivered),
        ("expired", ReceiptState::Expired),
        ("sent", ReceiptState::Sent),
        ("whatever", ReceiptState::Unknown),
    ] {
        let body = format!(r#"{{"id": 42, "message_id": null, "status": "{status}"}}"#);
        assert_eq!(state(Preset::Webhook, None, &body), expected, "{status}");
    }
    let custom = WebhookReceiptSettings {
        id_pointer: "/meta/ref".into(),
        message_id_pointer: "/msg".into(),
        status_pointer: "/result/state".into(),
        delivered: vec!["OK".into()],
        undelivered: vec!["NOK".into()],
    };
    let body = br#"[{"meta": {"ref": 5}, "msg": 77, "result": {"state": "ok"}}]"#;
    let all = parse(Preset::Webhook, &custom, None, body).unwrap();
    assert_eq!(all[0].reminder_id, Some(5));
    assert_eq!(all[0].provider_message_id.as_deref(), Some("77"));
    assert_eq!(all[0].state, ReceiptState::Delivered);
}

#[test]
fn webhook_receipts_without_an_id_or_status_are_refused() {
    let err = |body: &str| parse(Preset::Webhook, &settings(), None, body.as_bytes()).unwrap_err();
    assert_eq!(err(r#"{"status": "delivered"}"#), ParseError::Unidentified);
    assert_eq!(err(r#"{"id": 4}"#), ParseError::Missing("/status".into()));
    assert!(matches!(
        err(r#"{"id": "x1", "status": "delivered"}"#),
        ParseError::Invalid { .. }
    ));
    assert!(matches!(err("42"), ParseError::Json(_)));
}
