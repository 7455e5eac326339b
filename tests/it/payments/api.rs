//! `POST /api/v1/payments` over real HTTP on loopback.

use std::sync::Arc;

use pengingat::clock::FixedClock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::app::TestApp;

const TOKEN: &str = "rahasia-pembayaran";

/// The daemon's routes on 127.0.0.1:0 with the clock at 16 July 2025 04:00
/// UTC and the payments API's token `token`.
async fn serve(db: &TestDb, token: Option<&str>) -> TestApp {
    TestApp::builder(db)
        .clock(Arc::new(FixedClock::at(at("2025-07-16T04:00:00Z"))))
        .payments_token(token)
        .spawn()
        .await
}

fn july(reference: &str, amount: i64) -> Value {
    json!({"external_ref": reference, "nik": NIK, "amount": amount, "paid_at": "2025-07-16T03:00:00Z", "channel": "jmo"})
}

both_backends!(
    a_posted_payment_cancels_credits_and_is_idempotent,
    bad_payments_are_refused_and_change_nothing,
    a_batch_answers_per_item,
    without_the_token_nothing_is_recorded,
    with_the_months_given_any_amount_is_accepted,
);

async fn with_the_months_given_any_amount_is_accepted(db: &TestDb) {
    reminded_participant(db).await;
    let server = serve(db, Some(TOKEN)).await;
    let mut item = july("JMO-1", 20_000);
    item["months"] = json!(2);
    let (status, body) = server.post_payment(Some(TOKEN), &item.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["results"][0]["paid_through"], "2025-08");
    assert_eq!(paid_through(db).await, "2025-08");
}

async fn a_posted_payment_cancels_credits_and_is_idempotent(db: &TestDb) {
    reminded_participant(db).await;
    let server = serve(db, Some(TOKEN)).await;
    let (status, body) = server
        .post_payment(Some(TOKEN), &july("JMO-1", 16_800).to_string())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let item = &body["results"][0];
    assert_eq!(item["status"], "recorded");
    assert_eq!(item["paid_through"], "2025-07");
    assert_eq!(item["cancelled_reminders"], 1);
    assert_eq!(item["attributed_reminder"]["rule"], "h-1");
    assert_eq!(item["attributed_reminder"]["days_to_pay"], 2);
    assert_paid_and_credited(db, 2).await;

    let (status, body) = server
        .post_payment(Some(TOKEN), &july("JMO-1", 16_800).to_string())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["status"], "duplicate");
    assert_paid_and_credited(db, 2).await;
    let metrics = server.metrics.render();
    for line in [
        "pengingat_payments_total{source=\"http\",result=\"recorded\"} 1",
        "pengingat_payments_total{source=\"http\",result=\"duplicate\"} 1",
    ] {
        assert!(metrics.contains(line), "{metrics}");
    }
}

async fn bad_payments_are_refused_and_change_nothing(db: &TestDb) {
    reminded_participant(db).await;
    let server = serve(db, Some(TOKEN)).await;
    server
        .post_payment(Some(TOKEN), &july("JMO-1", 16_800).to_string())
        .await;

    // The same reference with another amount.
    let (status, body) = server
        .post_payment(Some(TOKEN), &july("JMO-1", 33_600).to_string())
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["results"][0]["errors"][0]["field"], "external_ref");

    let mut unknown = july("JMO-2", 16_800);
    unknown["nik"] = json!("1872011205909999");
    let mut partial = july("JMO-3", 20_000);
    partial["nik"] = json!(NIK);
    let mut zero = july("JMO-4", 0);
    zero["nik"] = json!(NIK);
    let mut negative = july("JMO-7", -16_800);
    negative["nik"] = json!(NIK);
    let mut future = july("JMO-5", 16_800);
    future["paid_at"] = json!("2025-07-17T04:00:00Z");
    for (item, field, words) in [
        (unknown, "nik", "no participant"),
        (partial, "amount", "whole number"),
        (zero, "amount", "positive"),
        (negative, "amount", "positive"),
        (future, "paid_at", "future"),
    ] {
        let (status, body) = server.post_payment(Some(TOKEN), &item.to_string()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let error = &body["results"][0]["errors"][0];
        assert_eq!(error["field"], field, "{body}");
        assert!(error["reason"].as_str().unwrap().contains(words), "{body}");
    }
    let (status, body) = server.post_payment(Some(TOKEN), "{\"external_ref\": \"JMO-6\", ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("request body"), "{body}");

    // Only the first payment is recorded.
    assert_paid_and_credited(db, 2).await;
    let refs: Vec<_> = (2..=7)
        .map(|i| pengingat::domain::ExternalRef::parse(&format!("JMO-{i}")).unwrap())
        .collect();
    assert!(db.store.payments_by_ref(&refs).await.unwrap().is_empty());
}

async fn a_batch_answers_per_item(db: &TestDb) {
    reminded_participant(db).await;
    let server = serve(db, Some(TOKEN)).await;
    let mut unknown = july("JMO-2", 16_800);
    unknown["nik"] = json!("1872011205909999");
    let batch = json!([july("JMO-1", 16_800), unknown, july("JMO-1", 16_800)]);
    let (status, body) = server.post_payment(Some(TOKEN), &batch.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let statuses: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["recorded", "rejected", "duplicate"]);
    assert_eq!(
        (body["recorded"].as_u64(), body["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_paid_and_credited(db, 2).await;
}

async fn without_the_token_nothing_is_recorded(db: &TestDb) {
    reminded_participant(db).await;
    let server = serve(db, Some(TOKEN)).await;
    let body = july("JMO-1", 16_800).to_string();
    assert_eq!(server.post_payment(None, &body).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server.post_payment(Some("rahasia-pembayaran2"), &body).await.0,
        StatusCode::UNAUTHORIZED
    );
    let unconfigured = serve(db, None).await;
    assert_eq!(
        unconfigured.post_payment(Some(TOKEN), &body).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(paid_through(db).await, "2025-06");
    assert_eq!(reminder(db, "h0").await.status, "pending");
}
