//! Reminder schedules: the operator-edited `schedules.toml` with its rules,
//! templates, quiet hours, send windows, per-kelurahan overrides and scan
//! cron expressions, plus SMS size accounting.
//!
//! Everything here is pure apart from reading the schedules file and its
//! template files: the scan and the dispatcher build on these types.
//!
//! - [`config`]: [`Schedules::load`] / [`Schedules::parse`], lookups per kelurahan.
//! - [`rules`]: [`Rule`], its filters, its day and the catch-up verdict.
//! - [`template`] and [`vars`]: `{variable}` templates and their values.
//! - [`window`]: quiet hours, send windows and [`place`].
//! - [`cron`]: 6-field cron expressions, seconds first.
//! - [`encoding`]: GSM-7 / UCS-2 and segment counts.
//! - [`mod@diff`]: what a reload changes.
//! - [`digest`]: when the weekly coordinator digest goes out, and its ISO week.
//! - [`holdout`]: `[holdout]`, who does not get the early reminders, for measuring their effect.

pub mod arrears;
mod build;
mod build_rules;
mod build_templates;
mod check;
pub mod config;
pub mod cron;
pub mod diff;
pub mod digest;
pub mod encoding;
pub mod error;
pub mod holdout;
pub mod overrides;
mod raw;
pub mod rules;
pub mod template;
pub(crate) mod template_syntax;
pub mod vars;
pub mod window;

#[cfg(test)]
mod tests;

pub use config::Schedules;
pub use cron::{CronExprError, CronSchedule, ScanSchedule, next_times};
pub use diff::{ScheduleDiff, diff};
pub use digest::{DigestSchedule, week_key};
pub use encoding::{SmsEncoding, SmsSize, measure, to_gsm7};
pub use error::{Problem, ProblemKind, ScheduleError};
pub use holdout::HoldoutSettings;
pub use overrides::{Coordinator, KelurahanOverride};
pub use rules::{Anchor, AnchorShift, ArrearsBound, Channel, Lateness, Rule, nonactive_date};
pub use template::{RenderedEmail, Template, TemplateOrigin, TemplateText};
pub use vars::{ReminderVars, Variable};
pub use window::{QuietHours, SendWindow, place, place_instant};
