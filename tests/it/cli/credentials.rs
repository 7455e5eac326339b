//! `database.password_file = "db_password"` is read from systemd's
//! credentials directory, as every other secret file is.

use std::process::Command;

use crate::helpers::*;

both_backends!(database_password_file_is_read_from_the_credentials_directory);

async fn database_password_file_is_read_from_the_credentials_directory(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(credentials.join("db_password"), "rahasia-basis-data\n").unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let config = dir.path().join("pengingat.toml");
    std::fs::write(
        &config,
        format!("[database]\nurl = \"{}\"\npassword_file = \"db_password\"\n", db.url),
    )
    .unwrap();
    let run = |credentials_dir: Option<&std::path::Path>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pengingat"));
        command
            .arg("--config")
            .arg(&config)
            .arg("migrate")
            .current_dir(&elsewhere)
            .env("RUST_LOG", "warn");
        match credentials_dir {
            Some(d) => command.env("CREDENTIALS_DIRECTORY", d),
            None => command.env_remove("CREDENTIALS_DIRECTORY"),
        };
        command.output().unwrap()
    };
    let out = run(Some(&credentials));
    assert!(
        out.status.success(),
        "the password file is found in $CREDENTIALS_DIRECTORY: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is up to date"));
    // Without the directory the relative name is not found, and the error names it.
    let out = run(None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("db_password"), "{stderr}");
}
