//! NIK (Nomor Induk Kependudukan), the 16-digit national identity number.
//!
//! Layout: `PPKKCC` region code of the issuing kecamatan (province, kabupaten
//! or kota, kecamatan), `DDMMYY` birth date (day + 40 for women), then a
//! 4-digit serial; the first 6 digits are the region code.

use std::fmt;

use thiserror::Error;

/// Why a string is not a NIK.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NikError {
    #[error("NIK is empty")]
    Empty,
    #[error("NIK must be 16 digits, got {0} characters")]
    Length(usize),
    #[error("NIK must contain only digits")]
    NotDigits,
    #[error("NIK starts with {0:02}, which is not an Indonesian province code")]
    UnknownProvince(u8),
    #[error("NIK region code {0} has a zero kabupaten/kota or kecamatan part")]
    BadRegion(String),
    #[error("NIK birth date part {0} is not a valid day and month")]
    BadBirthDate(String),
    #[error("NIK serial number is 0000")]
    ZeroSerial,
}

/// The province codes of Indonesia (Kemendagri), as listed with their time
/// zones in the kelurahan data's SOURCE.md.
pub const PROVINCE_CODES: &[u8] = &[
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65, 71, 72, 73, 74, 75,
    76, 81, 82, 91, 92, 93, 94, 95, 96,
];

/// A syntactically valid NIK.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nik(String);

impl Nik {
    /// Parses a NIK, tolerating surrounding white space and inner spaces
    /// (spreadsheets often show it as `1872 0112 0590 0003`).
    pub fn parse(raw: &str) -> Result<Self, NikError> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return Err(NikError::Empty);
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(NikError::NotDigits);
        }
        if digits.len() != 16 {
            return Err(NikError::Length(digits.chars().count()));
        }
        let num = |range: std::ops::Range<usize>| -> u8 {
            digits[range].parse().unwrap_or(0) // all ASCII digits, checked above
        };
        let province = num(0..2);
        if !PROVINCE_CODES.contains(&province) {
            return Err(NikError::UnknownProvince(province));
        }
        if num(2..4) == 0 || num(4..6) == 0 {
            return Err(NikError::BadRegion(digits[0..6].to_string()));
        }
        let day = num(6..8);
        let month = num(8..10);
        let day_ok = (1..=31).contains(&day) || (41..=71).contains(&day);
        if !day_ok || !(1..=12).contains(&month) {
            return Err(NikError::BadBirthDate(digits[6..12].to_string()));
        }
        if &digits[12..16] == "0000" {
            return Err(NikError::ZeroSerial);
        }
        Ok(Self(digits))
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The region code of the issuing kecamatan, dotted: `18.72.01`.
    pub fn region_code(&self) -> String {
        format!("{}.{}.{}", &self.0[0..2], &self.0[2..4], &self.0[4..6])
    }

    /// The form used in logs: the province and kabupaten digits and the last
    /// two digits, never the birth date.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[0..4], &self.0[14..16])
    }
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Nik {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_metro_nik_with_spaces() {
        let nik = Nik::parse(" 1872 0112 0590 0003 ").unwrap();
        assert_eq!(nik.as_str(), "1872011205900003");
        assert_eq!(nik.region_code(), "18.72.01");
        assert_eq!(nik.masked(), "1872**********03");
    }

    #[test]
    fn accepts_a_woman_birth_day() {
        assert!(Nik::parse("1872015207850001").is_ok());
    }

    #[test]
    fn rejects_with_reasons() {
        assert_eq!(Nik::parse(""), Err(NikError::Empty));
        assert_eq!(Nik::parse("187201120590000"), Err(NikError::Length(15)));
        assert_eq!(Nik::parse("18720112059000A3"), Err(NikError::NotDigits));
        assert_eq!(Nik::parse("9972011205900003"), Err(NikError::UnknownProvince(99)));
        assert!(matches!(Nik::parse("1800011205900003"), Err(NikError::BadRegion(_))));
        assert!(matches!(Nik::parse("1872013213900003"), Err(NikError::BadBirthDate(_))));
        assert!(matches!(Nik::parse("1872011213900003"), Err(NikError::BadBirthDate(_))));
        assert_eq!(Nik::parse("1872011205900000"), Err(NikError::ZeroSerial));
    }
}
