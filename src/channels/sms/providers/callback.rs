//! What every gateway's callbacks share: the callback as it arrived, the
//! gateway it claims to come from, what it reads into (receipts, an inbound
//! SMS), the answer, and the form and token helpers the presets read them with.

use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use thiserror::Error;

use super::{Preset, WebhookReceiptSettings};
use crate::store::ReceiptState;

/// One gateway callbacks are accepted from, with its secrets.
#[derive(Clone)]
pub struct CallbackGateway {
    /// Its configured name, the `{gateway}` of the URLs.
    pub name: String,
    /// The format its callbacks come in.
    pub preset: Preset,
    /// The secret its callbacks carry (`token` or `Authorization: Bearer`);
    /// `None`: none configured, and every callback is refused.
    pub token: Option<String>,
    /// The password that signs its callbacks, for a preset whose
    /// [`super::CallbackKey`] is the password (Twilio's auth token).
    pub auth_token: Option<String>,
    /// How a generic webhook's receipts read.
    pub webhook: WebhookReceiptSettings,
    /// Whether a Kannel report may prove itself by `sig` ([`super::kannel_signature`]).
    pub signed: bool,
}

impl std::fmt::Debug for CallbackGateway {
    // Secrets stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackGateway")
            .field("name", &self.name)
            .field("preset", &self.preset)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("auth_token", &self.auth_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A callback as it arrived.
pub struct Callback<'a> {
    /// The URL the gateway was told to call, with the query the request came
    /// with: Twilio signs that URL, not the one the request reaches us at
    /// behind a proxy.
    pub url: &'a str,
    /// The raw query string.
    pub query: Option<&'a str>,
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The body as it arrived.
    pub body: &'a [u8],
}

/// Why a callback was refused (all answered 401, nothing recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// The gateway has no receipt secret configured.
    NotConfigured,
    /// The callback carries no token or signature.
    Missing,
    /// The token or signature is wrong.
    Wrong,
}

impl AuthError {
    /// The reason, as answered and logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConfigured => "no receipt secret is configured for this gateway",
            Self::Missing => "missing token or signature",
            Self::Wrong => "wrong token or signature",
        }
    }
}

/// The answer to an accepted callback (always `200`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// No body and no content type.
    Empty,
    /// A body of this content type.
    Body {
        /// The `Content-Type`.
        content_type: &'static str,
        /// The body.
        body: String,
    },
}

impl Ack {
    /// `value` as an `application/json` body.
    pub fn json(value: &serde_json::Value) -> Self {
        Self::Body {
            content_type: "application/json",
            body: value.to_string(),
        }
    }
}

/// An inbound SMS as read from the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The sender, as the gateway wrote it.
    pub from: String,
    /// The text.
    pub text: String,
}

impl Inbound {
    /// The message, or what is missing.
    pub(super) fn new(from: Option<String>, text: Option<String>) -> Result<Self, String> {
        let from = from.filter(|f| !f.trim().is_empty()).ok_or("from is missing")?;
        let text = text.ok_or("text is missing")?;
        Ok(Self { from, text })
    }
}

#[derive(Deserialize)]
struct InboundJson {
    from: Option<String>,
    text: Option<String>,
}

/// An inbound SMS posted as JSON `{"from": "+62…", "text": "…"}`.
pub(super) fn inbound_json(body: &[u8]) -> Result<Inbound, String> {
    let json: InboundJson = serde_json::from_slice(body).map_err(|e| format!("malformed JSON: {e}"))?;
    Inbound::new(json.from, json.text)
}

/// The first value of `name` in `pairs`, as it is.
pub(super) fn value_of(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// The gateway's receipt token, or [`AuthError::NotConfigured`].
pub(super) fn receipt_token(gateway: &CallbackGateway) -> Result<&str, AuthError> {
    gateway
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::NotConfigured)
}

/// Whether `callback` carries `expected` in its query (`token`) or as
/// `Authorization: Bearer`, compared in constant time.
pub(super) fn check_token(expected: &str, callback: &Callback<'_>) -> Result<(), AuthError> {
    let query = callback.query.map(|q| form_pairs(q.as_bytes())).unwrap_or_default();
    let from_header = || {
        callback
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|v| v.trim().to_string())
    };
    let given = value_of(&query, "token")
        .or_else(from_header)
        .ok_or(AuthError::Missing)?;
    if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(AuthError::Wrong)
    }
}

/// One receipt as read from a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedReceipt {
    /// Our reminder id, when the callback carries it.
    pub reminder_id: Option<i64>,
    /// The gateway's message id, normalised ([`super::Provider::message_id`]).
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

/// Name/value pairs of a URL-encoded form.
pub(crate) fn form_pairs(encoded: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(encoded).into_owned().collect()
}

/// The first non-empty value of `name`, trimmed.
pub(super) fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

pub(super) fn required<'a>(pairs: &'a [(String, String)], name: &str) -> Result<&'a str, ParseError> {
    field(pairs, name).ok_or_else(|| ParseError::Missing(name.to_string()))
}

pub(super) fn invalid(field: &str, value: &str) -> ParseError {
    ParseError::Invalid {
        field: field.to_string(),
        value: value.chars().take(40).collect(),
    }
}

/// A reminder id: a positive integer.
pub(super) fn reminder_id(field: &str, value: &str) -> Result<i64, ParseError> {
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
pub(super) fn query_and_form(query: Option<&str>, body: &[u8]) -> (Vec<(String, String)>, String) {
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
