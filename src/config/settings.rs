//! The settings structure, with its defaults and semantic validation.

use std::collections::{BTreeSet, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::{NaiveDate, Weekday};
use serde::Deserialize;

use super::dashboard::DashboardSettings;
use super::delivery::{DeliverySettings, EmailSettings, SmsSettings};
use super::import::ImportSettings;
use super::payments::PaymentsSettings;
use crate::domain::{ContributionMonth, DueDateRules, StandingRules};
use crate::schedule::Schedules;
use crate::store::ConnectOptions;

/// Everything in `pengingat.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where the data lives.
    pub database: DatabaseSettings,
    /// When a contribution month falls due.
    pub due_date: DueDateSettings,
    /// When a participant counts as non-active.
    pub standing: StandingSettings,
    /// The daemon's HTTP server.
    pub http: HttpSettings,
    /// Log format and level.
    pub log: LogSettings,
    /// Where the operator-edited reminder schedules are.
    pub schedules: SchedulesSettings,
    /// SMS gateways.
    pub sms: SmsSettings,
    /// The SMTP relay for e-mail reminders.
    pub email: EmailSettings,
    /// The dispatcher.
    pub delivery: DeliverySettings,
    /// Payments coming in: the HTTP API, the inbox folder, attribution.
    pub payments: PaymentsSettings,
    /// Limits of the participants and payments imports.
    pub import: ImportSettings,
    /// Who may read the dashboard.
    pub dashboard: DashboardSettings,
    /// How long reminders and their history are kept.
    pub retention: RetentionSettings,
}

/// The shortest retention: a contribution month's outcome is known 30 days
/// after its due date, which falls in the month after it at the latest.
pub const MIN_RETENTION_MONTHS: u32 = 3;

/// `[retention]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Reminders of contribution months older than this many months are
    /// deleted, with their receipts and status history, after their report
    /// totals are kept; status history and receipts older than that go too.
    /// 0 keeps everything; otherwise 3 or more (a month's outcome is judged
    /// up to 30 days after its due date). Default 24.
    pub months: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self { months: 24 }
    }
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` (the embedded default) or
    /// `postgres://user@host:port/db`. Keep passwords out of the file: use
    /// `password_file`, `PGPASSWORD`, or `PENGINGAT__DATABASE__URL`.
    pub url: String,
    /// A file holding the PostgreSQL password (for example a systemd
    /// credential, `/run/credentials/pengingat.service/db_password`).
    pub password_file: Option<PathBuf>,
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// Seconds to wait for a connection, or for SQLite's write lock.
    pub timeout_secs: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://data/pengingat.db".to_string(),
            password_file: None,
            max_connections: 8,
            timeout_secs: 5,
        }
    }
}

impl DatabaseSettings {
    pub(crate) fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            max_connections: self.max_connections,
            timeout: std::time::Duration::from_secs(self.timeout_secs),
        }
    }
}

/// `[due_date]`: the BPU defaults (day 15 of the contribution month itself,
/// rolled to the next working day).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DueDateSettings {
    /// Day of the month contributions are due (1-31; past a short month's end means its last day).
    pub day: u32,
    /// 0 = due in the contribution month itself; 1 = in the following month.
    pub month_offset: i32,
    /// Weekdays on which nothing falls due (English names).
    pub non_working_weekdays: Vec<String>,
    /// National holidays (YYYY-MM-DD) on which nothing falls due.
    #[serde(deserialize_with = "holiday_dates")]
    pub holidays: Vec<NaiveDate>,
}

/// `due_date.holidays` as dates; a text that is not one is refused naming
/// the key and the value (chrono alone says only "input is out of range").
fn holiday_dates<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<NaiveDate>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    texts
        .iter()
        .map(|text| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|e| {
                serde::de::Error::custom(format!("due_date.holidays: {text:?} is not a date (YYYY-MM-DD): {e}"))
            })
        })
        .collect()
}

impl Default for DueDateSettings {
    fn default() -> Self {
        Self {
            day: 15,
            month_offset: 0,
            non_working_weekdays: vec!["saturday".into(), "sunday".into()],
            holidays: vec![],
        }
    }
}

