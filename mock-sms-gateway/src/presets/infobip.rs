//! Infobip SMS API v3: `POST /sms/3/messages`, JSON, `Authorization: App
//! <key>` (Infobip's SMS API reference; field names from Infobip's official
//! client models).
//!
//! Success is `200 {"bulkId", "messages": [{"messageId", "status": PENDING,
//! "destination", "details"}]}`; errors are the SMS API's `ApiException`,
//! `{"requestError": {"serviceException": {"messageId", "text",
//! "validationErrors"?}}}`: 401 `UNAUTHORIZED`, 400 `BAD_REQUEST` for
//! malformed JSON or missing fields. Delivery reports go to
//! `webhooks.delivery.url` (unless `notify` is false) as `{"results": […]}`,
//! up to 100 per request.
//!
//! A `messageId` given by the client makes its destination idempotent, as
//! Infobip's "idempotent message sending" does once enabled on an account:
//! the same id again is answered as the first time and not delivered twice.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::with_fault_headers;
use crate::faults::Fault;
use crate::form;
use crate::idempotency::Claim;
use crate::ids;
use crate::receipts::{Courier, ReceiptKind};
use crate::segments::count_segments;
use crate::state::{Accepted, Gateway, Shared};
use crate::store::Preset;

pub fn routes() -> Router<Shared> {
    Router::new().route("/sms/3/messages", post(send_messages))
}

/// Infobip's default sender when a message names none.
const DEFAULT_SENDER: &str = "InfoSMS";

/// The request body (unknown fields ignored, as Infobip does).
#[derive(Debug, Deserialize)]
struct Request {
    /// The messages.
    messages: Option<Vec<Message>>,
}

/// One `SmsMessage`.
#[derive(Debug, Deserialize)]
struct Message {
    /// Sender id.
    sender: Option<String>,
    /// Recipients.
    destinations: Option<Vec<Destination>>,
    /// The text.
    content: Option<Content>,
    /// Delivery-report settings.
    webhooks: Option<Webhooks>,
}

/// One `SmsDestination`.
#[derive(Debug, Deserialize)]
struct Destination {
    /// The recipient.
    to: Option<String>,
    /// The sender's own message id, used as Infobip's.
    #[serde(rename = "messageId")]
    message_id: Option<String>,
}

/// `content`.
#[derive(Debug, Deserialize)]
struct Content {
    /// The text.
    text: Option<String>,
}

/// `SmsWebhooks`.
#[derive(Debug, Deserialize)]
struct Webhooks {
    /// Where reports go.
    delivery: Option<Delivery>,
    /// Echoed in reports.
    #[serde(rename = "callbackData")]
    callback_data: Option<String>,
}

/// `webhooks.delivery`.
#[derive(Debug, Deserialize)]
struct Delivery {
    /// The report URL.
    url: Option<String>,
    /// Also report the intermediate DELIVERED_TO_OPERATOR state.
    #[serde(rename = "intermediateReport")]
    intermediate_report: Option<bool>,
    /// False: no reports.
    notify: Option<bool>,
}

/// The answer to an accepted request (typed: it is built on every send).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SendReply {
    /// Id of this request's messages together.
    bulk_id: String,
    /// One per destination.
    messages: Vec<SentMessage>,
}

/// One destination's acceptance.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SentMessage {
    /// The message id.
    message_id: String,
    /// Always PENDING_ACCEPTED: the answer is only an acceptance (§3.5).
    status: Status,
    /// The recipient.
    destination: String,
    /// Segment count.
    details: Details,
}

/// An Infobip status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    /// Status group (1 PENDING, 2 UNDELIVERABLE, 3 DELIVERED, …).
    group_id: u8,
    /// The group's name.
    group_name: &'static str,
    /// Status id.
    id: u16,
    /// Status name.
    name: &'static str,
    /// Human description.
    description: &'static str,
}

/// The acceptance status of every sent message.
const PENDING_ACCEPTED: Status = Status {
    group_id: 1,
    group_name: "PENDING",
    id: 26,
    name: "PENDING_ACCEPTED",
    description: "Message sent to next instance",
};

/// `details` of a sent message.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    /// Segments the text takes.
    message_count: u32,
}

/// What an Infobip report needs, captured at acceptance.
#[derive(Debug, Clone)]
pub struct InfobipReport {
    /// `webhooks.delivery.url`.
    pub url: String,
    /// The request's bulk id.
    pub bulk_id: String,
    /// The message id.
    pub message_id: String,
    /// The recipient.
    pub to: String,
    /// The sender id.
    pub sender: String,
    /// `webhooks.callbackData`.
    pub callback_data: Option<String>,
    /// Whether an intermediate report is wanted first.
    pub intermediate: bool,
    /// Segments the text took.
    pub message_count: u32,
    /// When it was accepted.
    pub sent_at: DateTime<Utc>,
}

