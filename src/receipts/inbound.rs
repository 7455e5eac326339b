//! Inbound SMS: participants reply STOP (or BERHENTI, UNREG) to stop their
//! reminders, and DAFTAR to have them again.
//!
//! Formats, by the gateway's preset:
//! - Kannel: `GET /inbound/{gateway}?from=%p&text=%a&token=…`, from an
//!   `sms-service` whose answer Kannel sends back as the reply SMS:
//!
//!   ```text
//!   group = sms-service
//!   keyword = default
//!   get-url = "https://pengingat.example.go.id/inbound/kannel?from=%p&text=%a&token=SECRET"
//!   max-messages = 1
//!   omit-empty = true
//!   ```
//!
//!   (`omit-empty`: an empty answer, for a message that is not a keyword,
//!   sends no reply.)
//! - Twilio: its incoming-message webhook (form `From`, `Body`), signed;
//!   the answer is TwiML with the reply.
//! - any other: `POST` JSON `{"from": "+62…", "text": "…"}`; the answer is
//!   `{"reply": "…"}` (or `{}`), for the gateway to send if it can.

use serde::Deserialize;

use super::parse::{form_pairs, without_token};
use crate::config::delivery::Preset;

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
pub const START_REPLY: &str =
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

/// An inbound SMS as read from the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The sender, as the gateway wrote it.
    pub from: String,
    /// The text.
    pub text: String,
}

#[derive(Deserialize)]
struct InboundJson {
    from: Option<String>,
    text: Option<String>,
}

/// The sender and text of an inbound SMS in `preset`'s format, or what is
/// missing or malformed.
pub fn read(preset: Preset, query: Option<&str>, body: &[u8]) -> Result<Inbound, String> {
    let (from, text) = match preset {
        Preset::Kannel => {
            let mut pairs = form_pairs(without_token(query.unwrap_or("")).as_bytes());
            pairs.extend(form_pairs(body));
            let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            (get("from"), get("text"))
        }
        Preset::Twilio => {
            let pairs = form_pairs(body);
            let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            (get("From"), get("Body"))
        }
        _ => {
            let json: InboundJson = serde_json::from_slice(body).map_err(|e| format!("malformed JSON: {e}"))?;
            (json.from, json.text)
        }
    };
    let from = from.filter(|f| !f.trim().is_empty()).ok_or("from is missing")?;
    let text = text.ok_or("text is missing")?;
    Ok(Inbound { from, text })
}

/// Digits hidden (a message may carry a NIK or a number) and cut short,
/// for the log.
pub fn masked_text(text: &str) -> String {
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
    fn messages_are_read_per_preset() {
        let kannel = read(Preset::Kannel, Some("from=%2B6281234567890&text=STOP&token=x"), b"").unwrap();
        assert_eq!((kannel.from.as_str(), kannel.text.as_str()), ("+6281234567890", "STOP"));
        let twilio = read(Preset::Twilio, None, b"From=%2B6281234567890&Body=stop&To=%2B1").unwrap();
        assert_eq!(twilio.text, "stop");
        let json = read(Preset::Webhook, None, br#"{"from": "0812345678", "text": "Berhenti"}"#).unwrap();
        assert_eq!(json.from, "0812345678");
        assert!(read(Preset::Kannel, Some("text=STOP"), b"").is_err());
        assert!(read(Preset::Webhook, None, b"{").is_err());
        assert_eq!(masked_text("NIK 1872011205900001 stop"), "NIK **************** stop");
    }
}
