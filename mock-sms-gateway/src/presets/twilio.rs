//! Twilio Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
//! form-encoded, HTTP Basic `AccountSid:AuthToken` (Twilio's
//! OpenAPI document, operation `CreateMessage`).
//!
//! Validation follows the OpenAPI request schema: `To` is required and must
//! be E.164 (or a `channel:` address); one of `From` / `MessagingServiceSid`
//! and one of `Body` / `MediaUrl` / `ContentSid` are required (its
//! `x-twilio.conditional`); `StatusCallback` must be an http(s) URL with a
//! valid hostname and no underscore; the sid parameters must match their
//! patterns. Unknown parameters are ignored, as Twilio does. Success is `201`
//! with the Message resource; errors are Twilio's JSON
//! `{"code", "message", "more_info", "status"}`.

use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::twilio_callback::{API_VERSION, TwilioCallback};
use super::with_fault_headers;
use crate::faults::Fault;
use crate::form;
use crate::ids;
use crate::receipts::ReceiptKind;
use crate::segments::count_segments;
use crate::state::{Accepted, Gateway, Shared};
use crate::store::Preset;

pub fn routes() -> Router<Shared> {
    Router::new().route("/2010-04-01/Accounts/{account_sid}/Messages.json", post(create_message))
}

/// The longest body Twilio takes (OpenAPI: "up to 1,600 characters").
const MAX_BODY_CHARS: usize = 1600;

/// A Twilio error: HTTP status, Twilio code, message.
type TwilioError = (StatusCode, u32, String);

async fn create_message(
    State(gateway): State<Shared>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = gateway.before_send().await {
        return fault_response(&fault);
    }
    match create(&gateway, &account_sid, &headers, &body) {
        Ok(resource) => (StatusCode::CREATED, axum::Json(resource)).into_response(),
        Err((status, code, message)) => error(status, code, &message),
    }
}

/// Twilio's error body.
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        let challenge = HeaderValue::from_static("Basic realm=\"Twilio API\"");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

fn fault_response(fault: &Fault) -> Response {
    let (code, message) = match fault {
        Fault::RateLimited { .. } => (20429, "Too Many Requests"),
        Fault::Fail { status } if *status < 500 => (20001, "Unable to process the request"),
        Fault::Fail { status } if *status == 500 => (20500, "Internal Server Error"),
        _ => (20503, "Service Unavailable"),
    };
    let status = super::fault_status(fault);
    with_fault_headers(fault, error(status, code, message))
}

/// The request's parameters, as Twilio reads them (repeated `MediaUrl`s).
#[derive(Debug, Default)]
struct Params {
    /// `To`.
    to: Option<String>,
    /// `From`.
    from: Option<String>,
    /// `MessagingServiceSid`.
    messaging_service_sid: Option<String>,
    /// `Body`.
    body: Option<String>,
    /// `MediaUrl`, repeatable.
    media_urls: Vec<String>,
    /// `ContentSid`.
    content_sid: Option<String>,
    /// `ApplicationSid`.
    application_sid: Option<String>,
    /// `StatusCallback`.
    status_callback: Option<String>,
}

impl Params {
    fn parse(body: &[u8]) -> Self {
        let mut params = Self::default();
        for (name, value) in form::pairs(body) {
            let value = form::utf8(&value);
            let slot = match name.as_ref() {
                b"To" => &mut params.to,
                b"From" => &mut params.from,
                b"MessagingServiceSid" => &mut params.messaging_service_sid,
                b"Body" => &mut params.body,
                b"ContentSid" => &mut params.content_sid,
                b"ApplicationSid" => &mut params.application_sid,
                b"StatusCallback" => &mut params.status_callback,
                b"MediaUrl" => {
                    params.media_urls.push(value);
                    continue;
                }
                _ => continue,
            };
            *slot = Some(value).filter(|v| !v.is_empty());
        }
        params
    }
}

