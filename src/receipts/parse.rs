//! Reading each preset's delivery receipts into [`ParsedReceipt`]s, with
//! states normalised to our [`ReceiptState`]s. A malformed
//! callback is refused whole ([`ParseError`], answered 400): nothing of it
//! is recorded.

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use super::{kannel, normalise_provider_id};
use crate::config::delivery::{Preset, WebhookReceiptSettings};
use crate::store::ReceiptState;

/// One receipt as read from a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedReceipt {
    /// Our reminder id, when the callback carries it.
    pub reminder_id: Option<i64>,
    /// The gateway's message id, normalised ([`normalise_provider_id`]).
    pub provider_message_id: Option<String>,
    /// What it says, normalised.
    pub state: ReceiptState,
    /// The gateway's own words on a failure (Kannel's `%A`), kept with the
    /// reason a reminder was not delivered.
    pub detail: Option<String>,
    /// The callback as received, without its `token`, for audit.
    pub raw: String,
}

/// Why a callback is not a receipt of its gateway's preset.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// A field the preset always sends is missing or empty.
    #[error("{0} is missing")]
    Missing(String),
    /// A field holds a value the preset never sends.
    #[error("{field} is not valid: {value:?}")]
    Invalid { field: String, value: String },
    /// The body is not the JSON the preset sends.
    #[error("malformed JSON: {0}")]
    Json(String),
    /// Nothing in it identifies the message.
    #[error("the receipt names neither a reminder id nor a message id")]
    Unidentified,
}

/// Reads one callback of `preset`: its query string and body.
pub fn parse(
    preset: Preset,
    webhook: &WebhookReceiptSettings,
    query: Option<&str>,
    body: &[u8],
) -> Result<Vec<ParsedReceipt>, ParseError> {
    match preset {
        Preset::Kannel => kannel(query, body).map(|r| vec![r]),
        Preset::Jasmin => jasmin(query, body).map(|r| vec![r]),
        Preset::Twilio => twilio(query, body).map(|r| vec![r]),
        Preset::Infobip => infobip(body),
        Preset::Webhook => webhook_receipts(webhook, body),
    }
}

/// Name/value pairs of a URL-encoded form.
pub(crate) fn form_pairs(encoded: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(encoded).into_owned().collect()
}

/// The first non-empty value of `name`, trimmed.
fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn required<'a>(pairs: &'a [(String, String)], name: &str) -> Result<&'a str, ParseError> {
    field(pairs, name).ok_or_else(|| ParseError::Missing(name.to_string()))
}

fn invalid(field: &str, value: &str) -> ParseError {
    ParseError::Invalid {
        field: field.to_string(),
        value: value.chars().take(40).collect(),
    }
}

/// A reminder id: a positive integer.
fn reminder_id(field: &str, value: &str) -> Result<i64, ParseError> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| invalid(field, value))
}

