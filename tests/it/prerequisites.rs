//! What the integration tests need from outside the repository, checked once
//! before the first test that uses any of it: a PostgreSQL server, a Python
//! with aiosmtpd for the SMTP sink, Chromium, `systemd-analyze` and
//! `sqlite3`. When something is missing, the run stops at once with one
//! message that names each missing piece and how to provide it, instead of
//! every test that needs it failing on its own. A missing prerequisite is a
//! failed run, never a skipped test.
//!
//! `scripts/test` installs and starts all of it on Debian 12.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::helpers::postgres_admin_url;

/// Names another Python (one that can `import aiosmtpd`) for the SMTP sink.
pub const SMTP_PYTHON_VAR: &str = "PENGINGAT_TEST_SMTP_PYTHON";

/// Names another Chromium executable.
pub const CHROMIUM_VAR: &str = "CHROMIUM";

/// Where Debian installs Chromium.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The longest the PostgreSQL check waits for a connection.
const CONNECT_PATIENCE: Duration = Duration::from_secs(10);

/// Checks every prerequisite the first time it is called; when one is
/// missing, writes the list to stderr and ends the test run with status 1.
pub fn require() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let missing = missing();
        if missing.is_empty() {
            return;
        }
        // Straight to stderr: libtest captures `eprintln!` of a passing test,
        // and this test never gets to pass or fail.
        let _ = std::io::stderr().write_all(report(&missing).as_bytes());
        std::process::exit(1);
    });
}

/// The Python that runs tests/support/smtp_sink.py: the one named by
/// [`SMTP_PYTHON_VAR`], else the virtual environment `scripts/test` makes in
/// the target directory, else `python3` from `PATH`.
pub fn smtp_python() -> PathBuf {
    if let Some(path) = std::env::var_os(SMTP_PYTHON_VAR) {
        return PathBuf::from(path);
    }
    let venv = target_dir().join("test-env/bin/python3");
    if venv.is_file() { venv } else { PathBuf::from("python3") }
}

/// The Chromium the browser tests drive: [`CHROMIUM_VAR`], else
/// [`DEFAULT_CHROMIUM`].
pub fn chromium() -> PathBuf {
    std::env::var_os(CHROMIUM_VAR).map_or_else(|| PathBuf::from(DEFAULT_CHROMIUM), PathBuf::from)
}

/// The cargo target directory this test binary was built in (it lives in
/// `<target>/debug/deps/`), else `target/` of the package.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    exe.as_deref()
        .and_then(|e| e.ancestors().nth(3))
        .filter(|t| t.join("debug").is_dir())
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
            Path::to_path_buf,
        )
}

/// One prerequisite that is not there.
#[derive(Debug)]
pub struct Missing {
    /// What it is, as the reader knows it.
    pub what: String,
    /// What went wrong when looking for it.
    pub why: String,
    /// How to provide it.
    pub fix: String,
}

/// Every missing prerequisite, in a fixed order.
pub fn missing() -> Vec<Missing> {
    let mut missing = Vec::new();
    if let Err(why) = postgres_answers(&postgres_admin_url()) {
        missing.push(Missing {
            what: format!("PostgreSQL at {}", mask_password(&postgres_admin_url())),
            why,
            fix: "start a server there on which that role may create databases, or name \
                  another with PENGINGAT_TEST_DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/postgres"
                .into(),
        });
    }
    let python = smtp_python();
    if let Err(why) = python_has_aiosmtpd(&python) {
        missing.push(Missing {
            what: format!("the SMTP sink's Python with aiosmtpd ({})", python.display()),
            why,
            fix: format!(
                "run scripts/test once (it makes {}), or name a Python that can \
                 `import aiosmtpd` with {SMTP_PYTHON_VAR}=/path/to/python3",
                target_dir().join("test-env").display()
            ),
        });
    }
    let chromium = chromium();
    if !chromium.is_file() {
        missing.push(Missing {
            what: format!("Chromium at {}", chromium.display()),
            why: "no such file".into(),
            fix: format!("apt-get install -y chromium, or name another with {CHROMIUM_VAR}=/path/to/chromium"),
        });
    }
    for (program, package) in [("systemd-analyze", "systemd"), ("sqlite3", "sqlite3")] {
        if let Err(why) = runs(Command::new(program).arg("--version")) {
            missing.push(Missing {
                what: format!("`{program}`"),
                why,
                fix: format!("apt-get install -y {package}"),
            });
        }
    }
    missing
}

