//! Logging: human-readable lines for terminals and journald, or JSON for
//! log shippers. Personal data never reaches a log line unmasked: callers
//! log `Nik::masked()`, `PhoneNumber::masked()` and `EmailAddress::masked()`.

mod error_report;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

use crate::config::{LogFormat, LogSettings};

pub use error_report::error_report;

/// The crates whose log lines this project writes, and masks.
const OWN_TARGETS: [&str; 2] = ["pengingat", "mock_sms_gateway"];

/// Installs the global subscriber, writing to stderr so that command output
/// on stdout stays clean. `RUST_LOG` overrides the configured level. Under
/// systemd (`JOURNAL_STREAM` set) timestamps and colours are left to journald.
pub fn init(settings: &LogSettings) {
    let spec = std::env::var("RUST_LOG").unwrap_or_else(|_| settings.level.clone());
    let filter = EnvFilter::try_new(directives(&spec))
        .or_else(|_| EnvFilter::try_new(directives(&settings.level)))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match (settings.format, under_journald) {
        (LogFormat::Json, _) => builder.json().flatten_event(true).try_init(),
        (LogFormat::Text, true) => builder.with_ansi(false).without_time().try_init(),
        (LogFormat::Text, false) => builder.try_init(),
    };
    // A second init (tests that run several commands) keeps the first subscriber.
    let _ = result;
}

/// `spec` with a bare level (`debug`) applied to this project's crates only:
/// other crates stay at `info` or quieter unless `spec` names them
/// (`debug,lettre=debug`). At debug level lettre logs the SMTP AUTH
/// exchange (the base64 of user and password) and every recipient, and
/// HTTP clients log request bodies; none of that may reach a log by
/// turning the level up.
pub fn directives(spec: &str) -> String {
    let mut bare = None;
    let mut named = Vec::new();
    for directive in spec.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        match directive.parse::<LevelFilter>() {
            Ok(level) => bare = Some(level),
            Err(_) => named.push(directive.to_string()),
        }
    }
    let mut out = Vec::new();
    if let Some(level) = bare {
        out.push(level.min(LevelFilter::INFO).to_string().to_lowercase());
        out.extend(
            OWN_TARGETS
                .iter()
                .map(|target| format!("{target}={}", level.to_string().to_lowercase())),
        );
    }
    out.extend(named);
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::directives;

    #[test]
    fn a_bare_level_is_for_this_project_only() {
        assert_eq!(directives("debug"), "info,pengingat=debug,mock_sms_gateway=debug");
        assert_eq!(directives("TRACE"), "info,pengingat=trace,mock_sms_gateway=trace");
        assert_eq!(directives("warn"), "warn,pengingat=warn,mock_sms_gateway=warn");
        assert_eq!(
            directives("debug, lettre=debug"),
            "info,pengingat=debug,mock_sms_gateway=debug,lettre=debug"
        );
        assert_eq!(directives("pengingat=debug,sqlx=warn"), "pengingat=debug,sqlx=warn");
    }
}
