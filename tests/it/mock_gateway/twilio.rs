//! Twilio: `POST …/Messages.json` and signed status callbacks.

use axum::http::StatusCode;
use mock_sms_gateway::{MockGatewayConfig, Preset};
use pengingat::channels::sms::providers::verify_twilio_signature;
use serde_json::{Value, json};

use super::{Gateway, Receiver, config};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-token";

fn twilio_config() -> MockGatewayConfig {
    let mut config = config();
    config.credentials.twilio_account_sid = SID.into();
    config.credentials.twilio_auth_token = TOKEN.into();
    config
}

async fn create(gateway: &Gateway, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let url = gateway.url(&format!("/2010-04-01/Accounts/{SID}/Messages.json"));
    let response = gateway
        .http
        .post(url)
        .basic_auth(SID, Some(TOKEN))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn error(code: u32, message: &str, status: u16) -> Value {
    json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}

#[tokio::test]
async fn creates_the_message_resource_and_sends_signed_callbacks() {
    let receiver = Receiver::start().await;
    let gateway = Gateway::start(twilio_config()).await;
    let callback = receiver.url("/dlr/twilio?id=ref-9");
    let form = [
        ("To", "+6281234567890"),
        ("From", "PENGINGAT"),
        ("Body", "Iuran Anda jatuh tempo"),
        ("StatusCallback", callback.as_str()),
        ("SmartEncoded", "true"),
        ("SomethingTwilioAddsLater", "ignored"),
    ];
    let (status, resource) = create(&gateway, &form).await;
    assert_eq!(status, StatusCode::CREATED);
    let sid = resource["sid"].as_str().unwrap().to_string();
    assert!(sid.len() == 34 && sid.starts_with("SM") && sid[2..].chars().all(|c| c.is_ascii_hexdigit()));
    let expected = json!({
        "account_sid": SID,
        "api_version": "2010-04-01",
        "body": "Iuran Anda jatuh tempo",
        "date_created": "Thu, 10 Jul 2025 08:30:00 +0000",
        "date_sent": null,
        "date_updated": "Thu, 10 Jul 2025 08:30:00 +0000",
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": "PENGINGAT",
        "messaging_service_sid": null,
        "num_media": "0",
        "num_segments": "1",
        "price": null,
        "price_unit": null,
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": format!("/2010-04-01/Accounts/{SID}/Messages/{sid}/Media.json")},
        "to": "+6281234567890",
        "uri": format!("/2010-04-01/Accounts/{SID}/Messages/{sid}.json"),
    });
    assert_eq!(resource, expected);

    let message = &gateway.messages().await[0];
    assert_eq!(
        (message.preset, message.message_id.as_str()),
        (Preset::Twilio, sid.as_str())
    );
    assert_eq!(message.reference.as_deref(), Some("ref-9"));

    let callbacks = receiver.wait_for(2).await;
    for (callback_request, status) in callbacks.iter().zip(["sent", "delivered"]) {
        let params = callback_request.form();
        assert_eq!(callback_request.param("MessageStatus").as_deref(), Some(status));
        assert_eq!(callback_request.param("SmsStatus").as_deref(), Some(status));
        assert_eq!(callback_request.param("MessageSid"), Some(sid.clone()));
        assert_eq!(callback_request.param("SmsSid"), Some(sid.clone()));
        assert_eq!(callback_request.param("AccountSid").as_deref(), Some(SID));
        assert_eq!(callback_request.param("From").as_deref(), Some("PENGINGAT"));
        assert_eq!(callback_request.param("To").as_deref(), Some("+6281234567890"));
        assert_eq!(callback_request.param("ApiVersion").as_deref(), Some("2010-04-01"));
        assert_eq!(callback_request.param("ErrorCode"), None);
        let signature = callback_request.header("x-twilio-signature").unwrap();
        assert!(
            verify_twilio_signature(TOKEN, &callback, &params, &signature),
            "{status} is signed"
        );
        assert!(!verify_twilio_signature(
            "another-token",
            &callback,
            &params,
            &signature
        ));
    }
    assert_eq!(callbacks[1].param("RawDlrDoneDate").as_deref(), Some("2507100830"));
    gateway.stop().await;
}

#[tokio::test]
async fn an_undelivered_message_reports_its_error_code() {
    let receiver = Receiver::start().await;
    let mut config = twilio_config();
    config.receipts.delivered_ratio = 0.0;
    let gateway = Gateway::start(config).await;
    let callback = receiver.url("/dlr/twilio");
    let service = "MG0123456789abcdef0123456789abcdef";
    let form = [
        ("To", "+6281234567890"),
        ("MessagingServiceSid", service),
        ("Body", "Halo"),
        ("StatusCallback", callback.as_str()),
    ];
    let (status, resource) = create(&gateway, &form).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(resource["from"], Value::Null);
    assert_eq!(resource["messaging_service_sid"], service);
    let callbacks = receiver.wait_for(2).await;
    assert_eq!(callbacks[1].param("MessageStatus").as_deref(), Some("undelivered"));
    assert_eq!(callbacks[1].param("ErrorCode").as_deref(), Some("30003"));
    assert_eq!(callbacks[1].param("MessagingServiceSid").as_deref(), Some(service));
    let signature = callbacks[1].header("x-twilio-signature").unwrap();
    assert!(verify_twilio_signature(
        TOKEN,
        &callback,
        &callbacks[1].form(),
        &signature
    ));
    gateway.stop().await;
}

#[tokio::test]
async fn requests_are_validated_against_the_openapi_parameters() {
    let gateway = Gateway::start(twilio_config()).await;
    let cases: [(&[(&str, &str)], Value); 6] = [
        (
            &[("From", "X"), ("Body", "a")],
            error(21604, "A 'To' phone number is required.", 400),
        ),
        (
            &[("To", "081234567890"), ("From", "X"), ("Body", "a")],
            error(21211, "The 'To' number 081234567890 is not a valid phone number.", 400),
        ),
        (
            &[("To", "+6281234567890"), ("Body", "a")],
            error(
                21603,
                "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
                400,
            ),
        ),
        (
            &[("To", "+6281234567890"), ("From", "X")],
            error(21602, "Message body is required.", 400),
        ),
        (
            &[
                ("To", "+6281234567890"),
                ("From", "X"),
                ("Body", "a"),
                ("StatusCallback", "https://bad_host.example/cb"),
            ],
            error(
                21609,
                "The StatusCallback URL https://bad_host.example/cb is not a valid URL.",
                400,
            ),
        ),
        (
            &[
                ("To", "+6281234567890"),
                ("MessagingServiceSid", "MG123"),
                ("Body", "a"),
            ],
            error(21701, "The Messaging Service Sid MG123 is invalid.", 400),
        ),
    ];
    for (form, expected) in cases {
        assert_eq!(
            create(&gateway, form).await,
            (StatusCode::BAD_REQUEST, expected),
            "{form:?}"
        );
    }
    assert!(gateway.messages().await.is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn bad_credentials_get_401() {
    let gateway = Gateway::start(twilio_config()).await;
    let url = gateway.url(&format!("/2010-04-01/Accounts/{SID}/Messages.json"));
    let form = [("To", "+6281234567890"), ("From", "X"), ("Body", "a")];
    let response = gateway
        .http
        .post(&url)
        .basic_auth(SID, Some("wrong"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        error(20003, "Authenticate", 401)
    );
    let anonymous = gateway.http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    gateway.stop().await;
}
