//! Reading `pengingat.toml` and the environment, with errors that name the
//! file, line and key of each problem.

use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use thiserror::Error;

use super::Settings;

/// The file used when none is named and it exists.
pub(crate) const DEFAULT_PATH: &str = "config/pengingat.toml";

/// Where the settings came from, for `check-config` and the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// Read from this file (then the environment).
    File(PathBuf),
    /// No file: built-in defaults (then the environment).
    Defaults,
}

impl std::fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Defaults => f.write_str("built-in defaults"),
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The named file is missing or unreadable.
    #[error("{path}: cannot read the configuration file: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a value of the
    /// wrong type; `toml` knows the line.
    #[error("{path}, line {line}: {message}")]
    File { path: String, line: usize, message: String },
    /// A `PENGINGAT__…` environment variable has an unknown key or a bad value.
    #[error("environment ({vars}): {message}")]
    Env { vars: String, message: String },
    /// Values of the right type that make no sense together or alone.
    #[error("{}", .problems.iter().map(|(key, reason)| format!("{origin}: {key}: {reason}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        origin: String,
        problems: Vec<(String, String)>,
    },
    /// The database password file could not be read.
    #[error("{path}: cannot read the database password file: {source}")]
    PasswordFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Loads the settings from `path` (or [`DEFAULT_PATH`] when it exists, else
/// the defaults), then the environment, and validates them.
pub fn load(path: Option<&Path>) -> Result<(Settings, ConfigSource), ConfigError> {
    let source = match path {
        Some(p) => ConfigSource::File(p.to_path_buf()),
        None if Path::new(DEFAULT_PATH).exists() => ConfigSource::File(PathBuf::from(DEFAULT_PATH)),
        None => ConfigSource::Defaults,
    };
    let text = match &source {
        ConfigSource::File(p) => std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
            path: p.display().to_string(),
            source: e,
        })?,
        ConfigSource::Defaults => String::new(),
    };
    let mut settings = from_text_and_env(&text, &source.to_string(), env_source())?;
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(ConfigError::Invalid {
            origin: source.to_string(),
            problems,
        });
    }
    apply_password_file(&mut settings)?;
    Ok((settings, source))
}

/// The `PENGINGAT__SECTION__KEY` variables.
fn env_source() -> Environment {
    Environment::with_prefix("PENGINGAT")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .with_list_parse_key("due_date.holidays")
        .with_list_parse_key("due_date.non_working_weekdays")
}

/// Parses the file text alone first, so its errors carry a line number, then
/// layers the environment on top.
pub(crate) fn from_text_and_env(text: &str, path: &str, env: Environment) -> Result<Settings, ConfigError> {
    if let Err(e) = toml::from_str::<Settings>(text) {
        let line = e
            .span()
            .map_or(1, |span| text[..span.start.min(text.len())].lines().count().max(1));
        let line = match e.span() {
            Some(span) if text[..span.start.min(text.len())].ends_with('\n') => line + 1,
            _ => line,
        };
        return Err(ConfigError::File {
            path: path.to_string(),
            line,
            message: e.message().to_string(),
        });
    }
    Config::builder()
        .add_source(File::from_str(text, FileFormat::Toml))
        .add_source(env)
        .build()
        .and_then(Config::try_deserialize::<Settings>)
        .map_err(|e| ConfigError::Env {
            vars: pengingat_vars(),
            message: e.to_string(),
        })
}

/// The names of the `PENGINGAT__…` variables set, for error messages.
fn pengingat_vars() -> String {
    let mut names: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("PENGINGAT__"))
        .collect();
    names.sort();
    if names.is_empty() {
        "no PENGINGAT__ variables".to_string()
    } else {
        names.join(", ")
    }
}

