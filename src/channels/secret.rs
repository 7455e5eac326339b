//! Secrets (gateway passwords, API keys, receipt tokens, the SMTP password,
//! API tokens) read from an environment variable or a file, never from the
//! configuration file itself.

use std::path::Path;

use thiserror::Error;

/// A secret that could not be read.
#[derive(Debug, Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    #[error("cannot read secret file {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Reads a secret from an environment variable or a file (a relative file
/// name is looked up in `$CREDENTIALS_DIRECTORY` first); `Ok(None)` when
/// neither is configured. Trailing newlines are dropped.
pub fn read_secret(env: Option<&str>, file: Option<&Path>) -> Result<Option<String>, SecretError> {
    if let Some(name) = env {
        return std::env::var(name)
            .map(Some)
            .map_err(|_| SecretError::MissingEnv(name.to_string()));
    }
    let Some(file) = file else { return Ok(None) };
    let path = match std::env::var_os("CREDENTIALS_DIRECTORY") {
        Some(dir) if file.is_relative() => Path::new(&dir).join(file),
        _ => file.to_path_buf(),
    };
    std::fs::read_to_string(&path)
        .map(|s| Some(s.trim_end_matches(['\n', '\r']).to_string()))
        .map_err(|e| SecretError::File {
            path: path.display().to_string(),
            source: e,
        })
}
