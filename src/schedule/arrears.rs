//! The bounds of a rule's months-in-arrears filter, as written in
//! schedules.toml: `3`, or `"nonactive"` (optionally `"nonactive-1"`,
//! `"nonactive+1"`) to follow `standing.nonactive_after_months`.

use std::fmt;
use std::str::FromStr;

use crate::domain::StandingRules;

/// A bound of a rule's months-in-arrears filter: a number of months, or a
/// number relative to the non-active threshold
/// (`standing.nonactive_after_months`, in pengingat.toml), so that a rule
/// about becoming non-active follows that setting when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArrearsBound {
    /// This many months (`3`).
    Months(u32),
    /// The threshold plus this many months (`"nonactive"`, `"nonactive-1"`).
    Nonactive(i32),
}

/// The range of the months after `"nonactive"` (`"nonactive-1"` … ).
pub const NONACTIVE_SHIFT_RANGE: std::ops::RangeInclusive<i32> = -120..=120;

impl ArrearsBound {
    /// The number of months under `standing`.
    pub fn months(self, standing: &StandingRules) -> u32 {
        match self {
            Self::Months(m) => m,
            Self::Nonactive(shift) => {
                u32::try_from((i64::from(standing.nonactive_months()) + i64::from(shift)).max(0)).unwrap_or(u32::MAX)
            }
        }
    }

    /// Whether `self` is known to exceed `other` whatever the threshold
    /// (both numbers, or both relative to the threshold).
    pub fn always_exceeds(self, other: Self) -> bool {
        match (self, other) {
            (Self::Months(a), Self::Months(b)) => a > b,
            (Self::Nonactive(a), Self::Nonactive(b)) => a > b,
            _ => false,
        }
    }
}

impl fmt::Display for ArrearsBound {
    /// As written in schedules.toml: `3`, `"nonactive"`, `"nonactive-1"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Months(m) => write!(f, "{m}"),
            Self::Nonactive(0) => f.write_str("\"nonactive\""),
            Self::Nonactive(shift) => write!(f, "\"nonactive{shift:+}\""),
        }
    }
}

impl FromStr for ArrearsBound {
    type Err = String;

    /// The word form: `nonactive`, optionally followed by `+N` or `-N`
    /// (spaces allowed). Plain numbers are TOML integers, not strings.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let wrong = || {
            format!(
                "{s:?} is not a number of months in arrears; expected a whole number, \"nonactive\" \
                 (standing.nonactive_after_months), or \"nonactive\" plus or minus a number such as \"nonactive-1\""
            )
        };
        let rest = compact.strip_prefix("nonactive").ok_or_else(wrong)?;
        let shift: i32 = if rest.is_empty() {
            0
        } else if rest.starts_with(['+', '-']) && rest.len() > 1 && rest[1..].bytes().all(|b| b.is_ascii_digit()) {
            rest.parse().map_err(|_| wrong())?
        } else {
            return Err(wrong());
        };
        if !NONACTIVE_SHIFT_RANGE.contains(&shift) {
            return Err(wrong());
        }
        Ok(Self::Nonactive(shift))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrears_bounds_read_and_print_as_written() {
        for (text, bound) in [
            ("nonactive", ArrearsBound::Nonactive(0)),
            ("nonactive-1", ArrearsBound::Nonactive(-1)),
            (" nonactive + 2 ", ArrearsBound::Nonactive(2)),
        ] {
            assert_eq!(text.parse::<ArrearsBound>(), Ok(bound), "{text}");
        }
        for bad in [
            "",
            "3",
            "nonaktif",
            "nonactive-",
            "nonactive*2",
            "nonactive-1.5",
            "nonactive-121",
        ] {
            assert!(bad.parse::<ArrearsBound>().is_err(), "{bad}");
        }
        assert_eq!(ArrearsBound::Months(3).to_string(), "3");
        assert_eq!(ArrearsBound::Nonactive(0).to_string(), "\"nonactive\"");
        assert_eq!(ArrearsBound::Nonactive(-1).to_string(), "\"nonactive-1\"");
        assert_eq!(ArrearsBound::Nonactive(1).to_string(), "\"nonactive+1\"");
        assert_eq!(ArrearsBound::Nonactive(-9).months(&StandingRules::default()), 0);
        assert!(ArrearsBound::Months(3).always_exceeds(ArrearsBound::Months(2)));
        assert!(!ArrearsBound::Months(3).always_exceeds(ArrearsBound::Nonactive(-1)));
    }
}
