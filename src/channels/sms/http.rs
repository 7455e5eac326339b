//! What every HTTP gateway has in common: reading the answer, classifying
//! failures, `Retry-After`, and the URLs receipts come back to.

use std::time::{Duration, SystemTime};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::channels::error::{SendError, causes, is_certificate_error};

/// The most of an answer's body that is read; gateway answers are a line or
/// a small JSON document, anything longer is an error page.
const MAX_BODY: usize = 64 * 1024;

/// The longest excerpt of an unexpected answer quoted in a reason.
const EXCERPT_CHARS: usize = 200;

/// A gateway's answer, read in full (up to [`MAX_BODY`]).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// `Retry-After`, when given and readable.
    pub retry_after: Option<Duration>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
}

impl Answer {
    /// Reads a response; a failure while reading the body is a transport
    /// error like any other.
    pub async fn read(mut response: reqwest::Response) -> Result<Self, reqwest::Error> {
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            let room = MAX_BODY.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= MAX_BODY {
                break;
            }
        }
        Ok(Self {
            status,
            retry_after: retry_after(&headers, SystemTime::now()),
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The body as a short one-line excerpt for a reason ("an HTML page"
    /// for HTML: its markup says nothing useful and may be large).
    pub(crate) fn excerpt(&self) -> String {
        let trimmed = self.body.trim();
        if trimmed.is_empty() {
            return "an empty body".to_string();
        }
        if self.is_html() {
            return "an HTML page".to_string();
        }
        let line: String = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut excerpt: String = line.chars().take(EXCERPT_CHARS).collect();
        if line.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        format!("{excerpt:?}")
    }

    /// Whether the body is an HTML page (a proxy's or the gateway's error page).
    pub(crate) fn is_html(&self) -> bool {
        let start = self
            .body
            .trim_start()
            .get(..15)
            .unwrap_or(self.body.trim_start())
            .to_ascii_lowercase();
        start.starts_with("<!doctype html") || start.starts_with("<html") || start.starts_with("<head")
    }

    /// A 2xx answer that does not read as an acceptance: the gateway (or
    /// something in front of it) is misbehaving, so it is treated as
    /// transient and the pool fails over.
    pub fn unexpected(&self, gateway: &str, expected: &str) -> SendError {
        SendError::transient(
            gateway,
            format!(
                "unexpected answer (HTTP {}): expected {expected}, got {}",
                self.status.as_u16(),
                self.excerpt()
            ),
            self.retry_after,
        )
    }

    /// The failure this non-success answer means, with `detail` (the
    /// gateway's own error text) as the reason.
    pub fn failure(&self, gateway: &str, detail: &str) -> SendError {
        classify(gateway, self.status, self.retry_after, detail)
    }
}

/// The failure an HTTP status means:
/// - 429 and 408 (throttled, request timeout) and every 5xx are transient,
///   with the gateway's `Retry-After` (treating 429 as
///   permanent lost courier's users their messages);
/// - 401 and 403 are transient too: the gateway refuses *us* (credentials,
///   credit), not the recipient, so another gateway may take the message
///   and the circuit breaker takes this one out of rotation;
/// - any other 4xx is permanent: the request or the recipient was refused;
/// - anything else (1xx, 3xx) is a gateway misbehaving: transient.
pub(crate) fn classify(gateway: &str, status: StatusCode, retry_after: Option<Duration>, detail: &str) -> SendError {
    let code = status.as_u16();
    let reason = format!("HTTP {code}: {detail}");
    match code {
        408 | 429 | 500..=599 => SendError::transient(gateway, reason, retry_after),
        401 | 403 => SendError::transient(
            gateway,
            format!("gateway refused our credentials ({reason})"),
            retry_after,
        ),
        400..=499 => SendError::permanent(gateway, reason),
        _ => SendError::transient(gateway, format!("unexpected status ({reason})"), retry_after),
    }
}

/// A request that got no answer: never sent, connection lost, timed out.
/// The URL is left out of the reason on purpose: Kannel's carries the
/// password and the recipient in its query.
pub(crate) fn transport_error(gateway: &str, timeout: Duration, error: reqwest::Error) -> SendError {
    let error = error.without_url();
    if is_certificate_error(&error) {
        return SendError::configuration(
            gateway,
            format!(
                "the gateway's TLS certificate is not trusted ({}): set ca_file of [[sms.gateway]] {gateway:?} to \
                 the PEM file of the CA that signed it, or check its base_url",
                causes(&error)
            ),
        );
    }
    let what = if error.is_timeout() {
        format!("no answer within {} ms", timeout.as_millis())
    } else if error.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut causes = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(&error);
    while let Some(e) = source {
        causes.push(e.to_string());
        source = e.source();
    }
    causes.dedup();
    SendError::transient(gateway, format!("{what}: {}", causes.join(": ")), None)
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3); a
/// date in the past means "now".
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(at.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`,
/// section 2.3): what stays unencoded under it is safe in a path segment and
/// in a query value alike, and gateways get the bytes they always got.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Whether `value` holds unreserved characters only: percent-encoding leaves it as it is.
pub(crate) fn is_unreserved(value: &str) -> bool {
    percent_encode(value) == value
}

/// Percent-encodes (as UTF-8, upper-case hex) everything but the unreserved
/// characters: safe in a path segment and in a query value alike.
pub(crate) fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Sun, 06 Nov 1994 08:50:07 GMT"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Sun, 06 Nov 1994 08:00:00 GMT"));
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn statuses_classify() {
        let t = |code: u16| classify("g", StatusCode::from_u16(code).unwrap(), None, "x").is_transient();
        assert!(t(429) && t(503) && t(500) && t(408) && t(401) && t(403) && t(302));
        assert!(!t(400) && !t(404) && !t(422));
    }

    #[test]
    fn excerpts_are_short_and_html_is_named() {
        let answer = |body: &str| Answer {
            status: StatusCode::OK,
            retry_after: None,
            body: body.to_string(),
        };
        assert_eq!(answer("<!DOCTYPE html><html>…").excerpt(), "an HTML page");
        assert_eq!(answer("  a\n b ").excerpt(), "\"a b\"");
        assert_eq!(answer(&"x".repeat(500)).excerpt().chars().count(), EXCERPT_CHARS + 3);
    }

    #[test]
    fn encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("a b+c/é~"), "a%20b%2Bc%2F%C3%A9~");
    }

    #[test]
    fn unreserved_text_is_what_encoding_keeps() {
        assert!(is_unreserved("Token-1.2_3~"));
        assert!(!is_unreserved("50%") && !is_unreserved("a b") && !is_unreserved("é"));
    }
}
