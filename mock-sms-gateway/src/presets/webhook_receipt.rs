//! The generic webhook's receipt (the mock's own protocol, documented in the
//! crate docs): `POST callback_url` with JSON `{"id", "message_id",
//! "status", "at"}`; any 2xx answer acknowledges it.

use chrono::SecondsFormat;
use serde_json::json;

use crate::courier::Courier;

/// What a webhook receipt needs, captured at acceptance.
#[derive(Debug, Clone)]
pub struct WebhookReceipt {
    /// `callback_url`.
    pub url: String,
    /// The sender's reference.
    pub id: Option<String>,
    /// The gateway's id.
    pub message_id: String,
}

/// Posts the receipt; any 2xx acknowledges it.
pub async fn send_receipt(courier: &Courier, receipt: &WebhookReceipt, delivered: bool) {
    let body = json!({
        "id": receipt.id,
        "message_id": receipt.message_id,
        "status": if delivered { "delivered" } else { "undelivered" },
        "at": courier.clock.now().to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    let ok = match courier.client.post(&receipt.url).json(&body).send().await {
        Ok(response) => response.status().is_success(),
        Err(e) => {
            tracing::debug!(error = ?e.without_url(), "webhook receipt not delivered");
            false
        }
    };
    courier.count(ok);
}
