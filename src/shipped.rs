//! The shipped configuration files, carried in the binary: an installed
//! `pengingat` runs its demo and its daemon without a `config/` folder, and
//! `pengingat init` writes the same commented files out for editing.

use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// `pengingat.toml` as shipped.
pub const CONFIG: &str = include_str!("../config/pengingat.toml");

/// `schedules.toml` as shipped.
pub const SCHEDULES: &str = include_str!("../config/schedules.toml");

/// The template files the shipped schedules name, by their path relative to
/// the schedules file.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("templates/h-7.txt", include_str!("../config/templates/h-7.txt")),
    ("templates/h-1.txt", include_str!("../config/templates/h-1.txt")),
    ("templates/h0.txt", include_str!("../config/templates/h0.txt")),
    ("templates/h+7.txt", include_str!("../config/templates/h+7.txt")),
    ("templates/h+7.html", include_str!("../config/templates/h+7.html")),
    ("templates/h+30.txt", include_str!("../config/templates/h+30.txt")),
    (
        "templates/last-chance.txt",
        include_str!("../config/templates/last-chance.txt"),
    ),
    (
        "templates/nonaktif.txt",
        include_str!("../config/templates/nonaktif.txt"),
    ),
];

/// The shipped template file at `relative` (as written in `schedules.toml`).
pub fn template(relative: &str) -> Option<&'static str> {
    let relative = relative.strip_prefix("./").unwrap_or(relative);
    TEMPLATES
        .iter()
        .find(|(path, _)| *path == relative)
        .map(|(_, text)| *text)
}

/// The `schedules.path` line of the shipped `pengingat.toml`.
const SCHEDULES_PATH_LINE: &str = "path = \"config/schedules.toml\"";

/// Every shipped file with its path relative to the configuration folder.
pub fn files() -> impl Iterator<Item = (&'static str, &'static str)> {
    [("pengingat.toml", CONFIG), ("schedules.toml", SCHEDULES)]
        .into_iter()
        .chain(TEMPLATES.iter().copied())
}

/// The shipped `pengingat.toml` with `schedules.path` naming the
/// `schedules.toml` written beside it in `dir`.
pub fn config_in(dir: &Path) -> String {
    let path = dir.join("schedules.toml").display().to_string();
    let line = format!("path = {}", toml::Value::String(path));
    CONFIG.replacen(SCHEDULES_PATH_LINE, &line, 1)
}

/// Why `pengingat init` wrote nothing.
#[derive(Debug, Error)]
pub enum InitError {
    /// These files are already there; nothing was written.
    #[error("{} already exist{}; nothing was written (move {} away first)", list(.0), if .0.len() == 1 { "s" } else { "" }, if .0.len() == 1 { "it" } else { "them" })]
    Exists(Vec<PathBuf>),
    /// A folder or file could not be written.
    #[error("{path}: cannot write: {reason}", path = .path.display())]
    Write { path: PathBuf, reason: String },
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes every shipped file under `dir`, creating the folders. Refuses, and
/// writes nothing, when any of them already exists; returns the files written.
pub fn write_to(dir: &Path) -> Result<Vec<PathBuf>, InitError> {
    let existing: Vec<PathBuf> = files()
        .map(|(rel, _)| dir.join(rel))
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        return Err(InitError::Exists(existing));
    }
    let config = config_in(dir);
    let mut written = Vec::new();
    for (rel, text) in files() {
        let path = dir.join(rel);
        let text = if rel == "pengingat.toml" { config.as_str() } else { text };
        write_new(&path, text).map_err(|e| InitError::Write {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        written.push(path);
    }
    Ok(written)
}

/// Creates `path` (and its folder) with `text`; never replaces a file.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_config_templates_is_carried() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| format!("templates/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        on_disk.sort();
        let mut carried: Vec<String> = TEMPLATES.iter().map(|(p, _)| p.to_string()).collect();
        carried.sort();
        assert_eq!(carried, on_disk);
    }

    #[test]
    fn template_lookup_accepts_a_leading_dot_slash() {
        assert_eq!(template("./templates/h0.txt"), template("templates/h0.txt"));
        assert!(template("templates/h0.txt").is_some());
        assert!(template("templates/none.txt").is_none());
    }

    #[test]
    fn write_to_refuses_when_one_file_exists_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schedules.toml"), "mine").unwrap();
        let err = write_to(dir.path()).unwrap_err();
        assert!(matches!(&err, InitError::Exists(p) if p == &vec![dir.path().join("schedules.toml")]));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("schedules.toml")).unwrap(),
            "mine"
        );
        assert!(!dir.path().join("pengingat.toml").exists());
        assert!(!dir.path().join("templates").exists());
    }

    #[test]
    fn the_written_configuration_names_the_schedules_beside_it() {
        assert_eq!(CONFIG.matches(SCHEDULES_PATH_LINE).count(), 1);
        let config = config_in(Path::new("/etc/peng \"ingat\""));
        let table: toml::Table = toml::from_str(&config).unwrap();
        assert_eq!(
            table["schedules"]["path"].as_str(),
            Some("/etc/peng \"ingat\"/schedules.toml")
        );
        assert_eq!(config.lines().count(), CONFIG.lines().count());
    }

    #[test]
    fn write_to_writes_the_shipped_text() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_to(&dir.path().join("etc")).unwrap();
        assert_eq!(written.len(), 2 + TEMPLATES.len());
        let text = std::fs::read_to_string(dir.path().join("etc/templates/h+7.html")).unwrap();
        assert_eq!(text, include_str!("../config/templates/h+7.html"));
    }
}
