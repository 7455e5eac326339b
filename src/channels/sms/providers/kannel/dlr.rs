//! Kannel's delivery reports: `%d` is a bitmask, not a number (Kannel user
//! guide, `dlr-mask` and the escape codes of `dlr-url`; `gw/dlr.h`). One
//! report may carry several bits: 9 is "delivered" together with "accepted
//! by the SMSC", 18 "failed" with "rejected by the SMSC", 34 "failed" with
//! the SMSC's own detail (an expired message), 36 "buffered" with it.
//!
//! `%A` is the SMSC's answer: `ACK/` or `NACK/0x00000045/…` for the submit,
//! or for SMPP the receipt text `id:… sub:… dlvrd:… submit date:… done
//! date:… stat:EXPIRED err:022 text:…`. Its status and error code are kept
//! as the reason a message was not delivered; the `text:` part (the start of
//! the message itself) never is.
//!
//! smsbox logs the whole `dlr-url` when it cannot deliver a report, so a
//! receipt token in it lands in Kannel's log. With `receipt_auth =
//! "signature"` the URL carries [`super::signature::signature`] instead: an HMAC-SHA256 of
//! the gateway and reminder id keyed with the receipt token (RFC 2104), which
//! vouches for that one reminder's reports and reveals nothing of the key.

use crate::channels::redact;
use crate::store::ReceiptState;

/// Delivered to the handset (`DLR_SUCCESS`).
pub const DELIVERED: u8 = 1;
/// Not delivered to the handset (`DLR_FAIL`).
pub const FAILED: u8 = 2;
/// Queued at the SMSC (`DLR_BUFFERED`).
pub(crate) const BUFFERED: u8 = 4;
/// Accepted by the SMSC (`DLR_SMSC_SUCCESS`).
pub(crate) const SMSC_ACCEPTED: u8 = 8;
/// Rejected by the SMSC (`DLR_SMSC_FAIL`).
pub(crate) const SMSC_REJECTED: u8 = 16;
/// An intermediate report, or the SMSC's detail of a final one.
pub(crate) const INTERMEDIATE: u8 = 32;

/// Every bit Kannel defines.
const ALL: u8 = DELIVERED | FAILED | BUFFERED | SMSC_ACCEPTED | SMSC_REJECTED | INTERMEDIATE;

/// The longest SMSC answer kept in a reason.
const MAX_DETAIL: usize = 80;

/// What report `value` says, read bit by bit; `answer` (`%A`) tells an
/// expired message from another failure. `None`: not a value Kannel sends
/// (no bit set, or a bit it does not define).
///
/// A final bit decides over intermediate ones (9 is delivered, 34 failed);
/// a report that says both delivered and failed, or both accepted and
/// rejected by the SMSC and nothing more, is kept as unknown and changes
/// nothing.
pub fn state(value: u8, answer: Option<&str>) -> Option<ReceiptState> {
    if value == 0 || value & !ALL != 0 {
        return None;
    }
    let has = |bit: u8| value & bit != 0;
    Some(if has(DELIVERED) && (has(FAILED) || has(SMSC_REJECTED)) {
        ReceiptState::Unknown
    } else if has(DELIVERED) {
        ReceiptState::Delivered
    } else if has(FAILED) {
        failure(answer)
    } else if has(SMSC_REJECTED) && has(SMSC_ACCEPTED) {
        ReceiptState::Unknown
    } else if has(SMSC_REJECTED) {
        ReceiptState::Undelivered
    } else if has(BUFFERED) {
        ReceiptState::Buffered
    } else if has(SMSC_ACCEPTED) {
        ReceiptState::Sent
    } else {
        // 32 alone: the SMSC still has it.
        ReceiptState::Buffered
    })
}

/// Expired when the SMSC's receipt says `stat:EXPIRED`, else undelivered.
fn failure(answer: Option<&str>) -> ReceiptState {
    let expired = answer
        .and_then(|a| smpp_field(a, "stat"))
        .is_some_and(|stat| stat.eq_ignore_ascii_case("EXPIRED"));
    if expired {
        ReceiptState::Expired
    } else {
        ReceiptState::Undelivered
    }
}

/// The value of `name:` in an SMPP receipt text (`stat:DELIVRD`).
fn smpp_field<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer
        .split_whitespace()
        .find_map(|word| word.strip_prefix(name)?.strip_prefix(':'))
        .filter(|v| !v.is_empty())
}

