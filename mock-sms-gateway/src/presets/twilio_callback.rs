//! Twilio status callbacks (Twilio's "Track the Message Status" guide): a form POST to
//! `StatusCallback` with `MessageSid`, `MessageStatus`, `SmsSid`,
//! `SmsStatus`, `AccountSid`, `From`, `To`, `ApiVersion`, first `sent`, then
//! `delivered` or `undelivered` (with `ErrorCode` and `RawDlrDoneDate`), each
//! signed with `X-Twilio-Signature`. Twilio does not send a callback for the
//! initial `queued` status, and neither does the mock.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::courier::Courier;

/// The API version Twilio reports.
pub const API_VERSION: &str = "2010-04-01";

/// The header Twilio puts a webhook's signature in.
const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The `From` reported when a message was sent through a Messaging Service
/// without `From`: Twilio reports the number it picked from the service's
/// pool; the mock picks Twilio's test "valid sender" number.
pub const SERVICE_SENDER: &str = "+15005550006";

/// The error reported for undelivered messages: 30003, "Unreachable
/// destination handset".
pub const UNDELIVERED_ERROR_CODE: &str = "30003";

/// What a Twilio callback needs, captured at acceptance.
#[derive(Debug, Clone)]
pub struct TwilioCallback {
    /// `StatusCallback`, exactly as given (the signature covers it).
    pub url: String,
    /// The message sid.
    pub sid: String,
    /// The account.
    pub account_sid: String,
    /// `From`, if given.
    pub from: Option<String>,
    /// `To`.
    pub to: String,
    /// `MessagingServiceSid`, if given.
    pub messaging_service_sid: Option<String>,
}

/// The callback forms for one message, in order: `sent`, then the final one.
pub fn callback_forms(
    callback: &TwilioCallback,
    delivered: bool,
    now: DateTime<Utc>,
) -> Vec<Vec<(&'static str, String)>> {
    let form = |status: &str| {
        let mut form = vec![
            ("AccountSid", callback.account_sid.clone()),
            ("ApiVersion", API_VERSION.to_string()),
            (
                "From",
                callback.from.clone().unwrap_or_else(|| SERVICE_SENDER.to_string()),
            ),
            ("MessageSid", callback.sid.clone()),
            ("MessageStatus", status.to_string()),
            ("SmsSid", callback.sid.clone()),
            ("SmsStatus", status.to_string()),
            ("To", callback.to.clone()),
        ];
        if let Some(service) = &callback.messaging_service_sid {
            form.push(("MessagingServiceSid", service.clone()));
        }
        form
    };
    let mut last = form(if delivered { "delivered" } else { "undelivered" });
    if !delivered {
        last.push(("ErrorCode", UNDELIVERED_ERROR_CODE.to_string()));
    }
    last.push(("RawDlrDoneDate", now.format("%y%m%d%H%M").to_string()));
    vec![form("sent"), last]
}

/// The signature Twilio sends with a form POST to `url` carrying `params`:
/// base64(HMAC-SHA1(Auth Token, `url` followed by each parameter's name and
/// value, sorted by name)) (Twilio's "Validating requests" documentation).
// Written here independently of pengingat's verifier, so each checks the other.
fn twilio_signature(auth_token: &str, url: &str, params: &[(&str, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params.iter().map(|(name, value)| (*name, value.as_str())).collect();
    sorted.sort_unstable();
    // HMAC takes a key of any length; an empty signature would never verify.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Sends the callbacks of one message, in order.
pub async fn send(courier: &Courier, callback: &TwilioCallback, delivered: bool) {
    let token = &courier.credentials.twilio_auth_token;
    for form in callback_forms(callback, delivered, courier.clock.now()) {
        let signature = twilio_signature(token, &callback.url, &form);
        let sent = courier
            .client
            .post(&callback.url)
            .header(SIGNATURE_HEADER, signature)
            .header(reqwest::header::USER_AGENT, "TwilioProxy/1.1")
            .form(&form)
            .send()
            .await;
        let ok = match sent {
            Ok(response) => response.status().is_success(),
            Err(e) => {
                tracing::debug!(error = ?e.without_url(), "Twilio status callback not delivered");
                false
            }
        };
        courier.count(ok);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn sent_then_undelivered_with_an_error_code() {
        let callback = TwilioCallback {
            url: "http://d/dlr/twilio".into(),
            sid: "SM1".into(),
            account_sid: "AC1".into(),
            from: None,
            to: "+6281234567890".into(),
            messaging_service_sid: Some("MG1".into()),
        };
        let now = Utc.with_ymd_and_hms(2025, 7, 10, 8, 32, 0).unwrap();
        let forms = callback_forms(&callback, false, now);
        assert_eq!(forms.len(), 2);
        assert!(forms[0].contains(&("MessageStatus", "sent".into())));
        assert!(forms[0].contains(&("From", SERVICE_SENDER.into())));
        assert!(!forms[0].iter().any(|(k, _)| *k == "ErrorCode"));
        assert!(forms[1].contains(&("SmsStatus", "undelivered".into())));
        assert!(forms[1].contains(&("ErrorCode", "30003".into())));
        assert!(forms[1].contains(&("RawDlrDoneDate", "2507100832".into())));
        let delivered = callback_forms(&callback, true, now);
        assert!(!delivered[1].iter().any(|(k, _)| *k == "ErrorCode"));
    }

    /// The worked example of Twilio's "Validating requests" documentation.
    #[test]
    fn the_signature_matches_twilios_published_example() {
        let params: Vec<(&str, String)> = [
            ("To", "+18005551212"),
            ("Digits", "1234"),
            ("CallSid", "CA1234567890ABCDE"),
            ("From", "+12349013030"),
            ("Caller", "+12349013030"),
        ]
        .into_iter()
        .map(|(name, value)| (name, value.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(twilio_signature("12345", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    }
}
