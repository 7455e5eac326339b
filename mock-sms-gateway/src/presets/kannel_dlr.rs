//! Kannel delivery reports: `GET` of the sender's `dlr-url` with its `%x`
//! escapes expanded (Kannel user guide, table "Parameters (Escape
//! Codes)").
//!
//! With `dlr-mask` bit 8 the SMSC acknowledgement (`%d` = 8, `%A` = `ACK/`)
//! comes first; then the final report, if the mask asks for it: 1
//! (delivered), or one of the failures a real Kannel reports
//! ([`failure_of`]): 2 (not delivered, `stat:UNDELIV`), 34 (not delivered
//! with the SMSC's detail, `stat:EXPIRED`) or 16 (the SMSC refused the
//! submit, `%A` = `NACK/0x00000045/…`, and nothing follows).

use chrono::{DateTime, Utc};

use super::first_chars;
use crate::courier::Courier;
use crate::form::encode_into;
use crate::outcome::number_key;

/// What a Kannel report needs, captured at acceptance.
#[derive(Debug, Clone)]
pub struct KannelDlr {
    /// The `dlr-url` as sent, escapes unexpanded.
    pub url_template: String,
    /// The `dlr-mask`.
    pub mask: u8,
    /// Kannel's internal id (`%I`).
    pub internal_id: String,
    /// The SMSC's message id (`%F`).
    pub foreign_id: String,
    /// The sender (`%p`).
    pub from: String,
    /// The recipient (`%P`).
    pub to: String,
    /// The text (its first 20 characters go in `%A`).
    pub text: String,
    /// The sendsms user (`%n`).
    pub username: String,
    /// `meta-data` (`%D`).
    pub meta_data: String,
    /// `coding` (`%c`), -1 when not given.
    pub coding: i32,
    /// `charset` (`%C`).
    pub charset: String,
    /// When it was accepted (the `submit date` of `%A`).
    pub submitted_at: DateTime<Utc>,
}

/// `%d` values (Kannel's DLR_* constants).
pub const DLR_SUCCESS: u8 = 1;
/// The message was not delivered to the phone.
pub const DLR_FAIL: u8 = 2;
/// The message was accepted by the SMSC.
pub const DLR_SMSC_SUCCESS: u8 = 8;
/// The SMSC refused the message.
pub const DLR_SMSC_FAIL: u8 = 16;
/// An intermediate report, or the SMSC's detail of a final one.
pub const DLR_INTERMEDIATE: u8 = 32;

/// How an undelivered message fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// The handset was not reached: 2, `stat:UNDELIV err:001`.
    Undelivered,
    /// Its validity ran out at the SMSC: 34 (2 | 32), `stat:EXPIRED err:022`.
    Expired,
    /// The SMSC refused the submit: 16, `NACK/0x00000045/Submit failed`.
    Rejected,
}

impl Failure {
    /// The report value.
    pub fn code(self) -> u8 {
        match self {
            Self::Undelivered => DLR_FAIL,
            Self::Expired => DLR_FAIL | DLR_INTERMEDIATE,
            Self::Rejected => DLR_SMSC_FAIL,
        }
    }
}

/// Which failure the message to `to` with `text` meets when it is not
/// delivered: a fixed function of both, so a test knows it in advance.
pub fn failure_of(to: &str, text: &str) -> Failure {
    let hash = number_key(to)
        .bytes()
        .chain(text.bytes())
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    match hash % 3 {
        0 => Failure::Undelivered,
        1 => Failure::Expired,
        _ => Failure::Rejected,
    }
}

/// The report values in the order they are sent.
pub fn report_codes(mask: u8, delivered: bool, failure: Failure) -> Vec<u8> {
    let mut codes = Vec::with_capacity(2);
    if !delivered && failure == Failure::Rejected {
        // No acknowledgement and no handset report: the submit failed.
        if mask & DLR_SMSC_FAIL != 0 {
            codes.push(DLR_SMSC_FAIL);
        }
        return codes;
    }
    if mask & DLR_SMSC_SUCCESS != 0 {
        codes.push(DLR_SMSC_SUCCESS);
    }
    let last = if delivered { DLR_SUCCESS } else { failure.code() };
    if mask & last & (DLR_SUCCESS | DLR_FAIL) != 0 {
        codes.push(last);
    }
    codes
}

