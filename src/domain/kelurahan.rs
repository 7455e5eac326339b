//! Kemendagri kelurahan/desa codes and the time zone of their province.
//!
//! Codes are `PP.KK.CC.DDDD` (province, kabupaten/kota, kecamatan,
//! kelurahan/desa), also written without dots (`1872011001`). The time zone
//! follows the province, as listed in the kelurahan data's SOURCE.md: WIB for
//! 11-19, 21, 31-36, 61, 62; WITA for 51-53, 63-65, 71-76; WIT for 81, 82 and
//! 91-96.

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a string is not a kelurahan code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KelurahanCodeError {
    #[error("kelurahan code is empty")]
    Empty,
    #[error("kelurahan code {0:?} must be PP.KK.CC.DDDD or 10 digits")]
    Shape(String),
    #[error("kelurahan code {0:?} starts with {1:02}, which is not a province code")]
    UnknownProvince(String, u8),
    #[error(
        "kelurahan code {0:?} must be a province (18), kabupaten/kota (18.72), kecamatan (18.72.01) \
         or kelurahan/desa code (18.72.01.1001), dotted or not"
    )]
    Prefix(String),
}

/// A kelurahan or desa code in its dotted form, `18.72.01.1001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KelurahanCode(String);

impl KelurahanCode {
    /// Parses the dotted or undotted form.
    pub fn parse(raw: &str) -> Result<Self, KelurahanCodeError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(KelurahanCodeError::Empty);
        }
        let digits: String = if s.contains('.') {
            let parts: Vec<&str> = s.split('.').collect();
            let widths = [2, 2, 2, 4];
            let shape_ok = parts.len() == 4
                && parts
                    .iter()
                    .zip(widths)
                    .all(|(p, w)| p.len() == w && p.bytes().all(|b| b.is_ascii_digit()));
            if !shape_ok {
                return Err(KelurahanCodeError::Shape(s.to_string()));
            }
            parts.concat()
        } else {
            if s.len() != 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(KelurahanCodeError::Shape(s.to_string()));
            }
            s.to_string()
        };
        let province: u8 = digits[0..2].parse().unwrap_or(0);
        if RegionTimeZone::of_province(province).is_none() {
            return Err(KelurahanCodeError::UnknownProvince(s.to_string(), province));
        }
        Ok(Self(format!(
            "{}.{}.{}.{}",
            &digits[0..2],
            &digits[2..4],
            &digits[4..6],
            &digits[6..10]
        )))
    }

    /// The dotted form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-digit province code.
    pub fn province(&self) -> u8 {
        self.0[0..2].parse().unwrap_or(0)
    }

    /// The region code of the kecamatan, `18.72.01`, which NIKs issued there start with.
    pub fn kecamatan_code(&self) -> &str {
        &self.0[0..8]
    }

    /// The time zone of the kelurahan's province.
    pub fn time_zone(&self) -> RegionTimeZone {
        RegionTimeZone::of_province(self.province()).unwrap_or(RegionTimeZone::Wib)
    }

    /// Whether this code lies under `prefix`, given as a code prefix with or
    /// without dots (`18`, `18.72`, `1872`, `18.72.01.1001`).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        let undotted_prefix: String = prefix.chars().filter(|c| *c != '.').collect();
        let undotted: String = self.0.chars().filter(|c| *c != '.').collect();
        undotted.starts_with(&undotted_prefix)
    }
}

/// A code prefix in the stored (dotted) form, whether given with dots or
/// without: `1872` and `18.72` both become `18.72`, `1872011001` becomes
/// `18.72.01.1001`; what a database `LIKE prefix%` needs.
pub fn dotted_prefix(prefix: &str) -> String {
    let digits: Vec<char> = prefix.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 3);
    for (i, c) in digits.into_iter().enumerate() {
        if matches!(i, 2 | 4 | 6) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A code prefix as given on the command line, in the dotted form: a whole
/// province (2 digits), kabupaten/kota (4), kecamatan (6) or kelurahan/desa
/// (10) code, with dots at their places or none. Partial segments and
/// anything else (a `%` or `_`, which a database `LIKE` would read as a
/// wildcard) are refused.
pub fn parse_code_prefix(raw: &str) -> Result<String, KelurahanCodeError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(KelurahanCodeError::Empty);
    }
    let shape = || KelurahanCodeError::Prefix(s.to_string());
    let digits: String = s.chars().filter(|c| *c != '.').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4 | 6 | 10) {
        return Err(shape());
    }
    let dotted = dotted_prefix(&digits);
    if s.contains('.') && s != dotted {
        return Err(shape());
    }
    let province: u8 = digits[0..2].parse().unwrap_or(0);
    if RegionTimeZone::of_province(province).is_none() {
        return Err(KelurahanCodeError::UnknownProvince(s.to_string(), province));
    }
    Ok(dotted)
}

