//! Message ids in each gateway's shape.

use std::fmt::Write as _;

/// A random (version 4) UUID, the shape of Jasmin's and Kannel's ids.
pub fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// A Twilio sid: two letters and 32 hex digits (`SM…` for messages).
pub fn twilio_sid(prefix: &str) -> String {
    let b: [u8; 16] = rand::random();
    let mut out = String::with_capacity(34);
    out.push_str(prefix);
    for byte in b {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// An SMSC's own message id: a decimal number, as SMPP receipts carry.
pub fn smsc_id() -> String {
    rand::random::<u32>().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_gateways_shape() {
        let uuid = uuid_v4();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert_eq!(uuid.matches('-').count(), 4);
        let sid = twilio_sid("SM");
        assert_eq!(sid.len(), 34);
        assert!(sid[2..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(uuid_v4(), uuid_v4());
    }
}
