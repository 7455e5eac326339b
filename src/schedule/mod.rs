//! Reminder schedules: rules, templates, send windows and SMS size
//! accounting for the operator-edited `schedules.toml`.

pub mod encoding;

pub use encoding::{SmsEncoding, SmsSize, measure, to_gsm7};
