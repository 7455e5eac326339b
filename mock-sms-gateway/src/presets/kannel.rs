//! Kannel smsbox: `GET /cgi-bin/sendsms` (Kannel user guide, "Sending SMS").
//!
//! Answers and their texts are smsbox's: `202 0: Accepted for delivery`,
//! `403 Authorization failed for sendsms`, `400 Missing receiver number,
//! rejected`, `400 … field misformed, rejected`, `503 Temporal failure, try
//! again later.`, all `text/html`. One divergence: a missing `text` is
//! refused (`400 Missing text, rejected`) where smsbox would send an empty
//! SMS, because an empty reminder is always a sender's bug.

use std::borrow::Cow;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, http::HeaderValue};

use super::kannel_dlr::KannelDlr;
use super::with_fault_headers;
use crate::faults::Fault;
use crate::form;
use crate::ids;
use crate::receipts::ReceiptKind;
use crate::state::{Accepted, Gateway, Shared};
use crate::store::Preset;

pub fn routes() -> Router<Shared> {
    Router::new().route("/cgi-bin/sendsms", get(send))
}

/// Kannel's answer to an accepted message.
pub const ACCEPTED: &str = "0: Accepted for delivery";

/// The DLR mask bits the mock reports: delivered (1), not delivered (2),
/// delivered to SMSC (8), refused by the SMSC (16).
const REPORTED_MASK_BITS: i32 = 1 | 2 | 8 | 16;

/// A refusal: status and smsbox's text.
type Refusal = (StatusCode, &'static str);

async fn send(State(gateway): State<Shared>, RawQuery(query): RawQuery) -> Response {
    if let Some(fault) = gateway.before_send().await {
        return fault_response(&fault);
    }
    let query = query.unwrap_or_default();
    let request = SendRequest::parse(query.as_bytes());
    match accept(&gateway, &request) {
        Ok(()) => answer(StatusCode::ACCEPTED, ACCEPTED),
        Err((status, text)) => answer(status, text),
    }
}

fn answer(status: StatusCode, body: &'static str) -> Response {
    let content_type = HeaderValue::from_static("text/html");
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn fault_response(fault: &Fault) -> Response {
    let text = match fault {
        Fault::RateLimited { .. } => "Too many requests, try again later.",
        Fault::Fail { status } if *status != 503 => "Sending failed.",
        _ => "Temporal failure, try again later.",
    };
    with_fault_headers(fault, answer(StatusCode::OK, text))
}

/// The sendsms CGI variables the mock uses, raw (text may be UTF-16BE).
#[derive(Debug, Default)]
struct SendRequest<'a> {
    /// `username`.
    username: Option<Cow<'a, [u8]>>,
    /// `user`, the older alias.
    user: Option<Cow<'a, [u8]>>,
    /// `password`.
    password: Option<Cow<'a, [u8]>>,
    /// `pass`, the older alias.
    pass: Option<Cow<'a, [u8]>>,
    /// `from`.
    from: Option<Cow<'a, [u8]>>,
    /// `to`: one or more space-separated numbers.
    to: Option<Cow<'a, [u8]>>,
    /// `text`.
    text: Option<Cow<'a, [u8]>>,
    /// `charset`.
    charset: Option<Cow<'a, [u8]>>,
    /// `coding`: 0 7-bit, 1 8-bit, 2 UCS-2.
    coding: Option<Cow<'a, [u8]>>,
    /// `dlr-mask` (or the deprecated `dlrmask`).
    dlr_mask: Option<Cow<'a, [u8]>>,
    /// `dlr-url` (or the deprecated `dlrurl`).
    dlr_url: Option<Cow<'a, [u8]>>,
    /// `meta-data`.
    meta_data: Option<Cow<'a, [u8]>>,
}

impl<'a> SendRequest<'a> {
    fn parse(query: &'a [u8]) -> Self {
        let mut request = Self::default();
        for (name, value) in form::pairs(query) {
            let slot = match name.as_ref() {
                b"username" => &mut request.username,
                b"user" => &mut request.user,
                b"password" => &mut request.password,
                b"pass" => &mut request.pass,
                b"from" => &mut request.from,
                b"to" => &mut request.to,
                b"text" => &mut request.text,
                b"charset" => &mut request.charset,
                b"coding" => &mut request.coding,
                b"dlr-mask" | b"dlrmask" => &mut request.dlr_mask,
                b"dlr-url" | b"dlrurl" => &mut request.dlr_url,
                b"meta-data" => &mut request.meta_data,
                _ => continue,
            };
            // The first occurrence wins, as with Kannel's http_cgi_variable.
            slot.get_or_insert(value);
        }
        request
    }
}

/// Validates like smsbox (in its order) and accepts one message per
/// recipient.
fn accept(gateway: &Gateway, request: &SendRequest<'_>) -> Result<(), Refusal> {
    let credentials = &gateway.credentials;
    let username = request.username.as_deref().or(request.user.as_deref());
    let password = request.password.as_deref().or(request.pass.as_deref());
    if username != Some(credentials.kannel_username.as_bytes())
        || password != Some(credentials.kannel_password.as_bytes())
    {
        return Err((StatusCode::FORBIDDEN, "Authorization failed for sendsms"));
    }
    let to = request
        .to
        .as_deref()
        .ok_or((StatusCode::BAD_REQUEST, "Missing receiver number, rejected"))?;
    if to.is_empty() {
        return Err((StatusCode::BAD_REQUEST, "Empty receiver number not allowed, rejected"));
    }
    let raw_text = request
        .text
        .as_deref()
        .ok_or((StatusCode::BAD_REQUEST, "Missing text, rejected"))?;
    let to = form::utf8(to);
    let mut recipients: Vec<&str> = Vec::new();
    for number in to.split_whitespace() {
        if !recipients.contains(&number) && !gateway.faults.rejects(number) {
            recipients.push(number);
        }
    }
    if recipients.is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            "Number(s) has/have been denied by white- and/or black-lists.",
        ));
    }
    let dlr_url = request.dlr_url.as_deref().map(form::utf8).filter(|url| !url.is_empty());
    if let Some(url) = &dlr_url {
        let lower = url.to_ascii_lowercase();
        if url.len() < 8 || !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err((StatusCode::BAD_REQUEST, "DLR-URL field misformed, rejected"));
        }
    }
    let dlr_mask = request.dlr_mask.as_deref().and_then(scan_int).unwrap_or(-1);
    if !(-1..=63).contains(&dlr_mask) {
        return Err((StatusCode::BAD_REQUEST, "DLR-Mask field misformed, rejected"));
    }
    let coding = request.coding.as_deref().and_then(scan_int).unwrap_or(-1);
    if !(-1..=2).contains(&coding) {
        return Err((StatusCode::BAD_REQUEST, "Coding field misformed, rejected"));
    }
    let charset = request
        .charset
        .as_deref()
        .map(form::utf8)
        .unwrap_or_else(|| if coding == 2 { "UTF-16BE" } else { "UTF-8" }.to_string());
    let text = decode_text(raw_text, &charset);
    let from = request.from.as_deref().map(form::utf8);
    let wants_receipt = dlr_url.is_some() && dlr_mask > 0 && dlr_mask & REPORTED_MASK_BITS != 0;
    for number in recipients {
        let internal_id = ids::uuid_v4();
        let receipt = (wants_receipt && gateway.sends_receipts()).then(|| KannelDlr {
            url_template: dlr_url.clone().unwrap_or_default(),
            mask: dlr_mask as u8,
            internal_id: internal_id.clone(),
            foreign_id: ids::smsc_id(),
            from: from.clone().unwrap_or_default(),
            to: number.to_string(),
            text: text.clone(),
            username: form::utf8(username.unwrap_or_default()),
            meta_data: request.meta_data.as_deref().map(form::utf8).unwrap_or_default(),
            coding,
            charset: charset.clone(),
            submitted_at: gateway.clock.now(),
        });
        let status = gateway.accept(Accepted {
            preset: Preset::Kannel,
            to: number.to_string(),
            from: from.clone(),
            text: text.clone(),
            coding: u8::try_from(coding).ok(),
            reference: dlr_url.as_deref().and_then(|url| form::query_param(url, "id")),
            message_id: internal_id,
            callback_url: dlr_url.clone().filter(|_| wants_receipt),
        });
        if let Some(receipt) = receipt {
            gateway.queue_receipt(status, ReceiptKind::Kannel(receipt));
        }
    }
    Ok(())
}

