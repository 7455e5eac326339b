//! Kannel smsbox: `GET /cgi-bin/sendsms` (Kannel user guide, "Sending SMS").
//!
//! Kannel gives no message id: the reminder id travels in our `dlr-url`,
//! whose `%d` (report value, a bitmask), `%A` (the SMSC's answer, kept as
//! the reason of a failure), `%i` (smsc id), `%F` (SMSC message id) and
//! `%T` (UNIX time) Kannel expands when it calls back. `dlr-mask=19` asks
//! for the final states only (delivered 1, not delivered 2, SMSC rejected
//! 16); Kannel may still add other bits to a report (34: not delivered,
//! with the SMSC's detail).
//!
//! `sendsms` takes no client message id or idempotency key (the id in our
//! `dlr-url` only comes back in receipts): a message sent again (after a
//! crash between the send and its record) is sent twice.
//!
//! Inbound SMS come from an `sms-service` as `GET
//! /inbound/{gateway}?from=%p&text=%a&token=…`, and Kannel sends the answer
//! back as the reply SMS:
//!
//! ```text
//! group = sms-service
//! keyword = default
//! get-url = "https://pengingat.example.go.id/inbound/kannel?from=%p&text=%a&token=SECRET"
//! max-messages = 1
//! omit-empty = true
//! ```
//!
//! (`omit-empty`: an empty answer, for a message that is not a keyword,
//! sends no reply.)

mod dlr;
pub mod signature;

use signature::{signature as receipt_signature, signature_matches};

use super::callback::{self, field, form_pairs, invalid, query_and_form, reminder_id, required, value_of};
use super::sender::Login;
use super::settings::{GatewaySettings, ReceiptAuth};
use super::{
    Ack, AuthError, Callback, CallbackGateway, Capabilities, Context, Inbound, Outgoing, Receipts, ParsedReceipt, Provider,
    Sender,
};
use crate::channels::error::{ChannelConfigError, SendError};
use crate::channels::sms::http::{Answer, is_unreserved};
use crate::schedule::SmsEncoding;

/// Final states only: 1 + 2 + 16.
const DLR_MASK: &str = "19";

/// The Kannel preset.
pub struct Kannel;

impl Provider for Kannel {
    /// Kannel's smsbox `max-messages` is 10 by default; a longer text is cut
    /// while smsbox still answers "0: Accepted".
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            signed_receipt_urls: true,
            ..Capabilities::BASE
        }
    }

    /// The receipt token, or with `receipt_auth = "signature"` a report's
    /// `sig` over its reminder id.
    fn authenticate(&self, gateway: &CallbackGateway, callback: &Callback<'_>) -> Result<(), AuthError> {
        let expected = callback::receipt_token(gateway)?;
        let query = callback.query.map(|q| form_pairs(q.as_bytes())).unwrap_or_default();
        if gateway.signed
            && let Some(sig) = value_of(&query, "sig")
        {
            let id = value_of(&query, "id").and_then(|id| id.trim().parse::<i64>().ok());
            return match id {
                Some(id) if signature_matches(expected, &gateway.name, id, &sig) => Ok(()),
                _ => Err(AuthError::Wrong),
            };
        }
        callback::check_token(expected, callback)
    }

    /// `GET {dlr-url}` with `id` (our reminder id), `status` (`%d`, a
    /// bitmask read by [`dlr::state`]) and `answer` (`%A`, the SMSC's
    /// answer; Kannel user guide), `fid` (`%F`) kept as the message id for audit.
    fn receipts(&self, _gateway: &CallbackGateway, query: Option<&str>, body: &[u8]) -> Receipts {
        let (pairs, raw) = query_and_form(query, body);
        let id = reminder_id("id", required(&pairs, "id")?)?;
        let code = required(&pairs, "status")?;
        let answer = field(&pairs, "answer");
        let state = code
            .parse::<u8>()
            .ok()
            .and_then(|value| dlr::state(value, answer))
            .ok_or_else(|| invalid("status", code))?;
        Ok(vec![ParsedReceipt {
            reminder_id: Some(id),
            provider_message_id: field(&pairs, "fid").and_then(|f| self.message_id(f)),
            state,
            detail: answer.and_then(dlr::detail),
            raw,
        }])
    }

    /// `from` and `text`, in the query (minus `token`) or a form body.
    fn inbound(&self, query: Option<&str>, body: &[u8]) -> Result<Inbound, String> {
        let (pairs, _) = query_and_form(query, body);
        Inbound::new(value_of(&pairs, "from"), value_of(&pairs, "text"))
    }

    /// Kannel sends the body back as the reply SMS; an empty one sends nothing.
    fn inbound_reply(&self, reply: Option<&str>) -> Ack {
        Ack::Body {
            content_type: "text/plain; charset=utf-8",
            body: reply.unwrap_or("").to_string(),
        }
    }
}

/// Kannel's sendsms interface, for one configured gateway.
#[derive(Debug)]
pub struct KannelSender {
    /// The gateway.
    ctx: Context,
    /// The `sendsms-user` name and password.
    login: Login,
    /// `from`, when configured (else the SMSC's default sender).
    sender: Option<String>,
    /// `receipt_auth = "signature"`: the `dlr-url` carries `sig`, not the token.
    signed: bool,
}

