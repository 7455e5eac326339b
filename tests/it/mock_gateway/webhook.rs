//! The generic JSON webhook.

use axum::http::StatusCode;
use mock_sms_gateway::Preset;
use serde_json::{Value, json};

use super::{Gateway, Receiver, config};

#[tokio::test]
async fn accepts_and_posts_the_receipt() {
    let receiver = Receiver::start().await;
    let gateway = Gateway::start(config()).await;
    let body = json!({
        "to": "+6281234567890", "text": "Halo", "id": "reminder-7", "from": "PENGINGAT",
        "callback_url": receiver.url("/dlr/webhook"),
    });
    let response = gateway.post_json("/webhook/send", &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let reply: Value = response.json().await.unwrap();
    let message_id = reply["message_id"].as_str().unwrap().to_string();
    assert_eq!(reply, json!({"message_id": message_id}));

    let message = &gateway.messages().await[0];
    assert_eq!(message.preset, Preset::Webhook);
    assert_eq!(message.reference.as_deref(), Some("reminder-7"));

    let receipt = receiver.wait_for(1).await[0].json();
    assert_eq!(
        receipt,
        json!({"id": "reminder-7", "message_id": message_id, "status": "delivered", "at": "2025-07-10T08:30:00.000Z"})
    );
    gateway.stop().await;
}

#[tokio::test]
async fn a_configured_token_is_required_and_bad_requests_are_named() {
    let mut config = config();
    config.credentials.webhook_token = Some("rahasia".into());
    let gateway = Gateway::start(config).await;
    let url = gateway.url("/webhook/send");
    let body = json!({"to": "+6281234567890", "text": "Halo"});
    let anonymous = gateway.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.json::<Value>().await.unwrap(),
        json!({"error": "unauthorized"})
    );
    let authorised = gateway
        .http
        .post(&url)
        .bearer_auth("rahasia")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(authorised.status(), StatusCode::OK);
    let no_text = gateway
        .http
        .post(&url)
        .bearer_auth("rahasia")
        .json(&json!({"to": "+6281234567890"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_text.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        no_text.json::<Value>().await.unwrap(),
        json!({"error": "text is required"})
    );
    gateway.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_sent_again_gets_the_first_answer_and_no_second_message() {
    let gateway = Gateway::start(config()).await;
    let url = gateway.url("/webhook/send");
    let send = |key: &'static str, text: &'static str| {
        gateway
            .http
            .post(&url)
            .header("Idempotency-Key", key)
            .json(&json!({"to": "+6281234567890", "text": text}))
            .send()
    };
    let first: Value = send("pengingat-ab-7", "Halo").await.unwrap().json().await.unwrap();
    let again = send("pengingat-ab-7", "Halo").await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap(), first, "the same answer");
    let reused = send("pengingat-ab-7", "Lain").await.unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(send("pengingat-ab-8", "Halo").await.unwrap().status(), StatusCode::OK);
    assert_eq!(gateway.messages().await.len(), 2, "7 once, 8 once");
    assert_eq!(gateway.stats().await["duplicates_suppressed"], 1);

    // Forgetting the messages forgets the keys and the counter.
    gateway.http.delete(gateway.url("/messages")).send().await.unwrap();
    assert_eq!(gateway.stats().await["duplicates_suppressed"], 0);
    send("pengingat-ab-7", "Halo").await.unwrap();
    assert_eq!(gateway.messages().await.len(), 1);
    gateway.stop().await;
}
