//! A generic webhook's delivery receipts, read through the pointers of
//! `[sms.gateway.webhook.receipt]`.

use serde_json::Value;

use super::super::callback::{invalid, reminder_id};
use super::super::{ParseError, ParsedReceipt, Provider, Receipts};
use super::Webhook;
use super::settings::WebhookReceiptSettings;
use crate::store::ReceiptState;

/// A generic webhook: one JSON object (or an array of them) read through
/// the configured pointers (`[sms.gateway.webhook.receipt]`).
pub(super) fn receipts(settings: &WebhookReceiptSettings, body: &[u8]) -> Receipts {
    let value: Value = serde_json::from_slice(body).map_err(|e| ParseError::Json(e.to_string()))?;
    match &value {
        Value::Array(items) => items.iter().map(|item| webhook_receipt(settings, item)).collect(),
        Value::Object(_) => Ok(vec![webhook_receipt(settings, &value)?]),
        _ => Err(ParseError::Json("expected an object or an array of objects".into())),
    }
}

fn webhook_receipt(settings: &WebhookReceiptSettings, value: &Value) -> Result<ParsedReceipt, ParseError> {
    let reminder_id = match value.pointer(&settings.id_pointer) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(reminder_id(&settings.id_pointer, s)?),
        Some(Value::Number(n)) => Some(reminder_id(&settings.id_pointer, &n.to_string())?),
        Some(other) => return Err(invalid(&settings.id_pointer, &other.to_string())),
    };
    let message_id = match value.pointer(&settings.message_id_pointer) {
        Some(Value::String(s)) => Webhook.message_id(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if reminder_id.is_none() && message_id.is_none() {
        return Err(ParseError::Unidentified);
    }
    let status = value
        .pointer(&settings.status_pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ParseError::Missing(settings.status_pointer.clone()))?;
    Ok(ParsedReceipt {
        reminder_id,
        provider_message_id: message_id,
        state: webhook_state(settings, status),
        detail: None,
        raw: value.to_string(),
    })
}

/// The configured delivered / undelivered values decide; anything else is
/// an intermediate state.
fn webhook_state(settings: &WebhookReceiptSettings, status: &str) -> ReceiptState {
    let is = |list: &[String]| list.iter().any(|v| v.eq_ignore_ascii_case(status));
    if is(&settings.delivered) {
        ReceiptState::Delivered
    } else if is(&settings.undelivered) && status.eq_ignore_ascii_case("expired") {
        ReceiptState::Expired
    } else if is(&settings.undelivered) {
        ReceiptState::Undelivered
    } else {
        match status.to_ascii_lowercase().as_str() {
            "sent" => ReceiptState::Sent,
            "accepted" | "queued" => ReceiptState::Accepted,
            "pending" | "buffered" => ReceiptState::Buffered,
            _ => ReceiptState::Unknown,
        }
    }
}
