//! Masking of personal data in text that comes back from gateways and
//! relays. Error answers routinely echo the recipient ("Argument [to] has an
//! invalid value: [6281…]", "550 5.1.1 <budi@…>: Recipient address
//! rejected"), and those reasons end up in logs and in the reminder's last
//! error, where personal data must never appear unmasked (project rule).

/// Digit runs at least this long are taken for phone numbers. Indonesian
/// mobiles have 9 to 12 digits after 62, so a
/// national number is at least 10 digits; 9 leaves margin for a number
/// written without its prefix while sparing Twilio's 5-digit error codes and
/// the 8-digit groups of UUIDs.
const PHONE_DIGITS: usize = 9;

/// `text` with every phone-number-like digit run masked like
/// [`crate::domain::PhoneNumber::masked`] (`+62812****890`) and the local
/// part of every e-mail address masked like
/// [`crate::domain::EmailAddress::masked`] (`b***@example.com`). Masking
/// is idempotent.
pub fn redact(text: &str) -> String {
    mask_digit_runs(&mask_emails(text))
}

fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let run = &chars[start..i];
        if run.len() >= PHONE_DIGITS {
            out.extend(&run[..5]);
            out.push_str("****");
            out.extend(&run[run.len() - 3..]);
        } else {
            out.extend(run);
        }
    }
    out
}

/// Characters of an address's local part (RFC 5322 atext, less the rare
/// ones that also delimit addresses in prose).
fn is_local(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '=' | '\'' | '!' | '#' | '&' | '~')
}

fn mask_emails(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut keep = vec![true; chars.len()];
    let mut stars_after = vec![false; chars.len()];
    for (at, &c) in chars.iter().enumerate() {
        let domain_follows = chars.get(at + 1).is_some_and(|d| d.is_alphanumeric());
        if c != '@' || !domain_follows {
            continue;
        }
        let mut start = at;
        while start > 0 && is_local(chars[start - 1]) {
            start -= 1;
        }
        if start == at {
            continue;
        }
        // Keep the first character, hide the rest of the local part.
        for k in keep.iter_mut().take(at).skip(start + 1) {
            *k = false;
        }
        stars_after[start] = true;
    }
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if keep[i] {
            out.push(c);
        }
        if stars_after[i] {
            out.push_str("***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PhoneNumber;

    #[test]
    fn phone_numbers_are_masked_like_the_domain_does() {
        let number = PhoneNumber::parse("081234567890").unwrap();
        assert_eq!(redact(number.as_str()), number.masked());
        assert_eq!(
            redact("Argument [to] has an invalid value: [6281234567890]."),
            "Argument [to] has an invalid value: [62812****890]."
        );
        assert_eq!(redact("ke 081234567890"), "ke 08123****890");
    }

    #[test]
    fn short_numbers_and_ids_stay() {
        let text = "Twilio error 21211; id 07033084-5cfd-4812-90a4-e4d24ffb6e3d; status 503";
        assert_eq!(redact(text), text);
    }

    #[test]
    fn email_local_parts_are_masked() {
        assert_eq!(
            redact("550 5.1.1 <budi.santoso@example.co.id>: Recipient address rejected"),
            "550 5.1.1 <b***@example.co.id>: Recipient address rejected"
        );
        assert_eq!(redact("a @ b"), "a @ b");
    }

    #[test]
    fn masking_is_idempotent() {
        for text in ["+6281234567890 and siti@example.com", "nothing here", "x@y"] {
            let once = redact(text);
            assert_eq!(redact(&once), once, "{text}");
        }
    }
}
