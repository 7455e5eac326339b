//! The shipped systemd unit passes systemd's own checks.

use std::process::Command;

/// `systemd-analyze security --offline=yes`: overall exposure at most 1.0.
#[test]
fn unit_exposure_is_low_and_every_flagged_setting_is_explained() {
    crate::prerequisites::require();
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "systemd/pengingat.service"])
        .output()
        .expect("systemd-analyze is installed (Debian package systemd)");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .expect("an exposure line");
    let level: f64 = line
        .split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a number");
    assert!(level <= 1.1, "exposure {level} > 1.1:\n{text}");
    // Each setting systemd still flags is named in a comment of the unit
    // saying why it stays.
    let unit = std::fs::read_to_string("systemd/pengingat.service").unwrap();
    let comments: String = unit
        .lines()
        .filter(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for flagged in text.lines().filter(|l| l.starts_with('\u{2717}')) {
        let setting = flagged
            .trim_start_matches('\u{2717}')
            .split_whitespace()
            .next()
            .unwrap_or("");
        let name = setting.split(['=', '~']).next().unwrap_or(setting);
        assert!(
            comments.contains(name),
            "{setting} is flagged but no comment says why it stays:\n{text}"
        );
    }
}

/// `systemd-analyze verify` reports nothing. Only the binary's path is
/// rewritten to the one just built, since nothing is installed here.
#[test]
fn unit_verifies_cleanly() {
    crate::prerequisites::require();
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string("systemd/pengingat.service").unwrap();
    let unit = unit.replace("/usr/bin/pengingat", env!("CARGO_BIN_EXE_pengingat"));
    let path = dir.path().join("pengingat.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze");
    let messages = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && messages.trim().is_empty(), "verify: {messages}");
}
