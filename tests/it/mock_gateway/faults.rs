//! Faults on request: failures, rate limits, held requests, rejected numbers,
//! down and up.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Gateway, config, http};

const KANNEL: &str = "/cgi-bin/sendsms?username=kannel&password=kannel&to=%2B6281234567890&text=Halo";
const TWILIO_SID: &str = "AC00000000000000000000000000000000";

async fn kannel(gateway: &Gateway) -> (StatusCode, String) {
    let response = gateway.http.get(gateway.url(KANNEL)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn twilio(gateway: &Gateway, to: &str) -> reqwest::Response {
    let url = gateway.url(&format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"));
    let form = [("To", to), ("From", "PENGINGAT"), ("Body", "Halo")];
    gateway
        .http
        .post(url)
        .basic_auth(TWILIO_SID, Some("mock-auth-token"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn infobip(gateway: &Gateway, to: &str) -> reqwest::Response {
    let body = json!({"messages": [{"destinations": [{"to": to}], "content": {"text": "Halo"}}]});
    gateway
        .http
        .post(gateway.url("/sms/3/messages"))
        .header("Authorization", "App mock-infobip-key")
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn failures_for_n_sends_then_success() {
    let gateway = Gateway::start(config()).await;
    let shown = gateway.control(json!({"fail_next": 2, "status": 503})).await;
    assert_eq!(shown["fail_next"], 2);
    for _ in 0..2 {
        assert_eq!(
            kannel(&gateway).await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporal failure, try again later.".into()
            )
        );
    }
    assert_eq!(
        kannel(&gateway).await,
        (StatusCode::ACCEPTED, "0: Accepted for delivery".into())
    );
    assert_eq!(gateway.messages().await.len(), 1);
    assert_eq!(gateway.stats().await["faults_injected"], 2);
    gateway.stop().await;
}

#[tokio::test]
async fn failures_can_be_set_at_start() {
    let mut config = config();
    config.faults.fail_next = 1;
    config.faults.status = 500;
    let gateway = Gateway::start(config).await;
    let response = twilio(&gateway, "+6281234567890").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], 20500);
    assert_eq!(twilio(&gateway, "+6281234567890").await.status(), StatusCode::CREATED);
    gateway.stop().await;
}

#[tokio::test]
async fn rate_limits_carry_retry_after() {
    let gateway = Gateway::start(config()).await;
    gateway
        .control(json!({"rate_limit_next": 1, "retry_after_secs": 2}))
        .await;
    let limited = twilio(&gateway, "+6281234567890").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "2");
    assert_eq!(
        limited.json::<Value>().await.unwrap(),
        json!({"code": 20429, "message": "Too Many Requests",
               "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429})
    );
    assert_eq!(twilio(&gateway, "+6281234567890").await.status(), StatusCode::CREATED);
    gateway.stop().await;
}

#[tokio::test]
async fn a_held_request_times_out_at_the_client_and_the_next_one_passes() {
    let gateway = Gateway::start(config()).await;
    gateway.control(json!({"timeout_next": 1})).await;
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let form = [
        ("username", "jasmin"),
        ("password", "jasmin"),
        ("to", "+6281234567890"),
        ("content", "Halo"),
    ];
    let held = impatient.post(gateway.url("/send")).form(&form).send().await;
    assert!(held.is_err_and(|e| e.is_timeout()));
    let next = http().post(gateway.url("/send")).form(&form).send().await.unwrap();
    assert_eq!(next.status(), StatusCode::OK);
    assert_eq!(gateway.messages().await.len(), 1);
    let shown: Value = gateway.control_state().await;
    assert_eq!(shown["timeout_next"], 0);
    gateway.stop().await;
}

#[tokio::test]
async fn a_rejected_number_gets_each_presets_permanent_error() {
    let gateway = Gateway::start(config()).await;
    gateway.control(json!({"reject_numbers": ["+6281234567890"]})).await;

    assert_eq!(
        kannel(&gateway).await,
        (
            StatusCode::BAD_REQUEST,
            "Number(s) has/have been denied by white- and/or black-lists.".into()
        )
    );

    let form = [
        ("username", "jasmin"),
        ("password", "jasmin"),
        ("to", "6281234567890"),
        ("content", "Halo"),
    ];
    let jasmin = gateway.post_form("/send", &form).await;
    assert_eq!(jasmin.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        jasmin.text().await.unwrap(),
        "Error \"Argument [to] has an invalid value: [6281234567890].\""
    );

    let twilio = twilio(&gateway, "+6281234567890").await;
    assert_eq!(twilio.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        twilio.json::<Value>().await.unwrap(),
        json!({"code": 21211, "message": "The 'To' number +6281234567890 is not a valid phone number.",
               "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})
    );

    let infobip = infobip(&gateway, "6281234567890").await;
    assert_eq!(infobip.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        infobip.json::<Value>().await.unwrap(),
        json!({"requestError": {"serviceException": {
            "messageId": "BAD_REQUEST", "text": "Bad request",
            "validationErrors": {"messages[0].destinations[0].to": ["invalid destination address"]},
        }}})
    );

    let body = json!({"to": "081234567890", "text": "Halo"});
    let webhook = gateway.post_json("/webhook/send", &body).await;
    assert_eq!(webhook.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        webhook.json::<Value>().await.unwrap(),
        json!({"error": "recipient rejected"})
    );

    assert!(gateway.messages().await.is_empty());
    assert_eq!(infobip_status(&gateway, "6289999999999").await, StatusCode::OK);
    gateway.stop().await;
}

async fn infobip_status(gateway: &Gateway, to: &str) -> StatusCode {
    infobip(gateway, to).await.status()
}

#[tokio::test]
async fn down_answers_503_and_closes_until_up_again() {
    let gateway = Gateway::start(config()).await;
    gateway.control(json!({"down": true})).await;
    let down = infobip(&gateway, "6281234567890").await;
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.headers()["connection"], "close");
    assert_eq!(kannel(&gateway).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let shown = gateway.control(json!({"down": false})).await;
    assert_eq!(shown["down"], false);
    assert_eq!(infobip(&gateway, "6281234567890").await.status(), StatusCode::OK);
    assert_eq!(gateway.messages().await.len(), 1);
    gateway.stop().await;
}
