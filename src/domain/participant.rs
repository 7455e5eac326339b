//! A BPJS Ketenagakerjaan participant as imported: identity, contact,
//! kelurahan, segment, funding and contribution state.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{ContributionMonth, EmailAddress, KelurahanCode, Nik, PhoneNumber, Rupiah};

/// A field value that is not one of the accepted words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{value:?} is not a valid {what}; expected one of {expected}")]
pub struct ChoiceError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! choice_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, $expected:literal, { $($(#[$vmeta:meta])* $variant:ident = $canonical:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The stored and printed form.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $canonical),+ }
            }
        }

        impl FromStr for $name {
            type Err = ChoiceError;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                match raw.trim().to_ascii_lowercase().as_str() {
                    $($canonical $(| $alias)* => Ok(Self::$variant),)+
                    _ => Err(ChoiceError { what: $what, value: raw.trim().to_string(), expected: $expected }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

choice_enum!(
    /// The participation segment.
    Segment, "segment", "bpu, pu", {
        /// Bukan Penerima Upah: self-employed, informal workers. Reminders are for them.
        Bpu = "bpu",
        /// Penerima Upah: wage workers, whose employer pays.
        Pu = "pu",
    }
);

choice_enum!(
    /// Who pays the contribution.
    Funding, "funding", "self, collective, budget (or mandiri, kolektif, apbd)", {
        /// The worker pays (mandiri).
        SelfPaid = "self" | "mandiri",
        /// A community group or coordinator collects and pays (kolektif).
        Collective = "collective" | "kolektif",
        /// The city or regency budget pays (APBD).
        Budget = "budget" | "apbd" | "pemda",
    }
);

choice_enum!(
    /// How the participant prefers to be reminded.
    PreferredChannel, "preferred channel", "sms, email, both", {
        Sms = "sms",
        Email = "email",
        Both = "both" | "sms+email",
    }
);

/// Why a string is not a KPJ (BPJS membership number).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("KPJ {0:?} must be 8 to 13 digits")]
pub struct KpjError(pub String);

/// A KPJ (Kartu Peserta Jamsostek) membership number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Kpj(String);

impl Kpj {
    pub fn parse(raw: &str) -> Result<Self, KpjError> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if (8..=13).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(KpjError(raw.trim().to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a participant's name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("name is empty")]
    Empty,
    #[error("name is longer than 100 characters")]
    TooLong,
    #[error("name contains a control character")]
    Control,
}

/// A participant's name, trimmed, inner white space collapsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParticipantName(String);

impl ParticipantName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(NameError::Control);
        }
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > 100 {
            return Err(NameError::TooLong);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A participant as it comes in from an import or the seed generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParticipant {
    /// National identity number; the key participants are upserted by.
    pub nik: Nik,
    /// BPJS membership number, when known.
    pub kpj: Option<Kpj>,
    pub name: ParticipantName,
    /// Mobile number for SMS reminders.
    pub phone: Option<PhoneNumber>,
    /// Address for e-mail reminders.
    pub email: Option<EmailAddress>,
    /// The kelurahan whose list the participant is on.
    pub kelurahan: KelurahanCode,
    pub segment: Segment,
    pub funding: Funding,
    /// The participant's own monthly contribution (stored, never derived).
    pub monthly_amount: Rupiah,
    /// The first contribution month owed (the month of registration).
    pub start_month: ContributionMonth,
    /// The last month paid; the month before `start_month` if never paid.
    pub paid_through: ContributionMonth,
    pub preferred_channel: PreferredChannel,
    /// The participant asked not to be reminded.
    pub opted_out: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_accept_indonesian_aliases_in_any_case() {
        assert_eq!("BPU".parse::<Segment>().unwrap(), Segment::Bpu);
        assert_eq!(" Mandiri ".parse::<Funding>().unwrap(), Funding::SelfPaid);
        assert_eq!("APBD".parse::<Funding>().unwrap(), Funding::Budget);
        assert_eq!("Kolektif".parse::<Funding>().unwrap(), Funding::Collective);
        let err = "gaji".parse::<Segment>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"gaji\" is not a valid segment; expected one of bpu, pu"
        );
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(
            ParticipantName::parse("  Siti   Aminah ").unwrap().as_str(),
            "Siti Aminah"
        );
        assert_eq!(ParticipantName::parse("  "), Err(NameError::Empty));
        assert_eq!(ParticipantName::parse("a\u{0}b"), Err(NameError::Control));
    }

    #[test]
    fn kpj_is_digits() {
        assert_eq!(Kpj::parse("19012345678").unwrap().as_str(), "19012345678");
        assert!(Kpj::parse("KPJ123").is_err());
    }
}
