//! Infobip SMS API v3: `POST /sms/3/messages`, JSON, `Authorization: App
//! <key>` (Infobip's SMS API reference; field names from Infobip's client
//! models). We choose the message id ourselves: the reminder's idempotency
//! key (`pengingat-{deployment}-{reminder id}`), and put the reminder id in
//! `callbackData`, so a delivery report names the reminder however it
//! arrives. With Infobip's "idempotent message sending" enabled on the
//! account, a re-send of the same `messageId` within Infobip's grace period
//! is rejected during processing instead of reaching the phone a second time
//! (Infobip, "Idempotent message sending"). The answer's
//! `messages[0].messageId` is the id; errors are
//! `{"requestError": {"serviceException": {…}}}`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::sender::digits;
use super::settings::GatewaySettings;
use super::{CallbackGateway, Capabilities, Context, Idempotency, Outgoing, ParseError, Receipts, ParsedReceipt, Provider, Sender};
use crate::channels::error::{ChannelConfigError, SendError};
use crate::channels::sms::http::Answer;
use crate::channels::sms::{OutboundSms, reminder_of};
use crate::store::ReceiptState;

/// The Infobip preset.
pub struct Infobip;

impl Provider for Infobip {
    fn capabilities(&self) -> Capabilities {
        Capabilities::BASE.with_idempotency(Idempotency::MessageId)
    }

    /// `{"results": [...]}`, up to 100 reports per request; each one's
    /// `callbackData` or our own `messageId` carries the reminder id.
    fn receipts(&self, _gateway: &CallbackGateway, _query: Option<&str>, body: &[u8]) -> Receipts {
        let reports: InfobipReports = serde_json::from_slice(body).map_err(|e| ParseError::Json(e.to_string()))?;
        reports
            .results
            .iter()
            .enumerate()
            .map(|(i, value)| infobip_report(i, value))
            .collect()
    }
}

/// Infobip's SMS API, for one configured gateway.
#[derive(Debug)]
pub struct InfobipSender {
    /// The gateway.
    ctx: Context,
    /// The API key.
    api_key: String,
    /// `sender`, when configured (else Infobip's default).
    sender: Option<String>,
}

impl InfobipSender {
    /// The sender of the gateway `settings` describe.
    pub fn new(ctx: Context, settings: &GatewaySettings) -> Result<Self, ChannelConfigError> {
        let api_key = ctx.require_password("the Infobip API key")?;
        Ok(Self {
            sender: settings.sender.clone(),
            ctx,
            api_key,
        })
    }

    fn body(&self, msg: &OutboundSms, key: &str) -> Value {
        let mut message = json!({
            "destinations": [{"to": digits(&msg.to), "messageId": key}],
            "content": {"text": msg.text},
            "webhooks": {
                "delivery": {"url": self.ctx.receipt_url(&[])},
                "contentType": "application/json",
                "callbackData": msg.reminder_id.to_string(),
            },
        });
        if let Some(sender) = &self.sender {
            message["sender"] = json!(sender);
        }
        json!({"messages": [message]})
    }
}

impl Sender for InfobipSender {
    fn request(&self, http: &reqwest::Client, out: Outgoing<'_>) -> Result<reqwest::RequestBuilder, SendError> {
        let Outgoing { msg, key, .. } = out;
        Ok(http
            .post(self.ctx.endpoint("/sms/3/messages"))
            .header(reqwest::header::AUTHORIZATION, format!("App {}", self.api_key))
            .json(&self.body(msg, key)))
    }

    fn accepted(&self, answer: &Answer) -> Result<Option<String>, SendError> {
        let name = &self.ctx.name;
        let json = answer.json().unwrap_or(Value::Null);
        if answer.status.is_success() {
            let first = &json["messages"][0];
            // The answer is an acceptance, but a message can already be
            // REJECTED in it (an invalid destination, no credit).
            let group = first["status"]["groupName"].as_str().unwrap_or_default();
            if group == "REJECTED" || group == "UNDELIVERABLE" {
                let status = &first["status"];
                let detail = format!(
                    "{}: {}",
                    status["name"].as_str().unwrap_or(group),
                    status["description"].as_str().unwrap_or_default()
                );
                return Err(if detail.contains("CREDIT") {
                    SendError::transient(name, detail, answer.retry_after)
                } else {
                    SendError::permanent(name, detail)
                });
            }
            return match first["messageId"].as_str() {
                Some(id) if !id.is_empty() => Ok(Some(id.to_string())),
                _ => Err(answer.unexpected(name, "messages[0].messageId")),
            };
        }
        let exception = &json["requestError"]["serviceException"];
        let detail = match exception["text"].as_str() {
            Some(text) => {
                let mut detail = format!("{}: {text}", exception["messageId"].as_str().unwrap_or("ERROR"));
                if let Some(errors) = exception.get("validationErrors") {
                    detail.push_str(&format!(" {errors}"));
                }
                detail
            }
            None => answer.excerpt(),
        };
        Err(answer.failure(name, &detail))
    }
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

fn infobip_report(i: usize, value: &Value) -> Result<ParsedReceipt, ParseError> {
    let report: InfobipReport =
        serde_json::from_value(value.clone()).map_err(|e| ParseError::Json(format!("results[{i}]: {e}")))?;
    let status = report
        .status
        .ok_or_else(|| ParseError::Missing(format!("results[{i}].status")))?;
    let message_id = report.message_id.as_deref().map(str::trim).unwrap_or("");
    // Infobip's messageId is ours: the reminder's idempotency key.
    let from_message_id = reminder_of(message_id);
    let reminder_id = report
        .callback_data
        .as_deref()
        .and_then(reminder_id_in_callback_data)
        .or(from_message_id)
        .filter(|id| *id > 0);
    let provider_message_id = Infobip.message_id(message_id);
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
pub(crate) fn reminder_id_in_callback_data(data: &str) -> Option<i64> {
    let data = data.trim();
    if let Ok(id) = data.parse::<i64>() {
        return Some(id);
    }
    data.split(['&', ';', ',', ' '])
        .filter_map(|pair| pair.split_once(['=', ':']))
        .find(|(key, _)| matches!(key.trim(), "reminder" | "reminder_id" | "id"))
        .and_then(|(_, value)| value.trim().parse().ok())
}
