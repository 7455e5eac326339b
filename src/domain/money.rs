//! Money in whole Rupiah. Contributions are whole Rupiah; floats never touch
//! an amount.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a string is not an amount of Rupiah.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    #[error("amount is empty")]
    Empty,
    #[error("amount {0:?} is not a whole number of Rupiah")]
    NotWhole(String),
    #[error("amount {0:?} is not a number")]
    NotNumber(String),
    #[error("amount must be positive, got {0}")]
    NotPositive(i64),
    #[error("amount {0:?} is too large")]
    TooLarge(String),
}

/// A positive amount in whole Rupiah.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rupiah(i64);

impl Rupiah {
    /// A positive amount.
    pub fn new(amount: i64) -> Result<Self, MoneyError> {
        if amount <= 0 {
            return Err(MoneyError::NotPositive(amount));
        }
        Ok(Self(amount))
    }

    /// Parses `16800`, `16.800`, `Rp16.800`, `Rp 16.800,00`, `-5000`.
    /// Dots are thousands separators (Indonesian style); a decimal comma
    /// is accepted only with zero sen.
    pub fn parse(raw: &str) -> Result<Self, MoneyError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        let body = s
            .strip_prefix("Rp")
            .or_else(|| s.strip_prefix("rp"))
            .or_else(|| s.strip_prefix("RP"))
            .unwrap_or(s);
        let body = body.trim().replace(' ', "");
        let (negative, body) = match body.strip_prefix('-') {
            Some(rest) => (true, rest.to_string()),
            None => (false, body),
        };
        let whole = match body.split_once(',') {
            Some((whole, sen)) if sen.chars().all(|c| c == '0') && !sen.is_empty() => whole.to_string(),
            Some(_) => return Err(MoneyError::NotWhole(s.to_string())),
            None => body,
        };
        let groups: Vec<&str> = whole.split('.').collect();
        if groups.len() > 1 {
            let grouped = !groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3);
            if !grouped {
                return Err(MoneyError::NotWhole(s.to_string()));
            }
        }
        let digits = groups.concat();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::NotNumber(s.to_string()));
        }
        let value: i64 = digits.parse().map_err(|_| MoneyError::TooLarge(s.to_string()))?;
        Self::new(if negative { -value } else { value })
    }

    /// An amount read back from the database, where a CHECK constraint keeps
    /// it positive; a broken row reads as Rp1 rather than failing a message.
    pub fn from_stored(amount: i64) -> Self {
        Self(amount.max(1))
    }

    pub fn amount(self) -> i64 {
        self.0
    }
}

/// Formats `Rp16.800`, the Indonesian way.
pub fn format_rupiah(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + 4);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if amount < 0 {
        format!("-Rp{out}")
    } else {
        format!("Rp{out}")
    }
}

impl fmt::Display for Rupiah {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_rupiah(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_indonesian_forms() {
        for raw in ["16800", "16.800", "Rp16.800", "Rp 16.800", "16.800,00", " 16800 "] {
            assert_eq!(Rupiah::parse(raw).unwrap().amount(), 16_800, "{raw}");
        }
        assert_eq!(Rupiah::parse("1.842.248.232").unwrap().amount(), 1_842_248_232);
    }

    #[test]
    fn rejects_with_reasons() {
        assert_eq!(Rupiah::parse(""), Err(MoneyError::Empty));
        assert_eq!(Rupiah::parse("0"), Err(MoneyError::NotPositive(0)));
        assert_eq!(Rupiah::parse("-16800"), Err(MoneyError::NotPositive(-16_800)));
        assert!(matches!(Rupiah::parse("16800,50"), Err(MoneyError::NotWhole(_))));
        assert!(matches!(Rupiah::parse("16.80"), Err(MoneyError::NotWhole(_))));
        assert!(matches!(Rupiah::parse("enam belas"), Err(MoneyError::NotNumber(_))));
    }

    #[test]
    fn formats_with_dots() {
        assert_eq!(Rupiah::new(16_800).unwrap().to_string(), "Rp16.800");
        assert_eq!(format_rupiah(1_842_248_232), "Rp1.842.248.232");
        assert_eq!(format_rupiah(500), "Rp500");
        assert_eq!(format_rupiah(0), "Rp0");
    }
}
