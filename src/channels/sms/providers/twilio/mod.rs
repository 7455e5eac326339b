//! Twilio Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
//! form-encoded, HTTP Basic `AccountSid:AuthToken`. Parameters as in Twilio's OpenAPI document, operation
//! `CreateMessage`: `To` (required, E.164), one of `From` /
//! `MessagingServiceSid` and one of `Body` / `MediaUrl` / `ContentSid`
//! (`x-twilio.conditional`), `StatusCallback` (a URI). The path's
//! `AccountSid` must match `^AC[0-9a-fA-F]{32}$`. Success is `201` with the
//! Message resource, whose `sid` is the message id; errors are JSON
//! `{"code", "message", "status"}`.
//!
//! `CreateMessage` takes no idempotency key or client reference that Twilio
//! de-duplicates by: a message sent again (after a crash between the send
//! and its record) is a second message to the phone.
//!
//! Its callbacks (status callbacks and incoming messages) are signed with
//! `X-Twilio-Signature` ([`signature`]); an incoming message (form `From`,
//! `Body`) is answered with TwiML carrying the reply.

pub mod signature;

use super::callback::{field, form_pairs, value_of};
use super::settings::GatewaySettings;
use super::{
    Ack, AuthError, Callback, CallbackGateway, CallbackKey, Capabilities, Context, Inbound, Outgoing, ParseError, Receipts, ParsedReceipt,
    Provider, Sender,
};
use crate::channels::error::{ChannelConfigError, SendError};
use crate::channels::sms::http::Answer;
use crate::store::ReceiptState;

/// "Can be up to 1,600 characters in length" (`Body`, OpenAPI).
const MAX_BODY_CHARS: usize = 1600;

/// Who the message is from.
#[derive(Debug, Clone)]
enum Origin {
    /// `From`: a Twilio number or an alphanumeric sender id.
    From(String),
    /// `MessagingServiceSid`: `MG` + 32 hex digits.
    Service(String),
}

/// The Twilio preset.
pub struct Twilio;

impl Provider for Twilio {
    /// 10 GSM-7 segments fit the 1,600-character body limit (error 21617 beyond).
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            callback_key: CallbackKey::Password,
            ..Capabilities::BASE
        }
    }

    /// `X-Twilio-Signature` over the URL Twilio was given and the form,
    /// keyed with the auth token (Twilio's "Webhooks security").
    fn authenticate(&self, gateway: &CallbackGateway, callback: &Callback<'_>) -> Result<(), AuthError> {
        let auth_token = gateway
            .auth_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::NotConfigured)?;
        let given = callback
            .headers
            .get(signature::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(AuthError::Missing)?;
        let params = form_pairs(callback.body);
        if signature::verify_twilio_signature(auth_token, callback.url, &params, given) {
            Ok(())
        } else {
            Err(AuthError::Wrong)
        }
    }

    /// Form POST with `MessageSid` and `MessageStatus` (or their `Sms*`
    /// twins) (Twilio's documentation). Our reminder id rides in the
    /// `StatusCallback` URL's query (`id`), which the signature covers, so a
    /// receipt that beats the send's record still finds its reminder.
    fn receipts(&self, _gateway: &CallbackGateway, query: Option<&str>, body: &[u8]) -> Receipts {
        let ours = value_of(&form_pairs(query.unwrap_or("").as_bytes()), "id").and_then(|v| v.parse::<i64>().ok());
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
        Ok(vec![ParsedReceipt {
            reminder_id: ours,
            provider_message_id: self.message_id(sid),
            state,
            detail: None,
            raw: String::from_utf8_lossy(body).into_owned(),
        }])
    }

    /// Its incoming-message webhook: form `From` and `Body`.
    fn inbound(&self, _query: Option<&str>, body: &[u8]) -> Result<Inbound, String> {
        let pairs = form_pairs(body);
        Inbound::new(value_of(&pairs, "From"), value_of(&pairs, "Body"))
    }

    /// TwiML, with a `<Message>` when there is a reply. The replies are
    /// fixed texts without XML's special characters.
    fn inbound_reply(&self, reply: Option<&str>) -> Ack {
        let twiml = match reply {
            Some(t) => format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{t}</Message></Response>"),
            None => "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>".to_string(),
        };
        Ack::Body {
            content_type: "text/xml",
            body: twiml,
        }
    }
}

/// Twilio's REST API, for one configured gateway.
#[derive(Debug)]
pub struct TwilioSender {
    /// The gateway.
    ctx: Context,
    /// The Account SID (Basic auth user and part of the path).
    account_sid: String,
    /// The Auth Token.
    auth_token: String,
    /// `From` or `MessagingServiceSid`.
    sender: Origin,
}

