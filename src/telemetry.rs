//! Logging: human-readable lines for terminals and journald, or JSON for
//! log shippers. Personal data never reaches a log line unmasked: callers
//! log `Nik::masked()`, `PhoneNumber::masked()` and `EmailAddress::masked()`.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber, writing to stderr so that command output
/// on stdout stays clean. `RUST_LOG` overrides the configured level. Under
/// systemd (`JOURNAL_STREAM` set) timestamps and colours are left to journald.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.level))
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
