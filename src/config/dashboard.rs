//! `[dashboard]`: who may read the dashboard.

use std::path::PathBuf;

use serde::Deserialize;

use super::delivery::{SecretError, read_secret};

/// `[dashboard]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardSettings {
    /// Environment variable holding the dashboard's token. It is required
    /// (as `Authorization: Bearer`, or as the password of basic auth) when
    /// `http.bind` is not a loopback address; on loopback the page is open.
    pub token_env: Option<String>,
    /// File holding that token (relative names in `$CREDENTIALS_DIRECTORY`).
    pub token_file: Option<PathBuf>,
}

impl DashboardSettings {
    /// The dashboard token, when one is configured.
    pub fn token(&self) -> Result<Option<String>, SecretError> {
        read_secret(self.token_env.as_deref(), self.token_file.as_deref())
    }
}
