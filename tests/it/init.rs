//! The defaults carried in the binary, as an operator without the
//! repository meets them: `init` writes the commented files out (and never
//! over a file), and without a schedules file the daemon's commands use the
//! built-in schedules and say so.

use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::*;

both_backends!(
    init_writes_files_that_check_config_accepts,
    without_a_schedules_file_a_scan_uses_the_built_in_ones_and_says_so,
    an_unreadable_schedules_file_is_named_once,
);

/// Runs the binary in `cwd` (a folder without `config/`) against `db`.
fn pengingat(cwd: &Path, db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pengingat"))
        .current_dir(cwd)
        .args(args)
        .env("PENGINGAT__DATABASE__URL", &db.url)
        .env_remove("PENGINGAT_CONFIG")
        .env("RUST_LOG", "info")
        .output()
        .expect("run pengingat")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn init_writes_files_that_check_config_accepts(db: &TestDb) {
    let cwd = tempfile::tempdir().unwrap();
    let etc = cwd.path().join("etc/pengingat");
    let out = pengingat(cwd.path(), db, &["init", etc.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for file in [
        "pengingat.toml",
        "schedules.toml",
        "templates/h-7.txt",
        "templates/h+7.html",
    ] {
        assert!(etc.join(file).is_file(), "{file} written");
    }
    assert_eq!(
        std::fs::read_to_string(etc.join("schedules.toml")).unwrap(),
        std::fs::read_to_string("config/schedules.toml").unwrap(),
        "the commented file as shipped"
    );

    // From another folder: the written pengingat.toml finds the schedules beside it.
    let elsewhere = tempfile::tempdir().unwrap();
    let config = etc.join("pengingat.toml");
    let out = pengingat(
        elsewhere.path(),
        db,
        &["--config", config.to_str().unwrap(), "check-config"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("configuration is valid"), "{stdout}");
    let schedules_line = format!("schedules:     {}", etc.join("schedules.toml").display());
    assert!(stdout.contains(&schedules_line), "{stdout}");
    assert!(stdout.contains("rules:         h-7,"), "{stdout}");

    // A second init writes nothing, names what is in the way, and keeps the edits.
    std::fs::write(etc.join("schedules.toml"), "# edited\n").unwrap();
    std::fs::remove_file(etc.join("templates/h0.txt")).unwrap();
    let out = pengingat(cwd.path(), db, &["init", etc.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "refused");
    assert!(stderr.contains("already exist; nothing was written"), "{stderr}");
    let config_path = config.display().to_string();
    assert_eq!(stderr.matches(&config_path).count(), 1, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(etc.join("schedules.toml")).unwrap(),
        "# edited\n"
    );
    assert!(
        !etc.join("templates/h0.txt").exists(),
        "nothing written, not even a missing file"
    );
}

async fn without_a_schedules_file_a_scan_uses_the_built_in_ones_and_says_so(db: &TestDb) {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (1..=3).map(|i| participant(i, "2025-06")).collect();
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &pengingat::store::NoProgress)
        .await
        .unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let out = pengingat(cwd.path(), db, &["--clock", "2025-07-08T02:05:00Z", "scan", "--once"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("scan: 3 created"), "{stdout}");
    assert_eq!(
        stderr
            .matches("no schedules file: using the built-in schedules")
            .count(),
        1,
        "one log line:\n{stderr}"
    );
    assert!(
        stderr.contains("config/schedules.toml"),
        "names the missing path:\n{stderr}"
    );

    let out = pengingat(cwd.path(), db, &["check-config"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("schedules:     built in (no file at config/schedules.toml"),
        "{stdout}"
    );
}

async fn an_unreadable_schedules_file_is_named_once(db: &TestDb) {
    let cwd = tempfile::tempdir().unwrap();
    // A folder where the file should be: there is something, but it cannot be read.
    std::fs::create_dir_all(cwd.path().join("config/schedules.toml")).unwrap();
    let out = pengingat(cwd.path(), db, &["scan", "--once"]);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "an unreadable file is not replaced by the built-in one"
    );
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("an error line:\n{stderr}"));
    assert!(
        error.starts_with("error: config/schedules.toml: cannot read: "),
        "{error}"
    );
    assert_eq!(error.matches("config/schedules.toml").count(), 1, "{error}");
    assert_eq!(error.matches("os error").count(), 1, "the cause once: {error}");
}
