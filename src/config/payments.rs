//! `[payments]`: how payments come in (HTTP API, watched inbox folder) and
//! how long a reminder is credited with a payment.

use std::path::PathBuf;

use serde::Deserialize;

use super::delivery::{SecretError, read_secret};

/// `[payments]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsSettings {
    /// A payment is credited to the latest reminder sent to its participant
    /// within this many days before it (the reminder "converted"). Default 14.
    pub attribution_days: u32,
    /// Environment variable holding the bearer token of `POST /api/v1/payments`.
    pub token_env: Option<String>,
    /// File holding that token (a relative name is looked up in
    /// `$CREDENTIALS_DIRECTORY`, for systemd's `LoadCredential=`).
    pub token_file: Option<PathBuf>,
    /// A folder another system drops payment files (CSV or JSON) into; each
    /// is imported once, then moved to `done/` or `rejected/` beside it.
    pub inbox_dir: Option<PathBuf>,
    /// Seconds between two looks into the inbox. Default 10.
    pub inbox_poll_secs: u64,
    /// An inbox file over this many MiB is moved to `rejected/` unread
    /// (1 to 4096). Default 16. A file under it is read as a stream, in
    /// bounded memory.
    pub inbox_max_file_mb: u64,
}

impl Default for PaymentsSettings {
    fn default() -> Self {
        Self {
            attribution_days: 14,
            token_env: None,
            token_file: None,
            inbox_dir: None,
            inbox_poll_secs: 10,
            inbox_max_file_mb: 16,
        }
    }
}

impl PaymentsSettings {
    /// The attribution window in seconds.
    pub fn attribution_secs(&self) -> i64 {
        i64::from(self.attribution_days) * 86_400
    }

    /// The largest inbox file read, in bytes.
    pub(crate) fn inbox_max_file_bytes(&self) -> u64 {
        self.inbox_max_file_mb.saturating_mul(1024 * 1024)
    }

    /// The API token, when one is configured.
    pub fn token(&self) -> Result<Option<String>, SecretError> {
        read_secret(self.token_env.as_deref(), self.token_file.as_deref())
    }
}