impl DueDateSettings {
    /// The domain rules these settings describe (validated settings only).
    pub fn rules(&self) -> DueDateRules {
        DueDateRules {
            day: self.day,
            month_offset: self.month_offset,
            non_working_weekdays: self
                .non_working_weekdays
                .iter()
                .filter_map(|d| d.parse().ok())
                .collect(),
            holidays: self.holidays.iter().copied().collect::<BTreeSet<_>>(),
            kelurahan_holidays: Default::default(),
        }
    }
}

/// `[standing]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StandingSettings {
    /// Months in arrears at which a participant becomes non-active.
    pub nonactive_after_months: u32,
    /// How far ahead an imported paid-through month may be.
    pub max_paid_ahead_months: u32,
    /// The earliest paid-through month an import accepts.
    pub earliest_paid_through: ContributionMonth,
}

impl Default for StandingSettings {
    fn default() -> Self {
        Self {
            nonactive_after_months: 3,
            max_paid_ahead_months: 12,
            earliest_paid_through: crate::import::BPU_PROGRAMME_START,
        }
    }
}

impl StandingSettings {
    pub fn rules(&self) -> StandingRules {
        StandingRules {
            nonactive_after_months: self.nonactive_after_months,
        }
    }
}

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Address the daemon's HTTP server listens on.
    pub bind: String,
    /// Seconds a client may take to send a request's headers.
    pub header_read_timeout_secs: u64,
    /// Seconds a request may take, body and answer included.
    pub request_timeout_secs: u64,
    /// Connections served at once; more are answered 503.
    pub max_connections: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_string(),
            header_read_timeout_secs: 10,
            request_timeout_secs: 30,
            max_connections: 256,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` for people and journald, `json` for log shippers.
    pub format: LogFormat,
    /// A tracing filter (`info`, `pengingat=debug,sqlx=warn`); `RUST_LOG` wins.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_string(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// `[schedules]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulesSettings {
    /// The reminder schedules file operators edit (reloaded on SIGHUP).
    pub path: PathBuf,
}

impl Default for SchedulesSettings {
    fn default() -> Self {
        Self {
            path: PathBuf::from("config/schedules.toml"),
        }
    }
}

impl Settings {
    /// The due-date rules standing is computed with: `[due_date]` plus every
    /// kelurahan's own holidays from the schedules file (or the shipped
    /// schedules). When that file cannot be read, the national rules, with a
    /// warning: a report then cannot know a kelurahan's holidays.
    pub(crate) fn due_date_rules(&self) -> DueDateRules {
        let national = self.due_date.rules();
        match Schedules::load_or_shipped(&self.schedules.path) {
            Ok(schedules) => schedules.with_kelurahan_holidays(&national),
            Err(e) => {
                tracing::warn!(error = %e, "schedules not readable; kelurahan holidays not applied");
                national
            }
        }
    }