/// Sends the reports of one message in order.
pub async fn send(courier: &Courier, dlr: &KannelDlr, delivered: bool) {
    let failure = failure_of(&dlr.to, &dlr.text);
    for code in report_codes(dlr.mask, delivered, failure) {
        let url = expand(dlr, code, courier.clock.now(), &courier.config.smsc_id);
        let ok = match courier.client.get(&url).send().await {
            Ok(response) => response.status().is_success(),
            Err(e) => {
                tracing::debug!(error = ?e.without_url(), "Kannel receipt not delivered");
                false
            }
        };
        courier.count(ok);
    }
}

/// The `dlr-url` with every escape of the table expanded for report `code`
/// sent at `now`; values are percent-encoded, unknown escapes stay literal
/// and `%%` is a percent sign, as in Kannel.
pub fn expand(dlr: &KannelDlr, code: u8, now: DateTime<Utc>, smsc_id: &str) -> String {
    let template = &dlr.url_template;
    let mut out = String::with_capacity(template.len() + 160);
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(escape) = chars.next() else {
            out.push('%');
            break;
        };
        match escape {
            'd' => out.push_str(&code.to_string()),
            'A' => encode_into(&mut out, &reply_text(dlr, code, now)),
            'F' => encode_into(&mut out, &dlr.foreign_id),
            'I' => encode_into(&mut out, &dlr.internal_id),
            'p' => encode_into(&mut out, &dlr.from),
            'P' => encode_into(&mut out, &dlr.to),
            'q' => encode_into(&mut out, &plus_form(&dlr.from)),
            'Q' => encode_into(&mut out, &plus_form(&dlr.to)),
            't' => encode_into(&mut out, &now.format("%Y-%m-%d %H:%M").to_string()),
            'T' => out.push_str(&now.timestamp().to_string()),
            'i' => encode_into(&mut out, smsc_id),
            'n' => encode_into(&mut out, &dlr.username),
            'B' => encode_into(&mut out, error_code(code)),
            'D' => encode_into(&mut out, &dlr.meta_data),
            'c' => out.push_str(&dlr.coding.to_string()),
            'C' => encode_into(&mut out, &dlr.charset),
            'R' => encode_into(&mut out, template),
            '%' => out.push('%'),
            other => {
                out.push('%');
                out.push(other);
            }
        }
    }
    out
}

/// `%A`: `ACK/` for the SMSC acknowledgement, `NACK/…` for its refusal,
/// else the SMPP receipt text `id:… sub:… dlvrd:… submit date:… done
/// date:… stat:… err:… text:…`.
fn reply_text(dlr: &KannelDlr, code: u8, now: DateTime<Utc>) -> String {
    match code {
        DLR_SMSC_SUCCESS => return "ACK/".to_string(),
        DLR_SMSC_FAIL => return "NACK/0x00000045/Submit failed".to_string(),
        _ => {}
    }
    let delivered = code == DLR_SUCCESS;
    let stat = match code {
        DLR_SUCCESS => "DELIVRD",
        c if c & DLR_INTERMEDIATE != 0 => "EXPIRED",
        _ => "UNDELIV",
    };
    format!(
        "id:{} sub:001 dlvrd:{} submit date:{} done date:{} stat:{stat} err:{} text:{}",
        dlr.foreign_id,
        if delivered { "001" } else { "000" },
        dlr.submitted_at.format("%y%m%d%H%M"),
        now.format("%y%m%d%H%M"),
        error_code(code),
        first_chars(&dlr.text, 20),
    )
}

/// `%B`, the `err` of the SMPP receipt: network-specific codes.
fn error_code(code: u8) -> &'static str {
    match code {
        DLR_SUCCESS => "000",
        DLR_FAIL => "001",
        c if c == DLR_FAIL | DLR_INTERMEDIATE => "022",
        DLR_SMSC_FAIL => "045",
        _ => "",
    }
}