/// The message that ends a run with `missing` prerequisites.
pub fn report(missing: &[Missing]) -> String {
    let mut text = format!(
        "\nThe integration tests cannot run: {} prerequisite(s) missing.\n",
        missing.len()
    );
    for m in missing {
        text.push_str(&format!("  - {}: {}.\n    Provide it: {}.\n", m.what, m.why, m.fix));
    }
    text.push_str("scripts/test installs and starts all of them on Debian 12 (as root), then runs the tests.\n\n");
    text
}

/// Connects once to `url`, on a thread of its own (the caller may be inside
/// a runtime).
fn postgres_answers(url: &str) -> Result<(), String> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("no runtime for the check: {e}"))?;
        runtime.block_on(async {
            use sqlx::Connection;
            match tokio::time::timeout(CONNECT_PATIENCE, sqlx::PgConnection::connect(&url)).await {
                Ok(Ok(connection)) => {
                    let _ = connection.close().await;
                    Ok(())
                }
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {CONNECT_PATIENCE:?}")),
            }
        })
    })
    .join()
    .unwrap_or_else(|_| Err("the check itself failed".into()))
}

fn python_has_aiosmtpd(python: &Path) -> Result<(), String> {
    runs(Command::new(python).args(["-c", "import aiosmtpd"])).map_err(|e| {
        if e.starts_with("cannot start") {
            e
        } else {
            "it cannot import aiosmtpd".into()
        }
    })
}

/// Runs `command` quietly; Ok when it exits 0.
fn runs(command: &mut Command) -> Result<(), String> {
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot start it: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("it exited with {status}"))
    }
}

/// `url` with any password replaced by `***`.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[test]
fn the_report_names_each_missing_prerequisite_and_how_to_provide_it() {
    let text = report(&[
        Missing {
            what: "PostgreSQL at postgres://postgres:***@127.0.0.1:5432/postgres".into(),
            why: "connection refused".into(),
            fix: "PENGINGAT_TEST_DATABASE_URL".into(),
        },
        Missing {
            what: "Chromium at /nowhere".into(),
            why: "no such file".into(),
            fix: "CHROMIUM".into(),
        },
    ]);
    assert!(text.contains("2 prerequisite(s) missing"), "{text}");
    assert!(text.contains("- PostgreSQL at postgres://postgres:***@127.0.0.1:5432/postgres: connection refused."));
    assert!(
        text.contains("- Chromium at /nowhere: no such file.\n    Provide it: CHROMIUM."),
        "{text}"
    );
}

#[test]
fn a_database_password_is_masked() {
    assert_eq!(
        mask_password("postgres://postgres:rahasia@127.0.0.1:5432/postgres"),
        "postgres://postgres:***@127.0.0.1:5432/postgres"
    );
    assert_eq!(
        mask_password("postgres://app@db/postgres"),
        "postgres://app@db/postgres"
    );
}

#[test]
fn an_unreachable_server_and_a_missing_program_are_named() {
    let refused = postgres_answers("postgres://postgres:postgres@127.0.0.1:1/postgres");
    assert!(refused.is_err(), "{refused:?}");
    let absent = python_has_aiosmtpd(Path::new("/nonexistent/python3"));
    assert!(absent.is_err_and(|e| e.starts_with("cannot start it")));
}
