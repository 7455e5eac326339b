//! `[sms.gateway.webhook]`: how a generic HTTP gateway is spoken to and how
//! its receipts read.

use std::collections::BTreeMap;

use serde::Deserialize;

/// How a generic HTTP gateway is spoken to. Templates may use `{to}` (E.164),
/// `{to_digits}` (without `+`), `{text}`, `{id}` (our reminder id),
/// `{idempotency_key}`, `{sender}`, `{callback_url}` and `{token}`; values
/// are escaped for where they land (URL, form, JSON).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// HTTP method: GET or POST.
    #[serde(default = "default_method")]
    pub method: String,
    /// Path (appended to `base_url`), a template.
    pub path: String,
    /// Extra headers; values are templates (e.g. `Authorization = "Bearer {password}"`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Where the fields go: `json`, `form` or `query`.
    #[serde(default = "default_body")]
    pub body: String,
    /// The fields sent, name → template.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// JSON pointer to the message id in the response (e.g. `/message_id`); none: no id.
    #[serde(default)]
    pub message_id_pointer: Option<String>,
    /// Statuses that mean accepted; others: 429 and 5xx transient, any other permanent.
    #[serde(default = "default_success")]
    pub success_status: Vec<u16>,
    /// Receipt JSON: pointer to our id, the message id and the status.
    #[serde(default)]
    pub receipt: WebhookReceiptSettings,
    /// The header every send carries the reminder's idempotency key in
    /// (`pengingat-{deployment}-{reminder id}`, the same for every send of
    /// one reminder), as the IETF draft "The Idempotency-Key HTTP Header
    /// Field" describes; a gateway that honours it drops a re-send after a
    /// crash. An empty string sends no such header.
    #[serde(default = "default_idempotency_header")]
    pub idempotency_header: String,
}

fn default_method() -> String {
    "POST".to_string()
}
fn default_body() -> String {
    "json".to_string()
}
/// `Idempotency-Key`, the header the IETF draft names.
pub fn default_idempotency_header() -> String {
    "Idempotency-Key".to_string()
}
fn default_success() -> Vec<u16> {
    vec![200, 201, 202]
}

/// How a generic webhook's delivery receipts read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookReceiptSettings {
    /// JSON pointer to our reminder id.
    pub id_pointer: String,
    /// JSON pointer to the gateway's message id.
    pub message_id_pointer: String,
    /// JSON pointer to the status.
    pub status_pointer: String,
    /// Status values meaning delivered.
    pub delivered: Vec<String>,
    /// Status values meaning not delivered (final).
    pub undelivered: Vec<String>,
}

impl Default for WebhookReceiptSettings {
    fn default() -> Self {
        Self {
            id_pointer: "/id".into(),
            message_id_pointer: "/message_id".into(),
            status_pointer: "/status".into(),
            delivered: vec!["delivered".into()],
            undelivered: vec![
                "undelivered".into(),
                "failed".into(),
                "rejected".into(),
                "expired".into(),
            ],
        }
    }
}