async fn send_messages(State(gateway): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(fault) = gateway.before_send().await {
        return fault_response(&fault);
    }
    match accept(&gateway, &headers, &body) {
        Ok(reply) => (StatusCode::OK, axum::Json(reply)).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// An `ApiException` answer.
#[derive(Debug)]
struct Refusal {
    /// HTTP status.
    status: StatusCode,
    /// `serviceException.messageId`.
    id: &'static str,
    /// `serviceException.text`.
    text: &'static str,
    /// `serviceException.validationErrors`, field path → messages.
    violations: BTreeMap<String, Vec<String>>,
}

impl Refusal {
    fn new(status: StatusCode, id: &'static str, text: &'static str) -> Self {
        Self {
            status,
            id,
            text,
            violations: BTreeMap::new(),
        }
    }

    fn bad_request() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", "Bad request")
    }

    fn violation(mut self, field: String, message: &str) -> Self {
        self.violations.entry(field).or_default().push(message.to_string());
        self
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut exception = json!({"messageId": self.id, "text": self.text});
        if !self.violations.is_empty() {
            exception["validationErrors"] = json!(self.violations);
        }
        (
            self.status,
            axum::Json(json!({"requestError": {"serviceException": exception}})),
        )
            .into_response()
    }
}

fn fault_response(fault: &Fault) -> Response {
    let refusal = match fault {
        Fault::RateLimited { .. } => Refusal::new(StatusCode::OK, "TOO_MANY_REQUESTS", "Too many requests"),
        Fault::Fail { status } if *status < 500 => Refusal::bad_request(),
        _ => Refusal::new(
            StatusCode::OK,
            "GENERAL_ERROR",
            "Something went wrong. Please contact support.",
        ),
    };
    with_fault_headers(fault, refusal.into_response())
}

fn accept(gateway: &Gateway, headers: &HeaderMap, body: &[u8]) -> Result<SendReply, Refusal> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("App "));
    if key != Some(gateway.credentials.infobip_api_key.as_str()) {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Invalid login details",
        ));
    }
    let request: Request = serde_json::from_slice(body).map_err(|_| Refusal::bad_request())?;
    let messages = validate(&request)?;
    let bulk_id = ids::uuid_v4();
    let mut replies = Vec::new();
    // A rejected recipient refuses the whole request, before any is accepted.
    for (i, (message, _)) in messages.iter().enumerate() {
        for (j, destination) in message.destinations.iter().flatten().enumerate() {
            if gateway.faults.rejects(destination.to.as_deref().unwrap_or_default()) {
                let field = format!("messages[{i}].destinations[{j}].to");
                return Err(Refusal::bad_request().violation(field, "invalid destination address"));
            }
        }
    }
    for (message, text) in messages {
        let sender = message.sender.clone().unwrap_or_else(|| DEFAULT_SENDER.to_string());
        let segments = count_segments(text);
        let webhooks = message.webhooks.as_ref();
        let delivery = webhooks.and_then(|w| w.delivery.as_ref());
        let report_url = delivery
            .filter(|d| d.notify != Some(false))
            .and_then(|d| d.url.clone())
            .filter(|url| !url.is_empty());
        for destination in message.destinations.iter().flatten() {
            let to = destination.to.clone().unwrap_or_default();
            let message_id = destination.message_id.clone().unwrap_or_else(ids::uuid_v4);
            if let Some(key) = destination.message_id.as_deref()
                && gateway.idempotency.claim(Preset::Infobip, key, &to, text, &message_id) != Claim::First
            {
                // Sent before under this id: the same acceptance, no second delivery.
                replies.push(SentMessage {
                    message_id,
                    status: PENDING_ACCEPTED,
                    destination: to,
                    details: Details {
                        message_count: segments,
                    },
                });
                continue;
            }
            let report = report_url
                .as_ref()
                .filter(|_| gateway.sends_receipts())
                .map(|url| InfobipReport {
                    url: url.clone(),
                    bulk_id: bulk_id.clone(),
                    message_id: message_id.clone(),
                    to: to.clone(),
                    sender: sender.clone(),
                    callback_data: webhooks.and_then(|w| w.callback_data.clone()),
                    intermediate: delivery.and_then(|d| d.intermediate_report).unwrap_or(false),
                    message_count: segments,
                    sent_at: gateway.clock.now(),
                });
            let status = gateway.accept(Accepted {
                preset: Preset::Infobip,
                to: to.clone(),
                from: Some(sender.clone()),
                text: text.to_string(),
                coding: None,
                reference: destination
                    .message_id
                    .clone()
                    .or_else(|| report_url.as_deref().and_then(|url| form::query_param(url, "id"))),
                message_id: message_id.clone(),
                callback_url: report_url.clone(),
            });
            if let Some(report) = report {
                gateway.queue_receipt(status, ReceiptKind::Infobip(report));
            }
            replies.push(SentMessage {
                message_id,
                status: PENDING_ACCEPTED,
                destination: to,
                details: Details {
                    message_count: segments,
                },
            });
        }
    }
    Ok(SendReply {
        bulk_id,
        messages: replies,
    })
}

