//! Twilio's request signature, `X-Twilio-Signature`.
//!
//! Twilio signs every webhook it sends (status callbacks included) with
//! base64(HMAC-SHA1(AuthToken, full URL + each POST parameter's name and
//! value, sorted by name)) (Twilio "Webhooks security"). The receipt endpoint
//! verifies incoming Twilio callbacks with it; the mock gateway signs its
//! status callbacks with its own implementation, so each checks the other.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The header Twilio puts the signature in.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// Computes the signature Twilio sends for a form POST to `url` with `params`.
///
/// `url` is the full URL the request was sent to, query string included,
/// exactly as configured at Twilio. Parameters are sorted by name (and by
/// value for repeated names) before they are appended, so their order here
/// does not matter.
pub fn twilio_signature<K, V>(auth_token: &str, url: &str, params: &[(K, V)]) -> String
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut sorted: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
    sorted.sort_unstable();
    // HMAC accepts keys of any length, so this cannot fail; an empty
    // signature would simply never verify.
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

/// Whether `signature` (the header's value) is Twilio's signature for this
/// request. Compares in constant time so the check leaks nothing about the
/// expected value.
pub fn verify_twilio_signature<K, V>(auth_token: &str, url: &str, params: &[(K, V)], signature: &str) -> bool
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let expected = twilio_signature(auth_token, url, params);
    !expected.is_empty() && expected.as_bytes().ct_eq(signature.trim().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Twilio's webhook security guide.
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const PARAMS: [(&str, &str); 5] = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ];

    #[test]
    fn matches_twilios_published_vector() {
        assert_eq!(twilio_signature("12345", URL, &PARAMS), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    }

    #[test]
    fn parameter_order_does_not_matter() {
        let mut reversed = PARAMS;
        reversed.reverse();
        assert_eq!(
            twilio_signature("12345", URL, &reversed),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
    }

    #[test]
    fn verification_rejects_any_change() {
        assert!(verify_twilio_signature(
            "12345",
            URL,
            &PARAMS,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!verify_twilio_signature(
            "54321",
            URL,
            &PARAMS,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!verify_twilio_signature(
            "12345",
            "https://mycompany.com/myapp.php",
            &PARAMS,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        let mut tampered = PARAMS;
        tampered[2] = ("Digits", "9999");
        assert!(!verify_twilio_signature(
            "12345",
            URL,
            &tampered,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!verify_twilio_signature("12345", URL, &PARAMS, ""));
    }
}
