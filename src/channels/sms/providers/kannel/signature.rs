//! The `sig` a Kannel `dlr-url` carries instead of the receipt token
//! (`receipt_auth = "signature"`): smsbox logs the whole URL when it cannot
//! deliver a report, and a signature vouches for one reminder's reports
//! without revealing the key. Signed here when sending, checked by the
//! receipt endpoint.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The `sig` of reminder `reminder_id`'s `dlr-url` at `gateway`: hex
/// HMAC-SHA256 of `{gateway}:{reminder_id}` keyed with `secret`.
pub fn signature(secret: &str, gateway: &str, reminder_id: i64) -> String {
    // HMAC takes keys of any length: this cannot fail, and an empty
    // signature would never verify.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{gateway}:{reminder_id}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `given` is the signature of `reminder_id` (compared in constant time).
pub(crate) fn signature_matches(secret: &str, gateway: &str, reminder_id: i64, given: &str) -> bool {
    let expected = signature(secret, gateway, reminder_id);
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_vouches_for_one_reminder_of_one_gateway() {
        let sig = signature("rahasia", "kannel-1", 42);
        assert_eq!(sig.len(), 64);
        assert!(!sig.contains("rahasia"));
        assert!(signature_matches("rahasia", "kannel-1", 42, &sig));
        assert!(!signature_matches("rahasia", "kannel-1", 43, &sig));
        assert!(!signature_matches("rahasia", "kannel-2", 42, &sig));
        assert!(!signature_matches("lain", "kannel-1", 42, &sig));
        assert!(!signature_matches("rahasia", "kannel-1", 42, ""));
    }
}