/// The query string without its `token` parameter (the raw receipt is
/// stored, the secret must not be).
pub(crate) fn without_token(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| pair.split('=').next() != Some("token"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Form fields from the query (minus `token`) and the body, and the raw text kept.
fn query_and_form(query: Option<&str>, body: &[u8]) -> (Vec<(String, String)>, String) {
    let query = without_token(query.unwrap_or(""));
    let mut pairs = form_pairs(query.as_bytes());
    pairs.extend(form_pairs(body));
    let raw = if body.is_empty() {
        query
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    (pairs, raw)
}

/// Kannel: `GET {dlr-url}` with `id` (our reminder id), `status` (`%d`, a
/// bitmask read by [`kannel::state`]) and `answer` (`%A`, the SMSC's
/// answer; Kannel user guide), `fid` (`%F`) kept as the message id for audit.
fn kannel(query: Option<&str>, body: &[u8]) -> Result<ParsedReceipt, ParseError> {
    let (pairs, raw) = query_and_form(query, body);
    let id = reminder_id("id", required(&pairs, "id")?)?;
    let code = required(&pairs, "status")?;
    let answer = field(&pairs, "answer");
    let state = code
        .parse::<u8>()
        .ok()
        .and_then(|value| kannel::state(value, answer))
        .ok_or_else(|| invalid("status", code))?;
    Ok(ParsedReceipt {
        reminder_id: Some(id),
        provider_message_id: field(&pairs, "fid").and_then(|f| normalise_provider_id(Preset::Kannel, f)),
        state,
        detail: answer.and_then(kannel::detail),
        raw,
    })
}

/// Jasmin: `id` (its UUID) and `message_status`, in the form body (POST) or
/// the query (GET) (Jasmin's documentation).
fn jasmin(query: Option<&str>, body: &[u8]) -> Result<ParsedReceipt, ParseError> {
    let (mut pairs, raw) = query_and_form(query, body);
    // Our reminder id travels in the dlr-url's query as `reminder`; Jasmin's
    // own fields (`id` is its message id) come in the form body, or in the
    // query for dlr-method GET. The body's win.
    let ours = field(&pairs, "reminder").and_then(|v| v.parse::<i64>().ok());
    let from_body = form_pairs(body);
    if !from_body.is_empty() {
        pairs = from_body;
    }
    let id = required(&pairs, "id")?;
    let status = required(&pairs, "message_status")?.to_ascii_uppercase();
    let state = match status.as_str() {
        "DELIVRD" => ReceiptState::Delivered,
        "UNDELIV" | "REJECTD" | "DELETED" => ReceiptState::Undelivered,
        "EXPIRED" => ReceiptState::Expired,
        "ACCEPTD" | "ENROUTE" => ReceiptState::Sent,
        "ESME_ROK" => ReceiptState::Accepted,
        s if s.starts_with("ESME_R") => ReceiptState::Undelivered,
        _ => ReceiptState::Unknown,
    };
    Ok(ParsedReceipt {
        reminder_id: ours,
        provider_message_id: normalise_provider_id(Preset::Jasmin, id),
        state,
        detail: None,
        raw,
    })
}

/// Twilio: form POST with `MessageSid` and `MessageStatus` (or their `Sms*`
/// twins) (Twilio's documentation). Our reminder id rides in the `StatusCallback` URL's query
/// (`id`), which the signature covers, so a receipt that beats the send's
/// record still finds its reminder.
fn twilio(query: Option<&str>, body: &[u8]) -> Result<ParsedReceipt, ParseError> {
    let ours = form_pairs(query.unwrap_or("").as_bytes())
        .into_iter()
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let pairs = form_pairs(body);
    let sid = field(&pairs, "MessageSid")
        .or_else(|| field(&pairs, "SmsSid"))
        .ok_or_else(|| ParseError::Missing("MessageSid".into()))?;
    let status = field(&pairs, "MessageStatus")
        .or_else(|| field(&pairs, "SmsStatus"))
        .ok_or_else(|| ParseError::Missing("MessageStatus".into()))?;
    let state = match status.to_ascii_lowercase().as_str() {
        "delivered" | "read" => ReceiptState::Delivered,
        // `canceled`: a scheduled message that will never go out.
        "undelivered" | "failed" | "canceled" => ReceiptState::Undelivered,
        "sent" => ReceiptState::Sent,
        "queued" | "accepted" | "sending" | "scheduled" => ReceiptState::Accepted,
        _ => ReceiptState::Unknown,
    };
    Ok(ParsedReceipt {
        reminder_id: ours,
        provider_message_id: normalise_provider_id(Preset::Twilio, sid),
        state,
        detail: None,
        raw: String::from_utf8_lossy(body).into_owned(),
    })
}

/// Infobip's report body (Infobip's documentation).
#[derive(Deserialize)]
struct InfobipReports {
    results: Vec<Value>,
}

/// The fields of one Infobip report this reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InfobipReport {
    message_id: Option<String>,
    callback_data: Option<String>,
    status: Option<InfobipStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InfobipStatus {
    group_id: Option<i64>,
    group_name: Option<String>,
    id: Option<i64>,
    name: Option<String>,
}

/// Infobip: `{"results": [...]}`, up to 100 reports per request; each one's
/// `callbackData` or our own `messageId` carries the reminder id.
fn infobip(body: &[u8]) -> Result<Vec<ParsedReceipt>, ParseError> {
    let reports: InfobipReports = serde_json::from_slice(body).map_err(|e| ParseError::Json(e.to_string()))?;
    reports
        .results
        .iter()
        .enumerate()
        .map(|(i, value)| infobip_report(i, value))
        .collect()
}

fn infobip_report(i: usize, value: &Value) -> Result<ParsedReceipt, ParseError> {
    let report: InfobipReport =
        serde_json::from_value(value.clone()).map_err(|e| ParseError::Json(format!("results[{i}]: {e}")))?;
    let status = report
        .status
        .ok_or_else(|| ParseError::Missing(format!("results[{i}].status")))?;
    let message_id = report.message_id.as_deref().map(str::trim).unwrap_or("");
    // Infobip's messageId is ours: the reminder's idempotency key.
    let from_message_id = crate::channels::reminder_of_key(message_id);
    let reminder_id = report
        .callback_data
        .as_deref()
        .and_then(reminder_id_in_callback_data)
        .or(from_message_id)
        .filter(|id| *id > 0);
    let provider_message_id = normalise_provider_id(Preset::Infobip, message_id);
    if reminder_id.is_none() && provider_message_id.is_none() {
        return Err(ParseError::Unidentified);
    }
    Ok(ParsedReceipt {
        reminder_id,
        provider_message_id,
        state: infobip_state(&status),
        detail: None,
        raw: value.to_string(),
    })
}

/// `DELIVERED_TO_HANDSET` (id 5) is final; `DELIVERED_TO_OPERATOR` (id 2)
/// only says the operator has it.
fn infobip_state(status: &InfobipStatus) -> ReceiptState {
    let group = match (status.group_name.as_deref(), status.group_id) {
        (Some(name), _) => name.trim().to_ascii_uppercase(),
        (None, Some(1)) => "PENDING".into(),
        (None, Some(2)) => "UNDELIVERABLE".into(),
        (None, Some(3)) => "DELIVERED".into(),
        (None, Some(4)) => "EXPIRED".into(),
        (None, Some(5)) => "REJECTED".into(),
        (None, _) => String::new(),
    };
    match group.as_str() {
        "DELIVERED" if status.id == Some(5) || status.name.as_deref() == Some("DELIVERED_TO_HANDSET") => {
            ReceiptState::Delivered
        }
        "DELIVERED" => ReceiptState::Sent,
        "PENDING" => ReceiptState::Buffered,
        "UNDELIVERABLE" | "REJECTED" => ReceiptState::Undelivered,
        "EXPIRED" => ReceiptState::Expired,
        "ACCEPTED" => ReceiptState::Accepted,
        _ => ReceiptState::Unknown,
    }
}

/// The reminder id in Infobip's `callbackData`: the whole value (`"42"`) or
/// a `reminder=42` / `reminder_id=42` / `id=42` pair among `&`, `;`, `,` or
/// space separated ones.
pub fn reminder_id_in_callback_data(data: &str) -> Option<i64> {
    let data = data.trim();
    if let Ok(id) = data.parse::<i64>() {
        return Some(id);
    }
    data.split(['&', ';', ',', ' '])
        .filter_map(|pair| pair.split_once(['=', ':']))
        .find(|(key, _)| matches!(key.trim(), "reminder" | "reminder_id" | "id"))
        .and_then(|(_, value)| value.trim().parse().ok())
}

/// A generic webhook: one JSON object (or an array of them) read through
/// the configured pointers (`[sms.gateway.webhook.receipt]`).
fn webhook_receipts(settings: &WebhookReceiptSettings, body: &[u8]) -> Result<Vec<ParsedReceipt>, ParseError> {
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
        Some(Value::String(s)) => normalise_provider_id(Preset::Webhook, s),
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

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
