//! Who may post receipts and inbound SMS: the gateway's receipt token (query
//! `token` or `Authorization: Bearer`), compared in constant time, a Kannel
//! report's `sig` over its reminder id (`receipt_auth = "signature"`), or for
//! Twilio the `X-Twilio-Signature` over the public URL and the form (Twilio's
//! "Webhooks security").

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use subtle::ConstantTimeEq;

use super::kannel::signature_matches;
use super::parse::form_pairs;
use super::{ReceiptGateway, ReceiptGateways};
use crate::config::delivery::Preset;
use crate::twilio_signature::{SIGNATURE_HEADER, verify_twilio_signature};

/// Why a callback was refused (all answered 401, nothing recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// The gateway has no receipt secret configured.
    NotConfigured,
    /// The callback carries no token or signature.
    Missing,
    /// The token or signature is wrong.
    Wrong,
}

impl AuthError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConfigured => "no receipt secret is configured for this gateway",
            Self::Missing => "missing token or signature",
            Self::Wrong => "wrong token or signature",
        }
    }
}

/// A callback as it arrived.
pub(crate) struct Callback<'a> {
    /// `receipts` or `inbound`.
    pub route: &'a str,
    /// The raw query string.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

pub(crate) fn authenticate(
    gateways: &ReceiptGateways,
    gateway: &ReceiptGateway,
    callback: &Callback<'_>,
) -> Result<(), AuthError> {
    match gateway.preset {
        Preset::Twilio => twilio(gateways, gateway, callback),
        _ => token(gateway, callback),
    }
}

fn token(gateway: &ReceiptGateway, callback: &Callback<'_>) -> Result<(), AuthError> {
    let expected = gateway
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::NotConfigured)?;
    let query = callback.query.map(|q| form_pairs(q.as_bytes())).unwrap_or_default();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if gateway.signed
        && let Some(sig) = param("sig")
    {
        // A Kannel report of a signed dlr-url: the signature of its reminder id.
        let id = param("id").and_then(|id| id.trim().parse::<i64>().ok());
        return match id {
            Some(id) if signature_matches(expected, &gateway.name, id, sig) => Ok(()),
            _ => Err(AuthError::Wrong),
        };
    }
    let from_query = param("token").map(str::to_string);
    let from_header = || {
        callback
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|v| v.trim().to_string())
    };
    let given = from_query.or_else(from_header).ok_or(AuthError::Missing)?;
    if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(AuthError::Wrong)
    }
}

fn twilio(gateways: &ReceiptGateways, gateway: &ReceiptGateway, callback: &Callback<'_>) -> Result<(), AuthError> {
    let auth_token = gateway
        .auth_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::NotConfigured)?;
    let signature = callback
        .headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthError::Missing)?;
    let url = gateways.public_url(callback.route, &gateway.name, callback.query);
    let params = form_pairs(callback.body);
    if verify_twilio_signature(auth_token, &url, &params, signature) {
        Ok(())
    } else {
        Err(AuthError::Wrong)
    }
}
