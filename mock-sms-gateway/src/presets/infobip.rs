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
//! up to 100 per request (see `infobip_report`).
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
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::infobip_report::InfobipReport;
use super::with_fault_headers;
use crate::faults::Fault;
use crate::form;
use crate::idempotency::Claim;
use crate::ids;
use crate::receipts::ReceiptKind;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_are_named() {
        let request: Request =
            serde_json::from_str(r#"{"messages":[{"destinations":[{"to":""}],"content":{}}]}"#).unwrap();
        let refusal = validate(&request).unwrap_err();
        let fields: Vec<&String> = refusal.violations.keys().collect();
        assert_eq!(fields, ["messages[0].content.text", "messages[0].destinations[0].to"]);
    }
}
