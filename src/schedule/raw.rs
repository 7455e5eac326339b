//! The TOML shape of `schedules.toml`, as written, before validation.
//!
//! Every table denies unknown keys, so a misspelt key is an error with its
//! line rather than a silently ignored setting. Values whose problems must
//! be reported with a line are `Spanned`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedules {
    /// `[scan]`.
    #[serde(default)]
    pub scan: Option<RawScan>,
    /// `[quiet_hours]`.
    #[serde(default)]
    pub quiet_hours: Option<Spanned<RawRange>>,
    /// `[send_window]`, the default window.
    #[serde(default)]
    pub send_window: Option<Spanned<RawRange>>,
    /// `[[rule]]`, in file order.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Spanned<RawRule>>,
    /// `[template.NAME]`.
    #[serde(default, rename = "template")]
    pub templates: BTreeMap<Spanned<String>, Spanned<RawTemplate>>,
    /// `[kelurahan."CODE"]`.
    #[serde(default)]
    pub kelurahan: BTreeMap<Spanned<String>, Spanned<RawKelurahan>>,
    /// `[digest]`, the weekly coordinator digest (none without it).
    #[serde(default)]
    pub digest: Option<RawDigest>,
    /// `[holdout]`, the group not reminded (off without it).
    #[serde(default)]
    pub holdout: Option<Spanned<RawHoldout>>,
}

/// `[holdout]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHoldout {
    /// Share of each kelurahan's BPU participants held out, 0 to 0.2.
    #[serde(default)]
    pub fraction: Option<Spanned<f64>>,
    /// Mixed into each NIK's hash.
    #[serde(default)]
    pub salt: Option<Spanned<String>>,
    /// The rules held out.
    #[serde(default)]
    pub rules: Option<Spanned<Vec<Spanned<String>>>>,
    /// Widest 95% interval, in percentage points, the effect report shows a figure for.
    #[serde(default)]
    pub max_interval_pp: Option<Spanned<f64>>,
}

/// `[scan]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScan {
    /// Cron expressions.
    #[serde(default)]
    pub cron: Option<Spanned<Vec<Spanned<String>>>>,
    /// IANA time zone the expressions are read in.
    #[serde(default)]
    pub time_zone: Option<Spanned<String>>,
}

/// `start`/`end` of quiet hours or a send window.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRange {
    /// `HH:MM`.
    pub start: Spanned<String>,
    /// `HH:MM`.
    pub end: Spanned<String>,
}

/// `[[rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    /// Stable identity.
    pub name: Spanned<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `"due_date"` (default) or `"nonactive"`.
    #[serde(default)]
    pub anchor: Option<Spanned<String>>,
    /// Days from the anchor.
    pub offset_days: Spanned<i64>,
    /// `"sms"`, `"email"`.
    pub channels: Spanned<Vec<Spanned<String>>>,
    /// A `[template.NAME]`.
    pub template: Spanned<String>,
    /// Local `HH:MM`, default 09:00.
    #[serde(default)]
    pub send_time: Option<Spanned<String>>,
    /// Funding filter.
    #[serde(default)]
    pub funding: Option<Spanned<Vec<Spanned<String>>>>,
    /// Kelurahan code prefix filter.
    #[serde(default)]
    pub kelurahan: Option<Spanned<Vec<Spanned<String>>>>,
    /// Arrears filter, inclusive.
    #[serde(default)]
    pub min_months_in_arrears: Option<Spanned<RawArrears>>,
    /// Arrears filter, inclusive.
    #[serde(default)]
    pub max_months_in_arrears: Option<Spanned<RawArrears>>,
    /// Catch-up limit in days.
    #[serde(default)]
    pub max_late_days: Option<Spanned<i64>>,
    /// Expiry for the dispatcher, in hours.
    #[serde(default)]
    pub expire_after_hours: Option<Spanned<i64>>,
}

/// `[template.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplate {
    /// Inline body.
    #[serde(default)]
    pub text: Option<Spanned<String>>,
    /// Body file, relative to the schedules file's directory.
    #[serde(default)]
    pub file: Option<Spanned<String>>,
    /// Email subject.
    #[serde(default)]
    pub subject: Option<Spanned<String>>,
    /// Inline HTML part.
    #[serde(default)]
    pub html: Option<Spanned<String>>,
    /// HTML part file.
    #[serde(default)]
    pub html_file: Option<Spanned<String>>,
    /// Accept a UCS-2 SMS.
    #[serde(default)]
    pub allow_ucs2: Option<bool>,
}

/// `[kelurahan."CODE"]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKelurahan {
    /// Own send window.
    #[serde(default)]
    pub send_window: Option<Spanned<RawRange>>,
    /// Dates, as TOML dates or `"YYYY-MM-DD"` strings.
    #[serde(default)]
    pub holidays: Option<Vec<Spanned<toml::Value>>>,
    /// Collective-payment coordinators.
    #[serde(default)]
    pub coordinators: Option<Vec<Spanned<RawCoordinator>>>,
    /// No reminders for this kelurahan.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// One coordinator of a kelurahan.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCoordinator {
    /// Name.
    pub name: Spanned<String>,
    /// Digest address.
    pub email: Spanned<String>,
    /// Optional phone number.
    #[serde(default)]
    pub phone: Option<Spanned<String>>,
}

/// `[digest]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDigest {
    /// Cron expressions (required: the table exists to send digests).
    pub cron: Spanned<Vec<Spanned<String>>>,
    /// IANA time zone the expressions and ISO weeks are read in.
    #[serde(default)]
    pub time_zone: Option<Spanned<String>>,
}

/// A months-in-arrears bound as written: a whole number, or a word such as
/// `"nonactive"` (read by `ArrearsBound`'s `FromStr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RawArrears {
    Months(i64),
    Word(String),
}

impl<'de> Deserialize<'de> for RawArrears {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Expect;
        impl serde::de::Visitor<'_> for Expect {
            type Value = RawArrears;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number of months, or \"nonactive\" (also \"nonactive-1\", \"nonactive+1\")")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawArrears, E> {
                Ok(RawArrears::Months(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawArrears, E> {
                i64::try_from(v)
                    .map(RawArrears::Months)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawArrears, E> {
                Ok(RawArrears::Word(v.to_string()))
            }
        }
        deserializer.deserialize_any(Expect)
    }
}
