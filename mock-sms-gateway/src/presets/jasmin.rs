//! Jasmin HTTP API: `GET` or `POST /send`, arguments in the query or a form
//! body (Jasmin's HTTP API documentation).
//!
//! Answers: `200 Success "<uuid>"`; `400 Error "Mandatory arguments not
//! found, please refer to the HTTPAPI specifications."`, `400 Error
//! "Argument [x] is unknown."`, `400 Error "Argument [x] has an invalid
//! value: [v]."`, `400 Error "Mandatory argument [x] is not found."`, `403
//! Error "Authentication failure for username:u"`. A rejected recipient gets
//! the invalid-value answer for `to`, a permanent 400.

use std::borrow::Cow;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::jasmin_dlr::JasminDlr;
use super::{first_chars, with_fault_headers};
use crate::faults::Fault;
use crate::form;
use crate::ids;
use crate::receipts::ReceiptKind;
use crate::state::{Accepted, Gateway, Shared};
use crate::store::Preset;

pub fn routes() -> Router<Shared> {
    Router::new().route("/send", get(send).post(send))
}

/// The arguments `/send` knows; any other is refused.
const FIELDS: &[&str] = &[
    "to",
    "from",
    "coding",
    "username",
    "password",
    "priority",
    "sdt",
    "validity-period",
    "dlr",
    "dlr-url",
    "dlr-level",
    "dlr-method",
    "tags",
    "content",
    "hex-content",
    "custom_tlvs",
];

/// Arguments as sent, values raw (content may be UCS-2 bytes).
type Args<'a> = Vec<(Cow<'a, [u8]>, Cow<'a, [u8]>)>;

async fn send(State(gateway): State<Shared>, method: Method, RawQuery(query): RawQuery, body: Bytes) -> Response {
    if let Some(fault) = gateway.before_send().await {
        return fault_response(&fault);
    }
    let query = query.unwrap_or_default();
    let mut args: Args<'_> = form::pairs(query.as_bytes()).collect();
    if method == Method::POST {
        args.extend(form::pairs(&body));
    }
    match accept(&gateway, &args) {
        Ok(id) => answer(StatusCode::OK, format!("Success \"{id}\"")),
        Err((status, message)) => answer(status, format!("Error \"{message}\"")),
    }
}

