//! The contact-verification rules: which participants' contact data looks
//! wrong, judged from what their reminders came to, so the kelurahan can
//! check it in the field.
//!
//! A participant is listed when
//! - their last two SMS both ended `undelivered` or `failed` for a reason
//!   that points at the number ([`sms_failure_is_number_related`]);
//! - their last e-mail was refused by the relay for a reason that points at
//!   the address ([`email_failure_is_address_related`]); the service sees no
//!   bounces that come back later (it reads no mailbox), only the relay's
//!   refusal while the message is handed over;
//! - they have neither a phone number nor an e-mail address.
//!
//! Only messages sent after the participant's contact data last changed
//! count: a corrected import takes them off the list. The reasons matched
//! here are the texts the receipts and the senders store with a reminder.

/// The stored reason of a reminder the network reported undelivered: the
/// SMSC or the operator could not hand it to the number (Kannel's failed or
/// rejected-by-SMSC report, Jasmin's `UNDELIV`/`REJECTD`/`DELETED`/`ESME_R…`,
/// Twilio's `undelivered`/`failed`, Infobip's `UNDELIVERABLE`/`REJECTED`,
/// a webhook's configured undelivered values).
pub const UNDELIVERED_PREFIX: &str = "not delivered to the handset";

/// A permanent refusal as the dispatcher stores it (`{gateway}: permanent
/// failure: {reason}`).
const PERMANENT: &str = ": permanent failure: ";

/// Words a gateway's refusal uses for the recipient (compared lower case):
/// Twilio's "Invalid 'To' Phone Number", "not a valid mobile number",
/// invalid destination or recipient, MSISDN.
const RECIPIENT_WORDS: [&str; 6] = ["number", "destination", "recipient", "'to'", "msisdn", "phone"];

/// Infobip's status names at submit that are about the number (its status
/// groups `REJECTED` and `UNDELIVERABLE`); `REJECTED_SOURCE`, `REJECTED_SENDER`
/// and the like are about us and do not count.
const INFOBIP_NUMBER_STATUSES: [&str; 4] = [
    "REJECTED_DESTINATION",
    "REJECTED_NETWORK",
    "REJECTED_PREFIX_MISSING",
    "UNDELIVERABLE",
];

/// Whether a gateway's permanent refusal (the text after "permanent
/// failure: ") is about the recipient: an HTTP 4xx answer that names the
/// number or destination, an Infobip status about the number, or our own
/// check that the stored number is not E.164. Refusals about the text (too
/// long, empty, a header value) or about our sender are ours, not the
/// number's, and are not listed.
fn refusal_is_about_the_number(refusal: &str) -> bool {
    let lower = refusal.to_lowercase();
    (refusal.starts_with("HTTP 4") && RECIPIENT_WORDS.iter().any(|w| lower.contains(w)))
        || INFOBIP_NUMBER_STATUSES.iter().any(|s| refusal.starts_with(s))
        || refusal.contains("is not an E.164 number")
}

/// SMTP reply codes about the recipient's mailbox (RFC 5321 §4.2.2): 550
/// mailbox unavailable, 551 user not local, 553 mailbox name not allowed;
/// and the enhanced status codes of the address class `5.1.x` (RFC 3463:
/// bad destination mailbox, bad system, bad syntax).
const ADDRESS_CODES: [&str; 4] = ["(550)", "(551)", "(553)", " 5.1."];

/// Whether an SMS reminder that ended in `status` with `reason` says the
/// number is wrong. `expired` at the operator (a handset off or out of
/// coverage for days), `unknown` (no receipt), giving up after transient
/// errors and refusals of the text are not about the number.
pub fn sms_failure_is_number_related(status: &str, reason: Option<&str>) -> bool {
    let reason = reason.unwrap_or_default();
    match status {
        "undelivered" => reason.starts_with(UNDELIVERED_PREFIX),
        "failed" => {
            !reason.starts_with("gave up")
                && reason
                    .split_once(PERMANENT)
                    .is_some_and(|(_, r)| refusal_is_about_the_number(r))
        }
        _ => false,
    }
}

/// Whether an e-mail reminder that ended in `status` with `reason` was
/// refused by the relay because of the address: a permanent SMTP refusal
/// with a mailbox reply code ([`ADDRESS_CODES`]), or an address that is not
/// one. A refusal of the content (554), a full mailbox (552) or giving up
/// after temporary errors are not about the address.
pub fn email_failure_is_address_related(status: &str, reason: Option<&str>) -> bool {
    let reason = reason.unwrap_or_default();
    status == "failed"
        && !reason.starts_with("gave up")
        && reason
            .split_once(PERMANENT)
            .is_some_and(|(_, r)| r.contains("is not an e-mail address") || ADDRESS_CODES.iter().any(|c| r.contains(c)))
}

/// Why a participant is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactProblem {
    /// The last two SMS failed for a reason about the number.
    PhoneUnreachable,
    /// The last e-mail was refused for a reason about the address.
    EmailRefused,
    /// Neither a phone number nor an e-mail address.
    NoContact,
}

impl ContactProblem {
    /// The reason as the kelurahan office reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::PhoneUnreachable => "2 SMS terakhir gagal: nomor HP salah/mati",
            Self::EmailRefused => "Email ditolak server: alamat salah",
            Self::NoContact => "Tidak ada nomor HP maupun email",
        }
    }

    /// The reason in a few words, for an 80-column table.
    pub fn short(self) -> &'static str {
        match self {
            Self::PhoneUnreachable => "Nomor HP gagal",
            Self::EmailRefused => "Email ditolak",
            Self::NoContact => "Tanpa kontak",
        }
    }

    /// A short stable code, for spreadsheets.
    pub fn code(self) -> &'static str {
        match self {
            Self::PhoneUnreachable => "nomor_hp",
            Self::EmailRefused => "email",
            Self::NoContact => "tanpa_kontak",
        }
    }
}