/// `^{prefix}[0-9a-fA-F]{32}$`, Twilio's sid pattern.
fn is_sid(sid: &str, prefix: &str) -> bool {
    sid.len() == 34 && sid.starts_with(prefix) && sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl TwilioSender {
    /// The sender of the gateway `settings` describe.
    pub fn new(ctx: Context, settings: &GatewaySettings) -> Result<Self, ChannelConfigError> {
        let account_sid = settings
            .username
            .clone()
            .filter(|sid| is_sid(sid, "AC"))
            .ok_or_else(|| ctx.config_error("Twilio needs username = the Account SID (AC + 32 hex digits)"))?;
        let auth_token = ctx.require_password("the Twilio Auth Token")?;
        let sender = match settings.sender.clone() {
            Some(sid) if is_sid(&sid, "MG") => Origin::Service(sid),
            Some(from) if !from.is_empty() => Origin::From(from),
            _ => {
                return Err(ctx.config_error(
                    "Twilio needs sender: a From number or sender id, or a Messaging Service SID (MG…)",
                ));
            }
        };
        // Twilio refuses a StatusCallback whose host has an underscore.
        let host = url::Url::parse(&ctx.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        if host.contains('_') {
            return Err(ctx.config_error(format!(
                "Twilio refuses callback hosts with '_' and delivery.public_url's host is {host:?}"
            )));
        }
        Ok(Self {
            ctx,
            account_sid,
            auth_token,
            sender,
        })
    }
}

impl Sender for TwilioSender {
    fn request(&self, http: &reqwest::Client, out: Outgoing<'_>) -> Result<reqwest::RequestBuilder, SendError> {
        let Outgoing { msg, .. } = out;
        if msg.text.chars().count() > MAX_BODY_CHARS {
            return Err(SendError::permanent(
                &self.ctx.name,
                format!("text longer than Twilio's {MAX_BODY_CHARS} characters"),
            ));
        }
        let id = msg.reminder_id.to_string();
        // Signed by Twilio with the full URL, so the id in it is trustworthy.
        let callback = self.ctx.receipt_url(&[("id", &id)]);
        let (sender_field, sender) = match &self.sender {
            Origin::From(from) => ("From", from),
            Origin::Service(sid) => ("MessagingServiceSid", sid),
        };
        let form = [
            ("To", msg.to.as_str()),
            (sender_field, sender.as_str()),
            ("Body", msg.text.as_str()),
            ("StatusCallback", callback.as_str()),
        ];
        let path = format!("/2010-04-01/Accounts/{}/Messages.json", self.account_sid);
        Ok(http
            .post(self.ctx.endpoint(&path))
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&form))
    }

    fn accepted(&self, answer: &Answer) -> Result<Option<String>, SendError> {
        let name = &self.ctx.name;
        let json = answer.json();
        if answer.status.is_success() {
            let sid = json.as_ref().and_then(|j| j.get("sid")).and_then(|s| s.as_str());
            return match sid {
                Some(sid) if !sid.is_empty() => Ok(Some(sid.to_string())),
                _ => Err(answer.unexpected(name, "a Message resource with a sid")),
            };
        }
        let detail = match json
            .as_ref()
            .and_then(|j| Some((j.get("code")?, j.get("message")?.as_str()?)))
        {
            Some((code, message)) => format!("Twilio error {code}: {message}"),
            None => answer.excerpt(),
        };
        // 401: Twilio did not accept our Account SID and auth token. Every
        // message would meet it until an operator fixes username or the
        // password, so it is a configuration error: the gateway leaves
        // service (the next one takes over) and /readyz names it. 403 is
        // left transient (failover, and the circuit breaker decides when to
        // try again): the account may not use the resource now (suspended,
        // a permission missing), which is fixed in Twilio's console with no
        // change here and no restart, so the gateway must come back by itself.
        if answer.status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(SendError::configuration(
                name,
                format!(
                    "Twilio refused our credentials ({detail}): check username (the Account SID) and the \
                     password (auth token) of [[sms.gateway]] {name:?}"
                ),
            ));
        }
        Err(answer.failure(name, &detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_follow_twilios_pattern() {
        assert!(is_sid("AC00000000000000000000000000000000", "AC"));
        assert!(is_sid("MGabcdefABCDEF0123456789abcdef0123", "MG"));
        assert!(!is_sid("AC0000", "AC"));
        assert!(!is_sid("MG00000000000000000000000000000000", "AC"));
        assert!(!is_sid("ACzz000000000000000000000000000000", "AC"));
    }
}
