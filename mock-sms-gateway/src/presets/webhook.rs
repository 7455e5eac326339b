//! The generic JSON webhook, the mock's own minimal protocol (documented in
//! the module docs of `mock_gateway`): `POST /webhook/send` with
//! `{"to", "text", "id", "callback_url", "from"}` → `200 {"message_id"}`;
//! receipt `POST callback_url` with `{"id", "message_id", "status", "at"}`.
//! An `Idempotency-Key` header makes the send idempotent: the same key again
//! gets the first `message_id` and is not delivered twice; the same key with
//! a different recipient or text is refused with 422.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::webhook_receipt::WebhookReceipt;
use super::{fault_status, with_fault_headers};
use crate::faults::Fault;
use crate::idempotency::{Claim, IDEMPOTENCY_KEY_HEADER};
use crate::ids;
use crate::receipts::ReceiptKind;
use crate::state::{Accepted, Gateway, Shared};
use crate::store::Preset;

pub fn routes() -> Router<Shared> {
    Router::new().route("/webhook/send", post(send))
}

/// The request body.
#[derive(Debug, Deserialize)]
struct SendRequest {
    /// The recipient.
    to: Option<String>,
    /// The text.
    text: Option<String>,
    /// The sender's own reference, echoed in the receipt.
    id: Option<String>,
    /// Where the receipt goes; none, no receipt.
    callback_url: Option<String>,
    /// The sender id, optional.
    from: Option<String>,
}

async fn send(State(gateway): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(fault) = gateway.before_send().await {
        let message = match fault {
            Fault::RateLimited { .. } => "rate limited",
            Fault::Down => "gateway down",
            _ => "injected failure",
        };
        return with_fault_headers(&fault, refuse(fault_status(&fault), message));
    }
    match accept(&gateway, &headers, &body) {
        Ok(message_id) => (StatusCode::OK, axum::Json(json!({"message_id": message_id}))).into_response(),
        Err((status, message)) => refuse(status, message),
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

/// Accepts a send: its message id, or the refusal (status and error).
fn accept(gateway: &Gateway, headers: &HeaderMap, body: &[u8]) -> Result<String, (StatusCode, &'static str)> {
    if let Some(token) = &gateway.credentials.webhook_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return Err((StatusCode::UNAUTHORIZED, "unauthorized"));
        }
    }
    let bad = |message| (StatusCode::BAD_REQUEST, message);
    let request: SendRequest = serde_json::from_slice(body).map_err(|_| bad("malformed JSON"))?;
    let to = request.to.filter(|t| !t.is_empty()).ok_or(bad("to is required"))?;
    let text = request.text.filter(|t| !t.is_empty()).ok_or(bad("text is required"))?;
    let callback_url = request.callback_url.filter(|url| !url.is_empty());
    if let Some(url) = &callback_url
        && !reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    {
        return Err(bad("callback_url must be an http(s) URL"));
    }
    if gateway.faults.rejects(&to) {
        return Err(bad("recipient rejected"));
    }
    let message_id = ids::uuid_v4();
    if let Some(key) = headers.get(IDEMPOTENCY_KEY_HEADER) {
        let key = key
            .to_str()
            .ok()
            .filter(|k| !k.is_empty())
            .ok_or(bad("Idempotency-Key must be a non-empty ASCII string"))?;
        match gateway.idempotency.claim(Preset::Webhook, key, &to, &text, &message_id) {
            Claim::First => {}
            Claim::Duplicate { message_id } => return Ok(message_id),
            Claim::Mismatch => {
                return Err((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Idempotency-Key was used for a different message",
                ));
            }
        }
    }
    let receipt = callback_url
        .as_ref()
        .filter(|_| gateway.sends_receipts())
        .map(|url| WebhookReceipt {
            url: url.clone(),
            id: request.id.clone(),
            message_id: message_id.clone(),
        });
    let status = gateway.accept(Accepted {
        preset: Preset::Webhook,
        to,
        from: request.from,
        text,
        coding: None,
        reference: request.id,
        message_id: message_id.clone(),
        callback_url,
    });
    if let Some(receipt) = receipt {
        gateway.queue_receipt(status, ReceiptKind::Webhook(receipt));
    }
    Ok(message_id)
}
