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

use serde_json::{Value, json};

use super::OutboundSms;
use super::gateway::{Context, Wire, digits};
use super::http::Answer;
use crate::channels::error::{ChannelConfigError, SendError};
use crate::channels::settings::GatewaySettings;
use crate::schedule::SmsSize;

/// Infobip's SMS API.
#[derive(Debug)]
pub struct Infobip {
    /// The gateway.
    ctx: Context,
    /// The API key.
    api_key: String,
    /// `sender`, when configured (else Infobip's default).
    sender: Option<String>,
}

impl Infobip {
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

impl Wire for Infobip {
    fn request(
        &self,
        http: &reqwest::Client,
        msg: &OutboundSms,
        _size: &SmsSize,
        key: &str,
    ) -> Result<reqwest::RequestBuilder, SendError> {
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