fn answer(status: StatusCode, body: String) -> Response {
    let content_type = HeaderValue::from_static("text/plain");
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn fault_response(fault: &Fault) -> Response {
    let message = match fault {
        Fault::RateLimited { .. } => "Throughput exceeded, try again later",
        Fault::Fail { status } if *status < 500 => "Cannot charge submit_sm, check RouterPB log file for details",
        _ => "Cannot send submit_sm, check SMPPClientManagerPB log file for details",
    };
    with_fault_headers(fault, answer(StatusCode::OK, format!("Error \"{message}\"")))
}

/// The value of the first `name` argument.
fn arg<'a>(args: &'a Args<'_>, name: &str) -> Option<&'a [u8]> {
    args.iter()
        .find(|(n, _)| n.as_ref() == name.as_bytes())
        .map(|(_, v)| v.as_ref())
}

/// Validates like Jasmin's `UrlArgsValidator` then authenticates; returns
/// the new message's id.
fn accept(gateway: &Gateway, args: &Args<'_>) -> Result<String, (StatusCode, String)> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    if args.is_empty() {
        return Err(bad(
            "Mandatory arguments not found, please refer to the HTTPAPI specifications.".into(),
        ));
    }
    for (name, value) in args {
        let name = form::utf8(name);
        if !FIELDS.contains(&name.as_str()) {
            return Err(bad(format!("Argument [{name}] is unknown.")));
        }
        if !valid_value(&name, value) {
            return Err(bad(format!(
                "Argument [{name}] has an invalid value: [{}].",
                form::utf8(value)
            )));
        }
    }
    for name in ["username", "password", "to"] {
        if arg(args, name).is_none() {
            return Err(bad(format!("Mandatory argument [{name}] is not found.")));
        }
    }
    let content = content(args).ok_or_else(|| bad("Mandatory argument [content] is not found.".into()))?;
    let username = arg(args, "username").map(form::utf8).unwrap_or_default();
    let password = arg(args, "password").map(form::utf8).unwrap_or_default();
    let credentials = &gateway.credentials;
    if username != credentials.jasmin_username || password != credentials.jasmin_password {
        return Err((
            StatusCode::FORBIDDEN,
            format!("Authentication failure for username:{username}"),
        ));
    }
    let to = arg(args, "to").map(form::utf8).unwrap_or_default();
    if gateway.faults.rejects(&to) {
        return Err(bad(format!("Argument [to] has an invalid value: [{to}].")));
    }
    let coding = arg(args, "coding")
        .map(form::utf8)
        .and_then(|c| c.parse::<u8>().ok())
        .unwrap_or(0);
    let text = match coding {
        // Jasmin passes content through as bytes in the asked data coding.
        8 => form::utf16be_or_utf8(&content),
        3 => form::latin1(&content),
        _ => form::utf8(&content),
    };
    let id = ids::uuid_v4();
    // "If dlr = yes, dlr-url MUST be set, if not, dlr value is reconsidered
    // as no" (Jasmin HTTP API documentation).
    let dlr_url = arg(args, "dlr-url")
        .map(form::utf8)
        .filter(|_| arg(args, "dlr") == Some(b"yes"));
    let receipt = dlr_url
        .as_ref()
        .filter(|_| gateway.sends_receipts())
        .map(|url| JasminDlr {
            url: url.clone(),
            // Defaults when not given: SMS-C level, POST.
            post: !arg(args, "dlr-method").is_some_and(|m| m.eq_ignore_ascii_case(b"GET")),
            level: arg(args, "dlr-level")
                .and_then(|l| form::utf8(l).parse().ok())
                .unwrap_or(1),
            id: id.clone(),
            id_smsc: ids::smsc_id(),
            text: first_chars(&text, 20),
            submitted_at: gateway.clock.now(),
        });
    let status = gateway.accept(Accepted {
        preset: Preset::Jasmin,
        to,
        from: arg(args, "from").map(form::utf8),
        text,
        coding: Some(coding),
        reference: dlr_url.as_deref().and_then(|url| form::query_param(url, "id")),
        message_id: id.clone(),
        callback_url: dlr_url,
    });
    if let Some(receipt) = receipt {
        gateway.queue_receipt(status, ReceiptKind::Jasmin(receipt));
    }
    Ok(id)
}

/// `content`, or `hex-content` decoded.
fn content<'a>(args: &'a Args<'_>) -> Option<Cow<'a, [u8]>> {
    if let Some(content) = arg(args, "content") {
        return Some(Cow::Borrowed(content));
    }
    let hex = arg(args, "hex-content")?;
    let bytes = hex
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(Cow::Owned(bytes))
}

/// The value patterns of Jasmin's `/send` arguments.
fn valid_value(name: &str, value: &[u8]) -> bool {
    let text = String::from_utf8_lossy(value);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match name {
        "to" => digits(text.strip_prefix('+').unwrap_or(&text)),
        "coding" => matches!(
            text.as_ref(),
            "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "10" | "13" | "14"
        ),
        "username" | "password" => (1..=30).contains(&text.chars().count()),
        "priority" => matches!(text.as_ref(), "0" | "1" | "2" | "3"),
        "validity-period" => digits(&text),
        "dlr" => matches!(text.as_ref(), "yes" | "no"),
        "dlr-url" => text.starts_with("http://") || text.starts_with("https://"),
        "dlr-level" => matches!(text.as_ref(), "1" | "2" | "3"),
        "dlr-method" => text.eq_ignore_ascii_case("GET") || text.eq_ignore_ascii_case("POST"),
        "hex-content" => value.len().is_multiple_of(2) && value.iter().all(u8::is_ascii_hexdigit),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_jasmins_patterns() {
        assert!(valid_value("to", b"+6281234567890"));
        assert!(!valid_value("to", b"0812-345"));
        assert!(valid_value("coding", b"8"));
        assert!(!valid_value("coding", b"11"));
        assert!(!valid_value("dlr", b"true"));
        assert!(valid_value("dlr-method", b"post"));
        assert!(!valid_value("hex-content", b"0"));
    }

    #[test]
    fn hex_content_decodes() {
        let args: Args<'_> = vec![(
            Cow::Borrowed(b"hex-content".as_slice()),
            Cow::Borrowed(b"00480069".as_slice()),
        )];
        assert_eq!(content(&args).as_deref(), Some([0x00, 0x48, 0x00, 0x69].as_slice()));
    }
}