/// Reads an integer the way smsbox's `sscanf("%d")` does: optional spaces
/// and sign, then digits up to the first non-digit; `None` without digits.
fn scan_int(raw: &[u8]) -> Option<i32> {
    let text = std::str::from_utf8(raw).ok()?.trim_start();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse::<i32>().ok().map(|n| sign * n)
}

/// The text as smsbox reads it: `charset` defaults to UTF-8 for 7-bit and
/// UTF-16BE for UCS-2 (userguide, sendsms `charset`).
fn decode_text(raw: &[u8], charset: &str) -> String {
    match charset.to_ascii_uppercase().as_str() {
        "UTF-16BE" | "UTF-16" | "UCS-2" | "UCS2" => form::utf16be_or_utf8(raw),
        "ISO-8859-1" | "LATIN1" | "ISO8859-1" | "WINDOWS-1252" => form::latin1(raw),
        _ => form::utf8(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_like_sscanf() {
        assert_eq!(scan_int(b"19"), Some(19));
        assert_eq!(scan_int(b" 7abc"), Some(7));
        assert_eq!(scan_int(b"-1"), Some(-1));
        assert_eq!(scan_int(b"abc"), None);
    }

    #[test]
    fn ucs2_text_defaults_to_utf16be() {
        assert_eq!(decode_text(&[0x20, 0x13], "UTF-16BE"), "–");
        assert_eq!(decode_text("–".as_bytes(), "utf-8"), "–");
    }
}