/// Checks the required fields; returns each message with its text.
fn validate(request: &Request) -> Result<Vec<(&Message, &str)>, Refusal> {
    let mut refusal = Refusal::bad_request();
    let messages = request.messages.as_deref().unwrap_or_default();
    if messages.is_empty() {
        refusal = refusal.violation("messages".into(), "must not be empty");
    }
    let mut valid = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        let destinations = message.destinations.as_deref().unwrap_or_default();
        if destinations.is_empty() {
            refusal = refusal.violation(format!("messages[{i}].destinations"), "must not be empty");
        }
        for (j, destination) in destinations.iter().enumerate() {
            if destination.to.as_deref().is_none_or(str::is_empty) {
                refusal = refusal.violation(format!("messages[{i}].destinations[{j}].to"), "must not be blank");
            }
        }
        match message.content.as_ref().and_then(|c| c.text.as_deref()) {
            Some(text) if !text.is_empty() => valid.push((message, text)),
            _ => refusal = refusal.violation(format!("messages[{i}].content.text"), "must not be blank"),
        }
    }
    if refusal.violations.is_empty() {
        Ok(valid)
    } else {
        Err(refusal)
    }
}

/// Infobip's `yyyy-MM-dd'T'HH:mm:ss.SSSZ` (`+0000`).
fn infobip_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true).replace('Z', "+0000")
}

/// One entry of `results`.
pub fn report_json(report: &InfobipReport, delivered: bool, final_report: bool, now: DateTime<Utc>) -> Value {
    let (status, error) = if !final_report {
        (
            json!({"groupId": 3, "groupName": "DELIVERED", "id": 2, "name": "DELIVERED_TO_OPERATOR",
                   "description": "Message delivered to operator"}),
            json!({"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR",
                   "description": "No Error", "permanent": false}),
        )
    } else if delivered {
        (
            json!({"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET",
                   "description": "Message delivered to handset"}),
            json!({"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR",
                   "description": "No Error", "permanent": false}),
        )
    } else {
        (
            json!({"groupId": 2, "groupName": "UNDELIVERABLE", "id": 9, "name": "UNDELIVERABLE_NOT_DELIVERED",
                   "description": "Message sent not delivered"}),
            json!({"groupId": 1, "groupName": "HANDSET_ERRORS", "id": 27, "name": "EC_ABSENT_SUBSCRIBER",
                   "description": "Absent Subscriber", "permanent": false}),
        )
    };
    let mut result = json!({
        "bulkId": report.bulk_id,
        "messageId": report.message_id,
        "to": report.to,
        "sender": report.sender,
        "sentAt": infobip_time(report.sent_at),
        "doneAt": infobip_time(now),
        "messageCount": report.message_count,
        "mccMnc": "51010",
        "price": {"pricePerMessage": 0, "currency": "IDR"},
        "status": status,
        "error": error,
    });
    if let Some(data) = &report.callback_data {
        result["callbackData"] = json!(data);
    }
    result
}

/// Sends the reports of one batch (all for `url`): the intermediate ones
/// first, if any asked for them, then the final ones.
pub async fn send_reports(courier: &Courier, url: &str, batch: &[(InfobipReport, bool)]) {
    let now = courier.clock.now();
    let intermediate: Vec<Value> = batch
        .iter()
        .filter(|(report, _)| report.intermediate)
        .map(|(report, delivered)| report_json(report, *delivered, false, now))
        .collect();
    let finals: Vec<Value> = batch
        .iter()
        .map(|(report, delivered)| report_json(report, *delivered, true, now))
        .collect();
    for results in [intermediate, finals] {
        if results.is_empty() {
            continue;
        }
        let sent = courier.client.post(url).json(&json!({"results": results})).send().await;
        let ok = match sent {
            Ok(response) => response.status().is_success(),
            Err(e) => {
                tracing::debug!(error = ?e.without_url(), "Infobip delivery report not delivered");
                false
            }
        };
        courier.count(ok);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn timestamps_use_infobips_format() {
        let at = Utc.with_ymd_and_hms(2025, 7, 10, 8, 30, 5).unwrap();
        assert_eq!(infobip_time(at), "2025-07-10T08:30:05.000+0000");
    }

    #[test]
    fn missing_fields_are_named() {
        let request: Request =
            serde_json::from_str(r#"{"messages":[{"destinations":[{"to":""}],"content":{}}]}"#).unwrap();
        let refusal = validate(&request).unwrap_err();
        let fields: Vec<&String> = refusal.violations.keys().collect();
        assert_eq!(fields, ["messages[0].content.text", "messages[0].destinations[0].to"]);
    }
}
