//! Reminder schedules: rules, templates, send windows and SMS size
//! accounting for the operator-edited `schedules.toml`.

pub mod cron;
pub mod encoding;
pub mod rules;
pub mod template;
pub mod vars;
pub mod window;

pub use cron::{CronExprError, CronSchedule, ScanSchedule, next_times};
pub use encoding::{SmsEncoding, SmsSize, measure, to_gsm7};
pub use rules::{Anchor, AnchorShift, Channel, Lateness, Rule, nonactive_date};
pub use template::{RenderedEmail, Template, TemplateOrigin, TemplateText};
pub use vars::{ReminderVars, Variable};
pub use window::{QuietHours, SendWindow, place, place_instant};