impl KannelSender {
    /// The sender of the gateway `settings` describe.
    pub fn new(ctx: Context, settings: &GatewaySettings) -> Result<Self, ChannelConfigError> {
        let login = ctx.login(
            settings,
            "Kannel needs username (the sendsms-user)",
            "the sendsms-user password",
        )?;
        // Kannel expands `%x` escapes in the whole dlr-url, so a token with
        // `%` (or anything needing percent-encoding) would be mangled.
        if let Some(token) = &ctx.receipt_token
            && !is_unreserved(token)
        {
            return Err(ctx.config_error(
                "a Kannel receipt token may only use letters, digits, '-', '.', '_' and '~' (Kannel expands % in dlr-url)",
            ));
        }
        let signed = settings.receipt_auth == ReceiptAuth::Signature;
        if signed && ctx.receipt_token.as_deref().is_none_or(str::is_empty) {
            return Err(ctx.config_error(
                "receipt_auth = \"signature\" needs a receipt token to sign with (receipt_token_env or receipt_token_file)",
            ));
        }
        Ok(Self {
            sender: settings.sender.clone(),
            signed,
            ctx,
            login,
        })
    }

    /// Our `dlr-url`, escapes unexpanded: the token at its end, or with
    /// `receipt_auth = "signature"` the reminder's `sig` instead.
    fn dlr_url(&self, reminder_id: i64) -> String {
        let id = reminder_id.to_string();
        let mut url = match (&self.ctx.receipt_token, self.signed) {
            (Some(token), true) => {
                let sig = receipt_signature(token, &self.ctx.name, reminder_id);
                format!("{}?id={id}&sig={sig}", self.ctx.receipt_base())
            }
            _ => self.ctx.receipt_url(&[("id", &id)]),
        };
        // Inserted raw after `id`: percent-encoding would hide them from Kannel.
        let escapes = "&status=%d&answer=%A&smsc=%i&fid=%F&ts=%T";
        match url.find("&token=").or_else(|| url.find("&sig=")) {
            Some(at) => url.insert_str(at, escapes),
            None => url.push_str(escapes),
        }
        url
    }
}

impl Sender for KannelSender {
    fn request(&self, http: &reqwest::Client, out: Outgoing<'_>) -> Result<reqwest::RequestBuilder, SendError> {
        let Outgoing { msg, size, .. } = out;
        // With coding=2 Kannel converts the text from `charset` to UCS-2
        // itself, so the text always travels as UTF-8.
        let coding = match size.encoding {
            SmsEncoding::Gsm7 => "0",
            SmsEncoding::Ucs2 => "2",
        };
        let mut query: Vec<(&str, String)> = self.login.fields().into();
        query.extend([
            ("to", msg.to.clone()),
            ("text", msg.text.clone()),
            ("coding", coding.to_string()),
            ("charset", "UTF-8".to_string()),
            ("dlr-mask", DLR_MASK.to_string()),
            ("dlr-url", self.dlr_url(msg.reminder_id)),
        ]);
        if let Some(sender) = &self.sender {
            query.push(("from", sender.clone()));
        }
        Ok(http.get(self.ctx.endpoint("/cgi-bin/sendsms")).query(&query))
    }

    /// `0: Accepted for delivery` or `3: Queued for later delivery` (202);
    /// `Temporal failure` (503) is transient whatever the status says.
    fn accepted(&self, answer: &Answer) -> Result<Option<String>, SendError> {
        let body = answer.body.trim();
        let name = &self.ctx.name;
        if answer.status.is_success() && (body.starts_with("0:") || body.starts_with("3:")) {
            return Ok(None);
        }
        if body.contains("Temporal failure") {
            return Err(SendError::transient(
                name,
                format!("HTTP {}: {body}", answer.status.as_u16()),
                answer.retry_after,
            ));
        }
        if answer.status.is_success() {
            return Err(answer.unexpected(name, "\"0: Accepted for delivery\""));
        }
        let detail = if answer.is_html() {
            answer.excerpt()
        } else {
            body.to_string()
        };
        Err(answer.failure(name, &detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::sms::fixtures;
    use crate::channels::sms::providers::Preset;

    fn kannel(token: Option<&str>) -> KannelSender {
        KannelSender::new(fixtures::context(token), &fixtures::settings(Preset::Kannel)).unwrap()
    }

    #[test]
    fn the_dlr_url_carries_our_id_the_escapes_and_the_token() {
        assert_eq!(
            kannel(Some("t0k3n")).dlr_url(42),
            "https://pengingat.example/receipts/gw-1?id=42&status=%d&answer=%A&smsc=%i&fid=%F&ts=%T&token=t0k3n"
        );
        assert_eq!(
            kannel(None).dlr_url(7),
            "https://pengingat.example/receipts/gw-1?id=7&status=%d&answer=%A&smsc=%i&fid=%F&ts=%T"
        );
    }

    #[test]
    fn a_signed_dlr_url_carries_the_signature_never_the_token() {
        let mut settings = fixtures::settings(Preset::Kannel);
        settings.receipt_auth = ReceiptAuth::Signature;
        let signed = KannelSender::new(fixtures::context(Some("t0k3n")), &settings).unwrap();
        let sig = receipt_signature("t0k3n", "gw-1", 42);
        assert_eq!(
            signed.dlr_url(42),
            format!("https://pengingat.example/receipts/gw-1?id=42&status=%d&answer=%A&smsc=%i&fid=%F&ts=%T&sig={sig}")
        );
        assert!(!signed.dlr_url(42).contains("t0k3n"));
        let error = KannelSender::new(fixtures::context(None), &settings).unwrap_err();
        assert!(error.to_string().contains("needs a receipt token"), "{error}");
    }
}