/// Authenticates, validates and accepts; returns the Message resource.
fn create(gateway: &Gateway, account_sid: &str, headers: &HeaderMap, body: &[u8]) -> Result<Value, TwilioError> {
    let credentials = &gateway.credentials;
    let authenticated = basic_auth(headers).is_some_and(|(user, password)| {
        user == credentials.twilio_account_sid && password == credentials.twilio_auth_token
    });
    if !authenticated {
        gateway.unauthenticated.fetch_add(1, Ordering::Relaxed);
        return Err((StatusCode::UNAUTHORIZED, 20003, "Authenticate".into()));
    }
    if account_sid != credentials.twilio_account_sid {
        let path = format!("/{API_VERSION}/Accounts/{account_sid}/Messages.json");
        return Err((
            StatusCode::NOT_FOUND,
            20404,
            format!("The requested resource {path} was not found"),
        ));
    }
    let params = Params::parse(body);
    validate(&params)?;
    let to = params.to.clone().unwrap_or_default();
    if gateway.faults.rejects(&to) {
        return Err(invalid_to(&to));
    }
    let text = params.body.clone().unwrap_or_default();
    let sid = ids::twilio_sid("SM");
    let receipt = params
        .status_callback
        .as_ref()
        .filter(|_| gateway.sends_receipts())
        .map(|url| TwilioCallback {
            url: url.clone(),
            sid: sid.clone(),
            account_sid: account_sid.to_string(),
            from: params.from.clone(),
            to: to.clone(),
            messaging_service_sid: params.messaging_service_sid.clone(),
        });
    let now = gateway.clock.now().to_rfc2822();
    let resource = json!({
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": text,
        "date_created": now,
        "date_sent": Value::Null,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": Value::Null,
        "error_message": Value::Null,
        "from": params.from,
        "messaging_service_sid": params.messaging_service_sid,
        "num_media": params.media_urls.len().to_string(),
        "num_segments": count_segments(&text).to_string(),
        "price": Value::Null,
        "price_unit": Value::Null,
        "sid": sid,
        "status": "queued",
        "subresource_uris": {
            "media": format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json"),
        },
        "to": to,
        "uri": format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"),
    });
    let status = gateway.accept(Accepted {
        preset: Preset::Twilio,
        to,
        from: params.from,
        text,
        coding: None,
        reference: params
            .status_callback
            .as_deref()
            .and_then(|url| form::query_param(url, "id")),
        message_id: sid,
        callback_url: params.status_callback,
    });
    if let Some(receipt) = receipt {
        gateway.queue_receipt(status, ReceiptKind::Twilio(receipt));
    }
    Ok(resource)
}

/// The OpenAPI constraints of `CreateMessageRequest`, in Twilio's order.
fn validate(params: &Params) -> Result<(), TwilioError> {
    let bad = |code: u32, message: String| Err((StatusCode::BAD_REQUEST, code, message));
    let Some(to) = &params.to else {
        return bad(21604, "A 'To' phone number is required.".into());
    };
    if !is_address(to) {
        return Err(invalid_to(to));
    }
    if params.from.is_none() && params.messaging_service_sid.is_none() {
        return bad(
            21603,
            "A 'From' or 'MessagingServiceSid' parameter is required to send a message.".into(),
        );
    }
    if let Some(sid) = &params.messaging_service_sid
        && !is_sid(sid, "MG")
    {
        return bad(21701, format!("The Messaging Service Sid {sid} is invalid."));
    }
    for (name, sid, prefix) in [
        ("ApplicationSid", &params.application_sid, "AP"),
        ("ContentSid", &params.content_sid, "HX"),
    ] {
        if let Some(sid) = sid
            && !is_sid(sid, prefix)
        {
            return bad(21201, format!("Invalid {name}: {sid}"));
        }
    }
    if params.body.is_none() && params.media_urls.is_empty() && params.content_sid.is_none() {
        return bad(21602, "Message body is required.".into());
    }
    if params.body.as_ref().is_some_and(|b| b.chars().count() > MAX_BODY_CHARS) {
        return bad(
            21617,
            "The concatenated message body exceeds the 1600 character limit.".into(),
        );
    }
    if let Some(url) = &params.status_callback
        && !is_callback_url(url)
    {
        return bad(21609, format!("The StatusCallback URL {url} is not a valid URL."));
    }
    Ok(())
}

fn invalid_to(to: &str) -> TwilioError {
    (
        StatusCode::BAD_REQUEST,
        21211,
        format!("The 'To' number {to} is not a valid phone number."),
    )
}

/// E.164 (`+` and up to 15 digits, no leading zero), or a channel address
/// such as `whatsapp:+6281…`.
fn is_address(to: &str) -> bool {
    let number = match to.split_once(':') {
        Some((channel, address)) if !channel.is_empty() && channel.bytes().all(|b| b.is_ascii_lowercase()) => address,
        Some(_) => return false,
        None => to,
    };
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len()) && !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `^<prefix>[0-9a-fA-F]{32}$`.
fn is_sid(sid: &str, prefix: &str) -> bool {
    sid.len() == 34 && sid.starts_with(prefix) && sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// An http(s) URL whose host is a valid hostname without underscores.
fn is_callback_url(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return false;
    }
    match parsed.host_str() {
        Some(host) => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'))
        }
        None => false,
    }
}

/// The user and password of an HTTP Basic `Authorization` header.
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_e164_or_channel_addresses() {
        assert!(is_address("+6281234567890"));
        assert!(is_address("whatsapp:+6281234567890"));
        assert!(!is_address("081234567890"));
        assert!(!is_address("+0812"));
        assert!(!is_address("+62812345678901234"));
        assert!(!is_address("Whats App:+62812"));
    }

    #[test]
    fn callback_urls_need_a_clean_hostname() {
        assert!(is_callback_url("https://daemon.example/dlr/twilio?id=1"));
        assert!(is_callback_url("http://127.0.0.1:8080/dlr"));
        assert!(!is_callback_url("https://bad_host.example/dlr"));
        assert!(!is_callback_url("ftp://daemon.example/dlr"));
        assert!(!is_callback_url("not a url"));
    }

    #[test]
    fn sids_match_their_patterns() {
        assert!(is_sid("MG0123456789abcdef0123456789ABCDEF", "MG"));
        assert!(!is_sid("MG0123", "MG"));
        assert!(!is_sid("AP0123456789abcdef0123456789ABCDEF", "MG"));
    }
}