    /// Semantic checks serde cannot express; each problem as `(key, reason)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut bad = |key: &str, reason: String| out.push((key.to_string(), reason));
        let db = &self.database.url;
        let known_scheme = ["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|s| db.starts_with(s));
        if !known_scheme {
            bad(
                "database.url",
                format!("{db:?} must start with sqlite://, postgres:// or postgresql://"),
            );
        }
        if self.database.max_connections == 0 {
            bad("database.max_connections", "must be at least 1".into());
        }
        if !(1..=31).contains(&self.due_date.day) {
            bad("due_date.day", format!("must be 1 to 31, got {}", self.due_date.day));
        }
        if !(0..=2).contains(&self.due_date.month_offset) {
            bad(
                "due_date.month_offset",
                format!("must be 0, 1 or 2, got {}", self.due_date.month_offset),
            );
        }
        let mut days = HashSet::new();
        for name in &self.due_date.non_working_weekdays {
            match name.parse::<Weekday>() {
                Ok(d) => {
                    days.insert(d);
                }
                Err(_) => bad(
                    "due_date.non_working_weekdays",
                    format!("{name:?} is not a weekday name"),
                ),
            }
        }
        if days.len() == 7 {
            bad(
                "due_date.non_working_weekdays",
                "every weekday is non-working: nothing could ever fall due".into(),
            );
        }
        let threshold = self.standing.nonactive_after_months;
        if !(1..=24).contains(&threshold) {
            bad(
                "standing.nonactive_after_months",
                format!("must be 1 to 24, got {threshold}"),
            );
        }
        if !(1..=24).contains(&self.standing.max_paid_ahead_months) {
            bad(
                "standing.max_paid_ahead_months",
                format!("must be 1 to 24, got {}", self.standing.max_paid_ahead_months),
            );
        }
        for (key, secs) in [
            ("http.header_read_timeout_secs", self.http.header_read_timeout_secs),
            ("http.request_timeout_secs", self.http.request_timeout_secs),
        ] {
            if !(1..=3600).contains(&secs) {
                bad(key, format!("must be 1 to 3600, got {secs}"));
            }
        }
        if self.http.max_connections == 0 {
            bad("http.max_connections", "must be at least 1, got 0".into());
        }
        if self.http.bind.parse::<SocketAddr>().is_err() {
            bad(
                "http.bind",
                format!("{:?} is not an address like 127.0.0.1:8080", self.http.bind),
            );
        }
        let mut names = HashSet::new();
        for g in &self.sms.gateways {
            if !names.insert(g.name.as_str()) {
                bad("sms.gateway.name", format!("{:?} is used by two gateways", g.name));
            }
            if g.name.is_empty()
                || !g
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bad(
                    "sms.gateway.name",
                    format!("{:?} must be letters, digits, '-' or '_'", g.name),
                );
            }
            if url::Url::parse(&g.base_url).is_err() {
                bad("sms.gateway.base_url", format!("{:?} is not a URL", g.base_url));
            }
            if g.rate_limit_per_second.is_nan() || g.rate_limit_per_second <= 0.0 {
                bad(
                    "sms.gateway.rate_limit_per_second",
                    format!("must be positive for {}", g.name),
                );
            }
            if (g.preset == super::delivery::Preset::Webhook) != g.webhook.is_some() {
                bad(
                    "sms.gateway.webhook",
                    format!("{}: [sms.gateway.webhook] goes with preset = \"webhook\" only", g.name),
                );
            }
        }
        if !["starttls", "tls", "none"].contains(&self.email.tls.as_str()) {
            bad(
                "email.tls",
                format!("{:?} must be starttls, tls or none", self.email.tls),
            );
        }
        if url::Url::parse(&self.delivery.public_url).is_err() {
            bad(
                "delivery.public_url",
                format!("{:?} is not a URL", self.delivery.public_url),
            );
        }
        if self.delivery.batch_size == 0 || self.delivery.concurrency == 0 {
            bad(
                "delivery.batch_size",
                "batch_size and concurrency must be at least 1".into(),
            );
        }
        for (key, problem) in self.delivery.timing_problems() {
            bad(key, problem);
        }
        if !(1..=90).contains(&self.payments.attribution_days) {
            bad(
                "payments.attribution_days",
                format!("must be 1 to 90, got {}", self.payments.attribution_days),
            );
        }
        if !(1..=4096).contains(&self.payments.inbox_max_file_mb) {
            bad(
                "payments.inbox_max_file_mb",
                format!("must be 1 to 4096, got {}", self.payments.inbox_max_file_mb),
            );
        }
        if self.retention.months != 0 && self.retention.months < MIN_RETENTION_MONTHS {
            bad(
                "retention.months",
                format!(
                    "must be 0 (keep everything) or at least {MIN_RETENTION_MONTHS}, got {}",
                    self.retention.months
                ),
            );
        }
        if self.import.max_file_mb == 0 {
            bad("import.max_file_mb", "must be at least 1, got 0".into());
        }
        if !(1..=1_000_000).contains(&self.import.chunk_rows) {
            bad(
                "import.chunk_rows",
                format!("must be 1 to 1000000, got {}", self.import.chunk_rows),
            );
        }
        if self.payments.inbox_poll_secs == 0 {
            bad("payments.inbox_poll_secs", "must be at least 1".into());
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            bad(
                "log.level",
                format!("{:?} is not a log filter like info or pengingat=debug", self.log.level),
            );
        }
        out
    }
}
