//! The daemon's static configuration, `pengingat.toml`: database, due-date
//! rules, standing thresholds, HTTP bind address and logging. Changing it
//! needs a restart; the reloadable reminder schedules live in their own file.
//!
//! Sources, later ones winning: built-in defaults, the TOML file, then
//! environment variables `PENGINGAT__SECTION__KEY` (for example
//! `PENGINGAT__DATABASE__URL`). Unknown keys are errors everywhere: a typo
//! must not silently change behaviour.

pub mod dashboard;
/// `[sms]`, `[email]` and `[delivery]`: the channels own their settings
/// types; the configuration reads them from the file.
pub use crate::channels::settings as delivery;
pub mod import;
mod load;
pub mod payments;
mod settings;

pub use load::{ConfigError, ConfigSource, load};
pub use settings::{
    DatabaseSettings, DueDateSettings, HttpSettings, LogFormat, LogSettings, SchedulesSettings, Settings,
    StandingSettings,
};
