//! Infobip: `POST /sms/3/messages` and batched JSON delivery reports.

use std::time::Duration;

use axum::http::StatusCode;
use mock_sms_gateway::Preset;
use serde_json::{Value, json};

use super::{Gateway, Receiver, config};

async fn send(gateway: &Gateway, key: &str, body: String) -> (StatusCode, Value) {
    let response = gateway
        .http
        .post(gateway.url("/sms/3/messages"))
        .header("Authorization", format!("App {key}"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn pending(message_id: &str, to: &str) -> Value {
    json!({
        "messageId": message_id,
        "status": {"groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED",
                   "description": "Message sent to next instance"},
        "destination": to,
        "details": {"messageCount": 1},
    })
}

#[tokio::test]
async fn accepts_and_reports_intermediate_then_final_states() {
    let receiver = Receiver::start().await;
    let gateway = Gateway::start(config()).await;
    let body = json!({"messages": [{
        "sender": "PENGINGAT",
        "destinations": [{"to": "6281234567890", "messageId": "own-1"}],
        "content": {"text": "Iuran Anda jatuh tempo"},
        "webhooks": {
            "delivery": {"url": receiver.url("/dlr/infobip"), "intermediateReport": true, "notify": true},
            "contentType": "application/json",
            "callbackData": "participant=123",
        },
    }]});
    let (status, reply) = send(&gateway, "mock-infobip-key", body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let bulk_id = reply["bulkId"].as_str().unwrap().to_string();
    assert_eq!(
        reply,
        json!({"bulkId": bulk_id, "messages": [pending("own-1", "6281234567890")]})
    );

    let message = &gateway.messages().await[0];
    assert_eq!(
        (message.preset, message.message_id.as_str()),
        (Preset::Infobip, "own-1")
    );
    assert_eq!(message.reference.as_deref(), Some("own-1"));
    assert_eq!(message.from.as_deref(), Some("PENGINGAT"));

    let reports = receiver.wait_for(2).await;
    let intermediate = &reports[0].json()["results"][0];
    assert_eq!(intermediate["status"]["name"], "DELIVERED_TO_OPERATOR");
    let result = &reports[1].json()["results"][0];
    let expected = json!({
        "bulkId": bulk_id,
        "messageId": "own-1",
        "to": "6281234567890",
        "sender": "PENGINGAT",
        "sentAt": "2025-07-10T08:30:00.000+0000",
        "doneAt": "2025-07-10T08:30:00.000+0000",
        "messageCount": 1,
        "mccMnc": "51010",
        "callbackData": "participant=123",
        "price": {"pricePerMessage": 0, "currency": "IDR"},
        "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET",
                   "description": "Message delivered to handset"},
        "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR",
                  "description": "No Error", "permanent": false},
    });
    assert_eq!(*result, expected);
    gateway.stop().await;
}

#[tokio::test]
async fn reports_due_together_are_batched_by_100() {
    let receiver = Receiver::start().await;
    let mut config = config();
    config.receipts.delivered_ratio = 0.0;
    // The 150 reports are queued within one request, long before they are
    // due, so they are all due together.
    config.receipts.delay = Duration::from_millis(300);
    let gateway = Gateway::start(config).await;
    let destinations: Vec<Value> = (0..150).map(|i| json!({"to": format!("62812345{i:05}")})).collect();
    let body = json!({"messages": [{
        "destinations": destinations,
        "content": {"text": "Halo"},
        "webhooks": {"delivery": {"url": receiver.url("/dlr/infobip")}},
    }]});
    let (status, reply) = send(&gateway, "mock-infobip-key", body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply["messages"].as_array().unwrap().len(), 150);
    let posts = receiver.wait_for(2).await;
    // The two batches go out concurrently, in either order.
    let mut sizes: Vec<usize> = posts
        .iter()
        .map(|p| p.json()["results"].as_array().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [50, 100]);
    let first = &posts[0].json()["results"][0];
    assert_eq!(first["status"]["groupName"], "UNDELIVERABLE");
    assert_eq!(first["sender"], "InfoSMS");
    assert_eq!(first["error"]["name"], "EC_ABSENT_SUBSCRIBER");
    gateway.stop().await;
}

#[tokio::test]
async fn no_report_when_notify_is_false() {
    let receiver = Receiver::start().await;
    let gateway = Gateway::start(config()).await;
    let body = json!({"messages": [{
        "destinations": [{"to": "6281234567890"}],
        "content": {"text": "Halo"},
        "webhooks": {"delivery": {"url": receiver.url("/dlr/infobip"), "notify": false}},
    }]});
    assert_eq!(
        send(&gateway, "mock-infobip-key", body.to_string()).await.0,
        StatusCode::OK
    );
    let stats = gateway.stats().await;
    assert_eq!(stats["receipts_queued"], 0);
    assert_eq!(gateway.messages().await[0].callback_url, None);
    gateway.stop().await;
}

#[tokio::test]
async fn errors_are_infobip_api_exceptions() {
    let gateway = Gateway::start(config()).await;
    let valid = json!({"messages": [{"destinations": [{"to": "6281"}], "content": {"text": "a"}}]}).to_string();
    assert_eq!(
        send(&gateway, "wrong-key", valid).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"requestError": {"serviceException": {"messageId": "UNAUTHORIZED", "text": "Invalid login details"}}})
        )
    );
    assert_eq!(
        send(&gateway, "mock-infobip-key", "{\"messages\": [".into()).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"requestError": {"serviceException": {"messageId": "BAD_REQUEST", "text": "Bad request"}}})
        )
    );
    let missing_text = json!({"messages": [{"destinations": [{"to": "6281"}]}]}).to_string();
    assert_eq!(
        send(&gateway, "mock-infobip-key", missing_text).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"requestError": {"serviceException": {
                "messageId": "BAD_REQUEST", "text": "Bad request",
                "validationErrors": {"messages[0].content.text": ["must not be blank"]},
            }}})
        )
    );
    assert!(gateway.messages().await.is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn a_message_id_sent_again_is_answered_and_not_delivered_or_reported_twice() {
    let receiver = Receiver::start().await;
    let gateway = Gateway::start(config()).await;
    let body = json!({"messages": [{
        "destinations": [{"to": "6281234567890", "messageId": "pengingat-ab-7"}, {"to": "6281234567891"}],
        "content": {"text": "Halo"},
        "webhooks": {"delivery": {"url": receiver.url("/dlr/infobip")}},
    }]});
    let (status, first) = send(&gateway, "mock-infobip-key", body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, again) = send(&gateway, "mock-infobip-key", body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["messages"][0], first["messages"][0], "the same acceptance");
    assert_eq!(again["messages"][0]["messageId"], "pengingat-ab-7");
    let messages = gateway.messages().await;
    let ours = messages.iter().filter(|m| m.message_id == "pengingat-ab-7").count();
    assert_eq!(ours, 1, "delivered once");
    assert_eq!(
        messages.len(),
        3,
        "a destination without a messageId has no key: sent twice"
    );
    let stats = gateway.stats().await;
    assert_eq!(stats["duplicates_suppressed"], 1);
    assert_eq!(stats["receipts_queued"], 3, "no report for the suppressed copy");
    gateway.stop().await;
}
