//! Every preset against the mock gateway: the message arrives with the right
//! fields, the gateway's message id comes back, encoding and segments are
//! recorded.

use mock_sms_gateway::Preset as Wire;
use pengingat::channels::{ChannelConfigError, SmsEncoding};
use pengingat::config::delivery::Preset;

use super::*;

/// Sends [`GSM_TEXT`] as reminder 42 and [`UCS2_TEXT`] as 43 through a
/// one-gateway pool of `preset`; returns both acceptances and recordings.
async fn send_both(preset: Preset) -> Vec<(pengingat::channels::SmsAccepted, RecordedMessage)> {
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let pool = pool(vec![gateway("gw-1", preset, &mock.base, &secrets)]);
    let mut out = Vec::new();
    for (id, text) in [(42, GSM_TEXT), (43, UCS2_TEXT)] {
        let accepted = pool.send(&sms(id, text)).await.unwrap();
        let recorded = only_message(&mock).await;
        mock.http.delete(mock.url("/messages")).send().await.unwrap();
        assert_eq!(accepted.gateway, "gw-1");
        assert_eq!(recorded.text, text, "the gateway decoded the text we meant");
        assert_eq!(recorded.from.as_deref(), Some("BPJSTKU"));
        out.push((accepted, recorded));
    }
    let (gsm, ucs2) = (&out[0].0, &out[1].0);
    assert_eq!((gsm.encoding, gsm.segments), (SmsEncoding::Gsm7, 1));
    assert_eq!((ucs2.encoding, ucs2.segments), (SmsEncoding::Ucs2, 1));
    mock.stop().await;
    out
}

#[tokio::test]
async fn kannel_gets_a_dlr_url_with_our_id_and_the_coding() {
    let sent = send_both(Preset::Kannel).await;
    let (accepted, recorded) = &sent[0];
    assert_eq!(recorded.preset, Wire::Kannel);
    assert_eq!(recorded.to, TO);
    assert_eq!(recorded.coding, Some(0));
    assert_eq!(
        accepted.message_id, None,
        "Kannel gives no id: our id is in the dlr-url"
    );
    assert_eq!(recorded.reference.as_deref(), Some("42"));
    assert_eq!(
        recorded.callback_url.as_deref(),
        Some(
            "https://pengingat.metrokota.go.id/receipts/gw-1?id=42&status=%d&answer=%A&smsc=%i&fid=%F&ts=%T&token=rahasia-kuitansi"
        )
    );
    assert_eq!(sent[1].1.coding, Some(2), "UCS-2 text is sent with coding=2");
}

#[tokio::test]
async fn jasmin_gets_digits_hex_content_for_ucs2_and_gives_its_uuid() {
    let sent = send_both(Preset::Jasmin).await;
    for (accepted, recorded) in &sent {
        assert_eq!(recorded.preset, Wire::Jasmin);
        assert_eq!(recorded.to, "6281234567890", "Jasmin takes the number without +");
        assert_eq!(accepted.message_id.as_deref(), Some(recorded.message_id.as_str()));
        assert_eq!(recorded.message_id.len(), 36, "a UUID");
    }
    assert_eq!(sent[0].1.coding, Some(0));
    assert_eq!(sent[1].1.coding, Some(8), "UCS-2 goes as hex-content with coding=8");
    assert_eq!(
        sent[0].1.callback_url.as_deref(),
        Some("https://pengingat.metrokota.go.id/receipts/gw-1?reminder=42&token=rahasia-kuitansi")
    );
}

#[tokio::test]
async fn twilio_gets_e164_and_a_status_callback_and_gives_the_sid() {
    let sent = send_both(Preset::Twilio).await;
    let (accepted, recorded) = &sent[0];
    assert_eq!(recorded.preset, Wire::Twilio);
    assert_eq!(recorded.to, TO);
    let sid = accepted.message_id.as_deref().unwrap();
    assert!(sid.starts_with("SM") && sid.len() == 34, "{sid}");
    assert_eq!(sid, recorded.message_id);
    assert_eq!(
        recorded.callback_url.as_deref(),
        Some("https://pengingat.metrokota.go.id/receipts/gw-1?id=42&token=rahasia-kuitansi")
    );
}