/// `%q` / `%Q`: a leading `00` replaced by `+`.
fn plus_form(number: &str) -> String {
    match number.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => number.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn dlr(template: &str) -> KannelDlr {
        KannelDlr {
            url_template: template.into(),
            mask: 11,
            internal_id: "0b6f0c6e-1f1a-4a51-9c0e-6c3b1d2e3f40".into(),
            foreign_id: "4242".into(),
            from: "0062811".into(),
            to: "+6281234567890".into(),
            text: "Iuran Anda jatuh tempo 15/07/2025".into(),
            username: "kannel".into(),
            meta_data: String::new(),
            coding: 0,
            charset: "UTF-8".into(),
            submitted_at: Utc.with_ymd_and_hms(2025, 7, 10, 8, 30, 0).unwrap(),
        }
    }

    #[test]
    fn expands_every_escape() {
        let now = Utc.with_ymd_and_hms(2025, 7, 10, 8, 31, 0).unwrap();
        let d = dlr("http://d/dlr?id=abc&st=%d&fid=%F&iid=%I&p=%p&P=%P&q=%q&Q=%Q&t=%t&T=%T&i=%i&n=%n&B=%B&x=%x&pc=%%");
        let url = expand(&d, DLR_SUCCESS, now, "mock");
        assert_eq!(
            url,
            "http://d/dlr?id=abc&st=1&fid=4242&iid=0b6f0c6e-1f1a-4a51-9c0e-6c3b1d2e3f40&p=0062811\
             &P=%2B6281234567890&q=%2B62811&Q=%2B6281234567890&t=2025-07-10%2008%3A31&T=1752136260\
             &i=mock&n=kannel&B=000&x=%x&pc=%"
        );
    }

    #[test]
    fn the_reply_text_is_an_smpp_receipt() {
        let now = Utc.with_ymd_and_hms(2025, 7, 10, 8, 31, 0).unwrap();
        let d = dlr("%A");
        assert_eq!(expand(&d, DLR_SMSC_SUCCESS, now, "mock"), "ACK%2F");
        assert_eq!(
            reply_text(&d, DLR_FAIL, now),
            "id:4242 sub:001 dlvrd:000 submit date:2507100830 done date:2507100831 stat:UNDELIV err:001 \
             text:Iuran Anda jatuh tem"
        );
    }

    #[test]
    fn the_mask_decides_which_reports_go() {
        use Failure::{Expired, Rejected, Undelivered};
        assert_eq!(report_codes(19, true, Undelivered), vec![1]);
        assert_eq!(report_codes(19, false, Undelivered), vec![2]);
        assert_eq!(report_codes(19, false, Expired), vec![34]);
        assert_eq!(report_codes(19, false, Rejected), vec![16]);
        assert_eq!(report_codes(11, true, Expired), vec![8, 1]);
        assert_eq!(report_codes(11, false, Expired), vec![8, 34]);
        assert_eq!(report_codes(11, false, Rejected), Vec::<u8>::new());
        assert_eq!(report_codes(8, false, Undelivered), vec![8]);
        assert_eq!(report_codes(1, false, Undelivered), Vec::<u8>::new());
    }

    #[test]
    fn failures_read_like_the_smscs() {
        let now = Utc.with_ymd_and_hms(2025, 7, 11, 8, 30, 0).unwrap();
        let d = dlr("%A");
        assert!(reply_text(&d, 34, now).contains(" stat:EXPIRED err:022 "));
        assert_eq!(reply_text(&d, 16, now), "NACK/0x00000045/Submit failed");
        let kinds: std::collections::HashSet<_> = (0..30)
            .map(|i| failure_of("+6281234567890", &format!("pesan {i}")))
            .collect();
        assert_eq!(kinds.len(), 3, "every failure occurs");
        assert_eq!(failure_of("+6281234567890", "x"), failure_of("081234567890", "x"));
    }
}
