//! Inbound SMS: participants reply STOP (or BERHENTI, UNREG) to stop their
//! reminders, and DAFTAR to have them again.
//!
//! How each gateway delivers them and takes the reply is its provider's
//! ([`crate::channels::sms::providers::Provider::inbound`]).

/// What a participant's message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, BERHENTI or UNREG: no more reminders.
    Stop,
    /// DAFTAR: reminders again.
    Start,
}

/// The reply to STOP (GSM-7, one segment).
pub const STOP_REPLY: &str = "Anda tidak akan menerima pengingat iuran lagi. Balas DAFTAR untuk berlangganan kembali.";

/// The reply to DAFTAR (GSM-7, one segment).
pub(crate) const START_REPLY: &str =
    "Anda akan kembali menerima pengingat iuran BPJS Ketenagakerjaan. Balas STOP untuk berhenti.";

/// The keyword a message starts with: its first word, in any case, with
/// surrounding spaces and punctuation ignored.
pub fn keyword(text: &str) -> Option<Keyword> {
    let word: String = text
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .collect();
    match word.to_uppercase().as_str() {
        "STOP" | "BERHENTI" | "UNREG" => Some(Keyword::Stop),
        "DAFTAR" => Some(Keyword::Start),
        _ => None,
    }
}

/// Digits hidden (a message may carry a NIK or a number) and cut short,
/// for the log.
pub(crate) fn masked_text(text: &str) -> String {
    text.chars()
        .take(40)
        .map(|c| if c.is_ascii_digit() { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_the_first_word_in_any_case() {
        for text in [
            "STOP",
            "stop",
            " Stop. ",
            "*STOP*",
            "stop pengingat",
            "Berhenti!",
            "unreg",
            "\"UNREG\"",
        ] {
            assert_eq!(keyword(text), Some(Keyword::Stop), "{text:?}");
        }
        assert_eq!(keyword("daftar"), Some(Keyword::Start));
        for text in ["", "stopp", "tolong stop", "ok", "123"] {
            assert_eq!(keyword(text), None, "{text:?}");
        }
    }

    #[test]
    fn replies_fit_one_gsm7_segment() {
        for text in [STOP_REPLY, START_REPLY] {
            let size = crate::schedule::measure(text);
            assert_eq!(size.encoding, crate::schedule::SmsEncoding::Gsm7, "{text}");
            assert!(size.is_single(), "{text}: {size}");
        }
    }

    #[test]
    fn logged_texts_hide_digits() {
        assert_eq!(masked_text("NIK 1872011205900001 stop"), "NIK **************** stop");
    }
}