/// Puts the password from `database.password_file` into a PostgreSQL URL.
fn apply_password_file(settings: &mut Settings) -> Result<(), ConfigError> {
    let Some(file) = settings.database.password_file.clone() else {
        return Ok(());
    };
    // Looked up as every other secret file is: a relative name in systemd's
    // `$CREDENTIALS_DIRECTORY` (`LoadCredential=db_password:…`).
    let password = match super::delivery::read_secret(None, Some(&file)) {
        Ok(password) => password.unwrap_or_default(),
        Err(super::delivery::SecretError::File { path, source }) => {
            return Err(ConfigError::PasswordFile { path, source });
        }
        Err(e) => {
            return Err(ConfigError::PasswordFile {
                path: file.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            });
        }
    };
    let password = password.as_str();
    if let Ok(mut url) = url::Url::parse(&settings.database.url)
        && url.set_password(Some(password)).is_ok()
    {
        settings.database.url = url.to_string();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        from_text_and_env(
            text,
            "test.toml",
            Environment::with_prefix("PENGINGAT_TEST_NONE").separator("__"),
        )
    }

    #[test]
    fn empty_file_gives_the_defaults() {
        let s = parse("").unwrap();
        assert_eq!(s.database.url, "sqlite://data/pengingat.db");
        assert_eq!(s.due_date.day, 15);
        assert!(s.problems().is_empty());
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let err = parse("[database]\nurl = \"sqlite://x.db\"\nulr = \"typo\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("test.toml, line 3:"), "{msg}");
        assert!(msg.contains("ulr"), "{msg}");
    }

    #[test]
    fn wrong_type_names_the_line() {
        let msg = parse("[due_date]\n\nday = \"fifteen\"\n").unwrap_err().to_string();
        assert!(msg.starts_with("test.toml, line 3:"), "{msg}");
    }

    #[test]
    fn invalid_values_name_their_keys() {
        let s =
            parse("[due_date]\nday = 40\nnon_working_weekdays = [\"caturday\"]\n[http]\nbind = \"nowhere\"\n").unwrap();
        let keys: Vec<String> = s.problems().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["due_date.day", "due_date.non_working_weekdays", "http.bind"]);
    }

    #[test]
    fn dispatcher_timing_must_fit_the_lease_and_the_unit() {
        let keys =
            |text: &str| -> Vec<String> { parse(text).unwrap().problems().into_iter().map(|(k, _)| k).collect() };
        assert!(keys("[delivery]\nlease_secs = 15\nheartbeat_secs = 3\nstop_deadline_secs = 25\n").is_empty());
        assert_eq!(
            keys("[delivery]\nlease_secs = 15\nheartbeat_secs = 8\nstop_deadline_secs = 26\n"),
            ["delivery.heartbeat_secs", "delivery.stop_deadline_secs"]
        );
        assert_eq!(keys("[delivery]\nheartbeat_secs = 0\n"), ["delivery.heartbeat_secs"]);
    }

    #[test]
    fn environment_overrides_the_file() {
        // SAFETY: this test alone uses this variable prefix.
        unsafe { std::env::set_var("PENGINGAT_T1__DATABASE__URL", "postgres://u@h/db") };
        unsafe { std::env::set_var("PENGINGAT_T1__DUE_DATE__HOLIDAYS", "2026-01-01,2026-05-01") };
        let env = Environment::with_prefix("PENGINGAT_T1")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("due_date.holidays");
        let s = from_text_and_env("[database]\nurl = \"sqlite://a.db\"\n", "t.toml", env).unwrap();
        assert_eq!(s.database.url, "postgres://u@h/db");
        assert_eq!(s.due_date.holidays.len(), 2);
    }

    #[test]
    fn unknown_environment_key_is_an_error() {
        // SAFETY: this test alone uses this variable prefix.
        unsafe { std::env::set_var("PENGINGAT_T2__DATABASE__ULR", "x") };
        let env = Environment::with_prefix("PENGINGAT_T2")
            .prefix_separator("__")
            .separator("__");
        let err = from_text_and_env("", "t.toml", env).unwrap_err();
        assert!(matches!(err, ConfigError::Env { .. }), "{err}");
        assert!(err.to_string().contains("ulr"), "{err}");
    }
}