impl fmt::Display for KelurahanCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for KelurahanCode {
    type Error = KelurahanCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<KelurahanCode> for String {
    fn from(value: KelurahanCode) -> Self {
        value.0
    }
}

/// The three Indonesian time zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegionTimeZone {
    /// Waktu Indonesia Barat, UTC+7.
    Wib,
    /// Waktu Indonesia Tengah, UTC+8.
    Wita,
    /// Waktu Indonesia Timur, UTC+9.
    Wit,
}

impl RegionTimeZone {
    /// The time zone of a province code, or `None` for a code that is not a province.
    pub fn of_province(province: u8) -> Option<Self> {
        match province {
            11..=19 | 21 | 31..=36 | 61 | 62 => Some(Self::Wib),
            51..=53 | 63..=65 | 71..=76 => Some(Self::Wita),
            81 | 82 | 91..=96 => Some(Self::Wit),
            _ => None,
        }
    }

    /// The IANA zone.
    pub fn tz(self) -> Tz {
        match self {
            Self::Wib => chrono_tz::Asia::Jakarta,
            Self::Wita => chrono_tz::Asia::Makassar,
            Self::Wit => chrono_tz::Asia::Jayapura,
        }
    }

    /// The IANA name, as stored in the database.
    pub fn iana_name(self) -> &'static str {
        match self {
            Self::Wib => "Asia/Jakarta",
            Self::Wita => "Asia/Makassar",
            Self::Wit => "Asia/Jayapura",
        }
    }

    /// The Indonesian abbreviation.
    pub fn abbreviation(self) -> &'static str {
        match self {
            Self::Wib => "WIB",
            Self::Wita => "WITA",
            Self::Wit => "WIT",
        }
    }
}

impl FromStr for RegionTimeZone {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Asia/Jakarta" | "WIB" => Ok(Self::Wib),
            "Asia/Makassar" | "WITA" => Ok(Self::Wita),
            "Asia/Jayapura" | "WIT" => Ok(Self::Wit),
            other => Err(format!("unknown Indonesian time zone {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_become_dotted() {
        assert_eq!(dotted_prefix("1872"), "18.72");
        assert_eq!(dotted_prefix("18.72"), "18.72");
        assert_eq!(dotted_prefix("187201"), "18.72.01");
        assert_eq!(dotted_prefix("1872011001"), "18.72.01.1001");
        assert_eq!(dotted_prefix("18.72.01.1001"), "18.72.01.1001");
        assert_eq!(dotted_prefix("18"), "18");
    }

    #[test]
    fn code_prefixes_are_whole_segments() {
        assert_eq!(parse_code_prefix("18").unwrap(), "18");
        assert_eq!(parse_code_prefix(" 1872 ").unwrap(), "18.72");
        assert_eq!(parse_code_prefix("18.72.01").unwrap(), "18.72.01");
        assert_eq!(parse_code_prefix("1872011001").unwrap(), "18.72.01.1001");
        for bad in [
            "%",
            "18.72.0_",
            "18.7",
            "187",
            "18.72.01.100",
            "1872.01",
            "18..72",
            "18.72.",
            "x",
        ] {
            assert_eq!(
                parse_code_prefix(bad),
                Err(KelurahanCodeError::Prefix(bad.into())),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_code_prefix("99"),
            Err(KelurahanCodeError::UnknownProvince(..))
        ));
        assert_eq!(parse_code_prefix(""), Err(KelurahanCodeError::Empty));
    }

    #[test]
    fn parses_dotted_and_undotted() {
        let a = KelurahanCode::parse("18.72.01.1001").unwrap();
        let b = KelurahanCode::parse("1872011001").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.kecamatan_code(), "18.72.01");
        assert!(a.has_prefix("18.72"));
        assert!(a.has_prefix("1872"));
        assert!(!a.has_prefix("18.71"));
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(matches!(
            KelurahanCode::parse("18.72.1.1001"),
            Err(KelurahanCodeError::Shape(_))
        ));
        assert!(matches!(
            KelurahanCode::parse("187201100"),
            Err(KelurahanCodeError::Shape(_))
        ));
        assert!(matches!(
            KelurahanCode::parse("99.72.01.1001"),
            Err(KelurahanCodeError::UnknownProvince(_, 99))
        ));
        assert_eq!(KelurahanCode::parse(""), Err(KelurahanCodeError::Empty));
    }

    #[test]
    fn time_zone_follows_province() {
        assert_eq!(
            KelurahanCode::parse("18.72.01.1001").unwrap().time_zone(),
            RegionTimeZone::Wib
        );
        assert_eq!(
            KelurahanCode::parse("51.71.01.1001").unwrap().time_zone(),
            RegionTimeZone::Wita
        );
        assert_eq!(
            KelurahanCode::parse("64.72.01.1001").unwrap().time_zone(),
            RegionTimeZone::Wita
        );
        assert_eq!(
            KelurahanCode::parse("91.71.01.1001").unwrap().time_zone(),
            RegionTimeZone::Wit
        );
        assert_eq!(
            KelurahanCode::parse("61.71.01.1001").unwrap().time_zone(),
            RegionTimeZone::Wib
        );
    }
}
