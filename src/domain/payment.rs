//! Payments of contributions: who paid, how much, for how many months.

use std::fmt;

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::participant::Kpj;
use super::{Nik, Rupiah};

/// Why a payment cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PaymentError {
    #[error("external reference is empty")]
    EmptyReference,
    #[error("external reference is longer than 128 characters")]
    LongReference,
    #[error("external reference contains a control character")]
    ControlInReference,
    #[error("amount {amount} is not a whole number of monthly contributions of {monthly}; give the months")]
    NotWholeMonths { amount: Rupiah, monthly: Rupiah },
    #[error("months covered must be between 1 and {max}, got {got}")]
    Months { got: u32, max: u32 },
    #[error("payment channel {0:?} must be 1 to 32 letters, digits, '-' or '_'")]
    Channel(String),
    #[error("paid_at {paid_at} lies in the future")]
    InFuture { paid_at: DateTime<Utc> },
}

/// The paying system's unique reference for a payment; payments are
/// idempotent by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalRef(String);

impl ExternalRef {
    pub fn parse(raw: &str) -> Result<Self, PaymentError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(PaymentError::EmptyReference);
        }
        if s.chars().count() > 128 {
            return Err(PaymentError::LongReference);
        }
        if s.chars().any(char::is_control) {
            return Err(PaymentError::ControlInReference);
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the money came in: `jmo`, `gopay`, `dana`, `bank`, `kolektif`, …
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaymentChannel(String);

impl PaymentChannel {
    pub fn parse(raw: &str) -> Result<Self, PaymentError> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = (1..=32).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(s))
        } else {
            Err(PaymentError::Channel(raw.trim().to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who a payment is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Payer {
    Nik(Nik),
    Kpj(Kpj),
}

impl fmt::Display for Payer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nik(nik) => write!(f, "NIK {}", nik.masked()),
            Self::Kpj(kpj) => write!(f, "KPJ {}", kpj.as_str()),
        }
    }
}

/// A payment as it comes in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub external_ref: ExternalRef,
    pub payer: Payer,
    pub amount: Rupiah,
    /// Months covered when the paying system says so; otherwise derived
    /// from the amount and the participant's monthly contribution.
    pub months: Option<u32>,
    pub paid_at: DateTime<Utc>,
    pub channel: PaymentChannel,
}

/// BPU may pay 1, 3, 6 or 12 months ahead; more than 12 in one
/// payment is refused as a likely data error.
pub const MAX_MONTHS_PER_PAYMENT: u32 = 12;

/// How many months `amount` pays for a participant whose monthly
/// contribution is `monthly`, or the months given explicitly.
pub fn months_covered(amount: Rupiah, monthly: Rupiah, months: Option<u32>) -> Result<u32, PaymentError> {
    let months = match months {
        Some(m) => m,
        None => {
            if amount.amount() % monthly.amount() != 0 {
                return Err(PaymentError::NotWholeMonths { amount, monthly });
            }
            u32::try_from(amount.amount() / monthly.amount()).unwrap_or(u32::MAX)
        }
    };
    if !(1..=MAX_MONTHS_PER_PAYMENT).contains(&months) {
        return Err(PaymentError::Months {
            got: months,
            max: MAX_MONTHS_PER_PAYMENT,
        });
    }
    Ok(months)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(n: i64) -> Rupiah {
        Rupiah::new(n).unwrap()
    }

    #[test]
    fn months_from_whole_amounts() {
        assert_eq!(months_covered(rp(16_800), rp(16_800), None), Ok(1));
        assert_eq!(months_covered(rp(50_400), rp(16_800), None), Ok(3));
        assert_eq!(months_covered(rp(201_600), rp(16_800), None), Ok(12));
        assert_eq!(months_covered(rp(20_000), rp(16_800), Some(1)), Ok(1));
    }

    #[test]
    fn refuses_partial_or_excessive_months() {
        assert!(matches!(
            months_covered(rp(20_000), rp(16_800), None),
            Err(PaymentError::NotWholeMonths { .. })
        ));
        assert_eq!(
            months_covered(rp(218_400), rp(16_800), None),
            Err(PaymentError::Months { got: 13, max: 12 })
        );
        assert_eq!(
            months_covered(rp(16_800), rp(16_800), Some(0)),
            Err(PaymentError::Months { got: 0, max: 12 })
        );
    }

    #[test]
    fn references_and_channels() {
        assert_eq!(ExternalRef::parse(" TRX-1 ").unwrap().as_str(), "TRX-1");
        assert_eq!(ExternalRef::parse(""), Err(PaymentError::EmptyReference));
        assert_eq!(PaymentChannel::parse("GoPay").unwrap().as_str(), "gopay");
        assert!(PaymentChannel::parse("go pay").is_err());
    }
}
