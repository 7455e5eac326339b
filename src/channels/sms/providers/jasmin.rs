//! Jasmin HTTP API: `POST /send`, form-encoded (Jasmin's HTTP API documentation).
//!
//! UCS-2 text goes as `hex-content` (UTF-16BE bytes in hex) with
//! `coding=8`; GSM-7 text as `content` with `coding=0`. Receipts are asked
//! for at both levels (`dlr-level=3`) by form POST; the receipts endpoint
//! must answer `ACK/Jasmin`. The answer is `Success "<uuid>"`; errors are
//! `Error "…"` with a 4xx or 5xx status.
//!
//! Jasmin's `/send` takes no client message id or idempotency key: a message
//! sent again (after a crash between the send and its record) is sent twice.

use std::fmt::Write as _;

use super::callback::{field, form_pairs, query_and_form, required};
use super::sender::{Login, digits};
use super::settings::GatewaySettings;
use super::{Ack, CallbackGateway, Capabilities, Context, Outgoing, Receipts, ParsedReceipt, Provider, Sender};
use crate::channels::error::{ChannelConfigError, SendError};
use crate::channels::sms::http::Answer;
use crate::schedule::SmsEncoding;
use crate::store::ReceiptState;

/// Jasmin refuses user names and passwords longer than this.
const MAX_CREDENTIAL_CHARS: usize = 30;

/// The Jasmin preset.
pub struct Jasmin;

impl Provider for Jasmin {
    /// Jasmin's `long_content_max_parts` is 5.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            default_max_segments: 5,
            ..Capabilities::BASE
        }
    }

    /// Trimmed and lower-cased: Jasmin users were hurt by UUIDs whose case
    /// or format differed between the send's answer and the receipt.
    fn message_id(&self, id: &str) -> Option<String> {
        let id = id.trim();
        (!id.is_empty()).then(|| id.to_ascii_lowercase())
    }

    /// `id` (its UUID) and `message_status`, in the form body (POST) or the
    /// query (GET) (Jasmin's documentation).
    fn receipts(&self, _gateway: &CallbackGateway, query: Option<&str>, body: &[u8]) -> Receipts {
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
        Ok(vec![ParsedReceipt {
            reminder_id: ours,
            provider_message_id: self.message_id(id),
            state,
            detail: None,
            raw,
        }])
    }

    /// Anything but `ACK/Jasmin` and Jasmin sends the receipt again.
    fn receipt_ack(&self) -> Ack {
        Ack::Body {
            content_type: "text/plain",
            body: "ACK/Jasmin".to_string(),
        }
    }
}

/// Jasmin's HTTP API, for one configured gateway.
#[derive(Debug)]
pub struct JasminSender {
    /// The gateway.
    ctx: Context,
    /// The Jasmin user and its password.
    login: Login,
    /// `from`, when configured.
    sender: Option<String>,
}

impl JasminSender {
    /// The sender of the gateway `settings` describe.
    pub fn new(ctx: Context, settings: &GatewaySettings) -> Result<Self, ChannelConfigError> {
        let login = ctx.login(settings, "Jasmin needs username", "the Jasmin password")?;
        if login.username.chars().count() > MAX_CREDENTIAL_CHARS || login.password.chars().count() > MAX_CREDENTIAL_CHARS {
            return Err(ctx.config_error("Jasmin user names and passwords are at most 30 characters"));
        }
        Ok(Self {
            sender: settings.sender.clone(),
            ctx,
            login,
        })
    }
}

/// UTF-16BE bytes in upper-case hex.
fn ucs2_hex(text: &str) -> String {
    let mut hex = String::with_capacity(text.len() * 4);
    for unit in text.encode_utf16() {
        let _ = write!(hex, "{unit:04X}");
    }
    hex
}

impl Sender for JasminSender {
    fn request(&self, http: &reqwest::Client, out: Outgoing<'_>) -> Result<reqwest::RequestBuilder, SendError> {
        let Outgoing { msg, size, .. } = out;
        let id = msg.reminder_id.to_string();
        // Our id rides along so a receipt that beats the send's answer (a
        // known Jasmin race) still finds the reminder.
        // Not as `id`: Jasmin's receipt carries its own message id under that name.
        let dlr_url = self.ctx.receipt_url(&[("reminder", &id)]);
        let mut form: Vec<(&str, String)> = self.login.fields().into();
        form.push(("to", digits(&msg.to).to_string()));
        if let Some(sender) = &self.sender {
            form.push(("from", sender.clone()));
        }
        match size.encoding {
            SmsEncoding::Gsm7 => {
                form.push(("coding", "0".into()));
                form.push(("content", msg.text.clone()));
            }
            SmsEncoding::Ucs2 => {
                form.push(("coding", "8".into()));
                form.push(("hex-content", ucs2_hex(&msg.text)));
            }
        }
        form.extend([
            ("dlr", "yes".to_string()),
            ("dlr-url", dlr_url),
            ("dlr-level", "3".to_string()),
            ("dlr-method", "POST".to_string()),
        ]);
        Ok(http.post(self.ctx.endpoint("/send")).form(&form))
    }

    fn accepted(&self, answer: &Answer) -> Result<Option<String>, SendError> {
        let body = answer.body.trim();
        let name = &self.ctx.name;
        if answer.status.is_success() {
            return match quoted(body, "Success") {
                Some(id) if !id.is_empty() => Ok(Some(id.to_string())),
                _ => Err(answer.unexpected(name, "Success \"<id>\"")),
            };
        }
        let detail = match quoted(body, "Error") {
            Some(message) => message.to_string(),
            None => answer.excerpt(),
        };
        Err(answer.failure(name, &detail))
    }
}

/// The quoted part of `Word "…"`.
fn quoted<'a>(body: &'a str, word: &str) -> Option<&'a str> {
    body.strip_prefix(word)?
        .trim_start()
        .strip_prefix('"')?
        .strip_suffix('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ucs2_is_utf16be_hex() {
        assert_eq!(ucs2_hex("A–"), "00412013");
        assert_eq!(ucs2_hex("😀"), "D83DDE00");
    }

    #[test]
    fn answers_are_read_between_quotes() {
        assert_eq!(quoted("Success \"07033084-5cfd\"", "Success"), Some("07033084-5cfd"));
        assert_eq!(quoted("Error \"No route found\"", "Error"), Some("No route found"));
        assert_eq!(quoted("<html>", "Success"), None);
    }
}
