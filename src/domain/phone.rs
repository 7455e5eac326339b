//! Indonesian mobile numbers, normalised to E.164.
//!
//! Rules after libphonenumber's metadata for region `ID`: the national significant number of a mobile
//! is `8[1-35-9]` followed by 7 to 10 digits; `84…` is not mobile. Written
//! forms accepted: `08…`, `62…`, `+62…`, `0062…`, with spaces, dots, dashes
//! and parentheses.
//!
//! Our own rather than a libphonenumber port: one region's mobile prefixes
//! are the whole rule, without the world's metadata.

use std::fmt;

use thiserror::Error;

/// Why a string is not an Indonesian mobile number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number contains {0:?}, which is not a digit or separator")]
    BadCharacter(char),
    #[error("phone number must start with 08, 62, +62 or 0062")]
    NotIndonesian,
    #[error("phone number is not a mobile number (mobile numbers start with 08 then 1-3 or 5-9)")]
    NotMobile,
    #[error("phone number has {0} digits after 62; a mobile number has 9 to 12")]
    Length(usize),
}

/// An Indonesian mobile number in E.164 form, `+628…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses and normalises a phone number as written in spreadsheets.
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut digits = String::with_capacity(trimmed.len());
        let mut plus = false;
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '.' | '-' | '(' | ')' => {}
                '+' if i == 0 => plus = true,
                other => return Err(PhoneError::BadCharacter(other)),
            }
        }
        let national = if plus {
            digits.strip_prefix("62").ok_or(PhoneError::NotIndonesian)?
        } else if let Some(rest) = digits.strip_prefix("0062") {
            rest
        } else if let Some(rest) = digits.strip_prefix("62") {
            rest
        } else if let Some(rest) = digits.strip_prefix('0') {
            rest
        } else {
            return Err(PhoneError::NotIndonesian);
        };
        let mut chars = national.chars();
        let first = chars.next();
        let second = chars.next();
        let mobile_prefix = first == Some('8') && matches!(second, Some('1'..='3') | Some('5'..='9'));
        if !mobile_prefix {
            return Err(PhoneError::NotMobile);
        }
        if !(9..=12).contains(&national.len()) {
            return Err(PhoneError::Length(national.len()));
        }
        Ok(Self(format!("+62{national}")))
    }

    /// The E.164 form, `+6281234567890`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used in logs and coordinator digests: `+62812****890`.
    pub fn masked(&self) -> String {
        let keep_end = 3;
        let head = &self.0[..6];
        let tail = &self.0[self.0.len() - keep_end..];
        format!("{head}****{tail}")
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_every_written_form() {
        for raw in [
            "081234567890",
            "0812-3456-7890",
            "0812.3456.7890",
            "62 812 3456 7890",
            "+62 812-3456-7890",
            "+62 (812) 3456 7890",
            "0062 812 3456 7890",
            "  6281234567890 ",
        ] {
            assert_eq!(PhoneNumber::parse(raw).unwrap().as_str(), "+6281234567890", "{raw}");
        }
    }

    #[test]
    fn accepts_shortest_and_longest_mobiles() {
        assert_eq!(PhoneNumber::parse("0812345678").unwrap().as_str(), "+62812345678");
        assert_eq!(PhoneNumber::parse("0812345678901").unwrap().as_str(), "+62812345678901");
    }

    #[test]
    fn rejects_with_reasons() {
        assert_eq!(PhoneNumber::parse(" "), Err(PhoneError::Empty));
        assert_eq!(PhoneNumber::parse("0812x4567890"), Err(PhoneError::BadCharacter('x')));
        assert_eq!(PhoneNumber::parse("+6512345678"), Err(PhoneError::NotIndonesian));
        assert_eq!(PhoneNumber::parse("812345678"), Err(PhoneError::NotIndonesian));
        assert_eq!(PhoneNumber::parse("0218350123"), Err(PhoneError::NotMobile));
        assert_eq!(PhoneNumber::parse("0841234567"), Err(PhoneError::NotMobile));
        assert_eq!(PhoneNumber::parse("08123456"), Err(PhoneError::Length(7)));
        assert_eq!(PhoneNumber::parse("08123456789012"), Err(PhoneError::Length(13)));
    }

    #[test]
    fn masks_the_middle() {
        let p = PhoneNumber::parse("081234567890").unwrap();
        assert_eq!(p.masked(), "+62812****890");
        assert!(!p.masked().contains("4567"));
    }
}