#[tokio::test]
async fn infobip_gets_our_message_id_and_callback_data() {
    let sent = send_both(Preset::Infobip).await;
    let (accepted, recorded) = &sent[0];
    assert_eq!(recorded.preset, Wire::Infobip);
    assert_eq!(recorded.to, "6281234567890");
    let key = format!("pengingat-{DEPLOYMENT}-42");
    assert_eq!(accepted.message_id.as_deref(), Some(key.as_str()));
    assert_eq!(recorded.message_id, key);
    assert_eq!(
        recorded.callback_url.as_deref(),
        Some("https://pengingat.metrokota.go.id/receipts/gw-1?token=rahasia-kuitansi")
    );
}

#[tokio::test]
async fn a_webhook_is_spoken_as_configured() {
    let sent = send_both(Preset::Webhook).await;
    let (accepted, recorded) = &sent[0];
    assert_eq!(recorded.preset, Wire::Webhook);
    assert_eq!(recorded.to, TO);
    assert_eq!(recorded.reference.as_deref(), Some("42"));
    assert_eq!(accepted.message_id.as_deref(), Some(recorded.message_id.as_str()));
    assert_eq!(
        recorded.callback_url.as_deref(),
        Some("https://pengingat.metrokota.go.id/receipts/gw-1?token=rahasia-kuitansi")
    );
}

#[tokio::test]
async fn long_texts_record_their_segments() {
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let pool = pool(vec![gateway("twilio", Preset::Twilio, &mock.base, &secrets)]);
    let text = GSM_TEXT.repeat(2);
    let accepted = pool.send(&sms(1, &text)).await.unwrap();
    assert_eq!((accepted.encoding, accepted.segments), (SmsEncoding::Gsm7, 2));
    let ucs2 = UCS2_TEXT.repeat(2);
    let accepted = pool.send(&sms(2, &ucs2)).await.unwrap();
    assert_eq!((accepted.encoding, accepted.segments), (SmsEncoding::Ucs2, 2));
    mock.stop().await;
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_at_start() {
    let secrets = Secrets::new();
    let base = "http://127.0.0.1:9";
    let settings = pengingat::config::delivery::SmsSettings::default();
    let build = |g: GatewaySettings| {
        let sms = pengingat::config::delivery::SmsSettings {
            gateways: vec![g],
            ..settings.clone()
        };
        pengingat::channels::GatewayPool::from_settings(&sms, PUBLIC_URL, reqwest::Client::new()).map(|_| ())
    };
    let reason = |r: Result<(), ChannelConfigError>| r.unwrap_err().to_string();

    let mut webhook = gateway("hook", Preset::Webhook, base, &secrets);
    webhook
        .webhook
        .as_mut()
        .unwrap()
        .fields
        .insert("nomor".into(), "{phone}".into());
    assert!(reason(build(webhook)).contains("unknown placeholder {phone}"));

    let mut twilio = gateway("twilio", Preset::Twilio, base, &secrets);
    twilio.username = Some("AC123".into());
    assert!(reason(build(twilio)).contains("Account SID"));

    let mut kannel = gateway("kannel", Preset::Kannel, base, &secrets);
    kannel.password_file = Some(PathBuf::from("/nonexistent/pengingat/kannel.password"));
    assert!(reason(build(kannel)).contains("password"));

    let mut kannel = gateway("kannel", Preset::Kannel, base, &secrets);
    kannel.receipt_token_file = Some(secrets.file("bad.token", "a%d&b"));
    assert!(reason(build(kannel)).contains("Kannel expands %"));

    let mut jasmin = gateway("jasmin", Preset::Jasmin, base, &secrets);
    jasmin.username = None;
    assert!(reason(build(jasmin)).contains("username"));
}

#[tokio::test]
async fn a_test_sms_normalises_the_number_and_refuses_a_bad_one() {
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let pool = pool(vec![gateway("kannel", Preset::Kannel, &mock.base, &secrets)]);
    let text = pengingat::channels::TEST_SMS_TEXT;
    let accepted = pengingat::channels::send_test_sms(&pool, "0812-3456-7890", text)
        .await
        .unwrap();
    assert_eq!((accepted.gateway.as_str(), accepted.segments), ("kannel", 1));
    let recorded = only_message(&mock).await;
    assert_eq!((recorded.to.as_str(), recorded.text.as_str()), (TO, text));
    assert_eq!(recorded.reference.as_deref(), Some("0"), "no reminder has id 0");

    let error = pengingat::channels::send_test_sms(&pool, "0211234567", text)
        .await
        .unwrap_err();
    assert!(
        !error.is_transient() && error.gateway() == Some("pengingat"),
        "{error:?}"
    );
    assert_eq!(mock.messages().await.len(), 1);
    mock.stop().await;
}