/// One message that ended, newest first within its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedMessage<'a> {
    /// The reminder's final status.
    pub status: &'a str,
    /// Its stored reason.
    pub reason: Option<&'a str>,
    /// When it ended (Unix seconds).
    pub ended_at: i64,
}

/// What the rules say of one participant, with the date (Unix seconds) of
/// the newest failure behind each problem. `sms` and `email` are the last
/// messages of each channel sent after the contact data last changed,
/// newest first (two of SMS and one of e-mail are enough).
pub fn problems(
    has_phone: bool,
    has_email: bool,
    no_contact_since: i64,
    sms: &[EndedMessage<'_>],
    email: &[EndedMessage<'_>],
) -> Vec<(ContactProblem, i64)> {
    let mut out = Vec::new();
    if let [last, before, ..] = sms
        && has_phone
        && [last, before]
            .iter()
            .all(|m| sms_failure_is_number_related(m.status, m.reason))
    {
        out.push((ContactProblem::PhoneUnreachable, last.ended_at));
    }
    if let [last, ..] = email
        && has_email
        && email_failure_is_address_related(last.status, last.reason)
    {
        out.push((ContactProblem::EmailRefused, last.ended_at));
    }
    if !has_phone && !has_email {
        out.push((ContactProblem::NoContact, no_contact_since));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNDELIVERED: &str = "not delivered to the handset (delivery receipt); SMSC: stat:UNDELIV err:001";

    fn m(status: &str, reason: &'static str, at: i64) -> EndedMessage<'static> {
        let status: &'static str = match status {
            "undelivered" => "undelivered",
            "failed" => "failed",
            "delivered" => "delivered",
            _ => "unknown",
        };
        EndedMessage {
            status,
            reason: Some(reason),
            ended_at: at,
        }
    }

    #[test]
    fn number_related_sms_reasons() {
        assert!(sms_failure_is_number_related("undelivered", Some(UNDELIVERED)));
        assert!(sms_failure_is_number_related(
            "failed",
            Some("twilio: permanent failure: HTTP 400: The 'To' number +62812****890 is not a valid phone number.")
        ));
        assert!(sms_failure_is_number_related(
            "failed",
            Some("infobip: permanent failure: REJECTED_DESTINATION: invalid destination")
        ));
        assert!(sms_failure_is_number_related(
            "failed",
            Some("local: permanent failure: recipient 0812 is not an E.164 number")
        ));
        for (status, reason) in [
            ("undelivered", "expired at the operator"),
            ("unknown", "no final delivery receipt within 72 hours"),
            (
                "failed",
                "gave up after 5 attempts: kannel: permanent failure: HTTP 400: x",
            ),
            (
                "failed",
                "local: permanent failure: the text is 4 parts, more than any gateway sends",
            ),
            (
                "failed",
                "twilio: permanent failure: text longer than Twilio's 1600 characters",
            ),
            ("failed", "rule h-1 has no template"),
            ("failed", "jasmin: permanent failure: HTTP 400: invalid sender id"),
            (
                "failed",
                "infobip: permanent failure: REJECTED_SOURCE: sender not allowed",
            ),
            ("delivered", ""),
        ] {
            assert!(
                !sms_failure_is_number_related(status, Some(reason)),
                "{status} {reason}"
            );
        }
        assert!(!sms_failure_is_number_related("failed", None));
    }

    #[test]
    fn address_related_email_reasons() {
        let refused = "smtp: permanent failure: permanent error (550): 5.1.1 <b***@example.com>: Recipient address \
                       rejected: User unknown";
        assert!(email_failure_is_address_related("failed", Some(refused)));
        assert!(email_failure_is_address_related(
            "failed",
            Some("smtp: permanent failure: recipient b***@x is not an e-mail address: invalid")
        ));
        assert!(!email_failure_is_address_related(
            "failed",
            Some("smtp: permanent failure: permanent error (554): 5.7.1 message refused as spam")
        ));
        assert!(!email_failure_is_address_related(
            "failed",
            Some("smtp: temporary failure: transient error (451): 4.3.0 try again")
        ));
        assert!(!email_failure_is_address_related("sent", Some(refused)));
    }

    #[test]
    fn two_sms_failures_list_the_number_one_does_not() {
        let two = [m("undelivered", UNDELIVERED, 20), m("undelivered", UNDELIVERED, 10)];
        assert_eq!(
            problems(true, false, 0, &two, &[]),
            [(ContactProblem::PhoneUnreachable, 20)]
        );
        assert!(problems(true, false, 0, &two[..1], &[]).is_empty());
        let mixed = [m("undelivered", UNDELIVERED, 20), m("delivered", "", 10)];
        assert!(problems(true, false, 0, &mixed, &[]).is_empty());
        let newest_ok = [m("delivered", "", 30), m("undelivered", UNDELIVERED, 20)];
        assert!(problems(true, false, 0, &newest_ok, &[]).is_empty());
    }

    #[test]
    fn no_contact_and_email_refusal() {
        assert_eq!(problems(false, false, 7, &[], &[]), [(ContactProblem::NoContact, 7)]);
        let refused = [m(
            "failed",
            "smtp: permanent failure: permanent error (550): 5.1.1 Recipient address rejected",
            40,
        )];
        assert_eq!(
            problems(false, true, 7, &[], &refused),
            [(ContactProblem::EmailRefused, 40)]
        );
        assert_eq!(ContactProblem::NoContact.code(), "tanpa_kontak");
    }
}