/// The part of `%A` worth keeping as a reason: `stat:… err:…` of an SMPP
/// receipt, else the answer itself (`NACK/0x00000045/…`), without any
/// `text:` part, redacted and at most 80 characters. `None` when empty.
pub fn detail(answer: &str) -> Option<String> {
    let answer = answer.trim();
    let stat = smpp_field(answer, "stat");
    let kept = if stat.is_some() {
        [("stat", stat), ("err", smpp_field(answer, "err"))]
            .iter()
            .filter_map(|(name, value)| value.map(|v| format!("{name}:{v}")))
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        let before_text = answer.find("text:").map_or(answer, |at| &answer[..at]);
        before_text.trim().chars().take(MAX_DETAIL).collect()
    };
    let kept = redact(&kept);
    (!kept.is_empty()).then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReceiptState::{Buffered, Delivered, Expired, Sent, Undelivered, Unknown};

    /// Every value of the six bits, written out: what each one means.
    const TABLE: [(u8, ReceiptState); 63] = [
        (1, Delivered),
        (2, Undelivered),
        (3, Unknown),
        (4, Buffered),
        (5, Delivered),
        (6, Undelivered),
        (7, Unknown),
        (8, Sent),
        (9, Delivered),
        (10, Undelivered),
        (11, Unknown),
        (12, Buffered),
        (13, Delivered),
        (14, Undelivered),
        (15, Unknown),
        (16, Undelivered),
        (17, Unknown),
        (18, Undelivered),
        (19, Unknown),
        (20, Undelivered),
        (21, Unknown),
        (22, Undelivered),
        (23, Unknown),
        (24, Unknown),
        (25, Unknown),
        (26, Undelivered),
        (27, Unknown),
        (28, Unknown),
        (29, Unknown),
        (30, Undelivered),
        (31, Unknown),
        (32, Buffered),
        (33, Delivered),
        (34, Undelivered),
        (35, Unknown),
        (36, Buffered),
        (37, Delivered),
        (38, Undelivered),
        (39, Unknown),
        (40, Sent),
        (41, Delivered),
        (42, Undelivered),
        (43, Unknown),
        (44, Buffered),
        (45, Delivered),
        (46, Undelivered),
        (47, Unknown),
        (48, Undelivered),
        (49, Unknown),
        (50, Undelivered),
        (51, Unknown),
        (52, Undelivered),
        (53, Unknown),
        (54, Undelivered),
        (55, Unknown),
        (56, Unknown),
        (57, Unknown),
        (58, Undelivered),
        (59, Unknown),
        (60, Unknown),
        (61, Unknown),
        (62, Undelivered),
        (63, Unknown),
    ];

    #[test]
    fn every_combination_of_bits_has_its_meaning() {
        for (value, expected) in TABLE {
            assert_eq!(state(value, None), Some(expected), "%d = {value}");
        }
    }

    #[test]
    fn values_kannel_never_sends_are_not_reports() {
        for value in [0, 64, 65, 128, 255] {
            assert_eq!(state(value, None), None, "%d = {value}");
        }
    }

    #[test]
    fn a_failure_the_smsc_calls_expired_is_expired() {
        let expired =
            "id:4242 sub:001 dlvrd:000 submit date:2507100830 done date:2507110830 stat:EXPIRED err:022 text:Iuran";
        for value in [2, 34, 18, 10] {
            assert_eq!(state(value, Some(expired)), Some(Expired), "%d = {value}");
        }
        let undeliv = expired.replace("EXPIRED", "UNDELIV");
        assert_eq!(state(34, Some(&undeliv)), Some(Undelivered));
        assert_eq!(
            state(16, Some(expired)),
            Some(Undelivered),
            "the SMSC refused the submit"
        );
        assert_eq!(state(1, Some(expired)), Some(Delivered));
    }

    #[test]
    fn the_detail_keeps_status_and_error_never_the_text() {
        let receipt = "id:4242 sub:001 dlvrd:000 submit date:2507100830 done date:2507110830 stat:EXPIRED err:022 \
                       text:Yth. SITI AMINAH +6281234567890";
        assert_eq!(detail(receipt).as_deref(), Some("stat:EXPIRED err:022"));
        assert_eq!(
            detail("NACK/0x00000045/Submit failed").as_deref(),
            Some("NACK/0x00000045/Submit failed")
        );
        assert_eq!(detail(" NACK/0x45 ").as_deref(), Some("NACK/0x45"));
        assert_eq!(detail("err:022").as_deref(), Some("err:022"));
        assert_eq!(detail("  "), None);
        let long = "x".repeat(200);
        assert_eq!(detail(&long).map(|d| d.len()), Some(80));
        let echoed = detail("NACK/0x0000000b/Invalid destination 081234567890").unwrap();
        assert!(!echoed.contains("1234567890"), "{echoed}");
    }
}
