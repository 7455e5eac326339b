//! `pengingat demo` as a new user runs it (shortened to three weeks, and
//! without serving afterwards): the simulated loop sends reminders through
//! the mock gateway, receipts come back, participants pay through the
//! payments API, and the report and the effect against the holdout group
//! show it.

use std::process::Command;

#[test]
fn the_demo_runs_the_whole_loop_and_reports_it() {
    crate::prerequisites::require();
    // As from an installed package: a folder without config/, the demo in ./demo.
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pengingat"))
        .current_dir(cwd.path())
        .env_remove("PENGINGAT_CONFIG")
        .args(["demo", "--days", "21", "--no-serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("jadwal bawaan program (config/schedules.toml tidak ada)"),
        "says the built-in schedules are used:\n{stdout}"
    );
    let dir = cwd.path().join("demo");
    assert!(stdout.contains("Minggu  3"), "three weeks of progress:\n{stdout}");
    for line in stdout.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line}");
    }
    let total = stdout
        .lines()
        .filter(|l| l.starts_with("Total"))
        .nth(1)
        .expect("the reminders block has a Total row");
    // "Total  sms-sent/delivered/failed  email…  delivery  conversion  days  amount"
    let cells: Vec<&str> = total.split_whitespace().collect();
    let sms: Vec<u64> = cells[1].split('/').map(|n| n.parse().unwrap()).collect();
    assert!(sms[0] > 500 && sms[1] > 0, "SMS went out and were delivered: {total}");
    assert!(
        cells[4].ends_with('%') && cells[4] != "0,0%",
        "some reminders converted: {total}"
    );
    assert!(
        cells[6].starts_with("Rp") && cells[6] != "Rp0",
        "payments were credited: {total}"
    );
    assert!(
        stdout.contains("Dampak pengingat, semua kelurahan: 10% peserta BPU"),
        "the effect against the 10% holdout group:\n{stdout}"
    );
    assert!(stdout.contains("Dasbor: http://127.0.0.1:"), "{stdout}");

    // The payments came in through the HTTP API; most follow a reminder and
    // are credited to it, but the held-out participants' payments have no
    // early reminder to be credited to.
    let db = dir.join("pengingat.db");
    let sql = "SELECT COUNT(*), COUNT(reminder_id) FROM payments WHERE source = 'http'";
    let counts = Command::new("sqlite3")
        .arg(&db)
        .arg(sql)
        .output()
        .expect("sqlite3 runs");
    let counts = String::from_utf8_lossy(&counts.stdout);
    let (all, credited) = counts.trim().split_once('|').expect("two counts");
    let (all, credited): (u64, u64) = (all.parse().unwrap(), credited.parse().unwrap());
    assert!(
        all > 50 && credited > all / 2 && credited < all,
        "{all} payments, {credited} credited"
    );

    // The month-end snapshots were taken as the simulated days passed: at
    // least the month before the first day, for each of the 22 kelurahan.
    let snapshots = Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT COUNT(*) FROM standing_snapshots")
        .output()
        .expect("sqlite3 runs");
    let snapshots: u64 = String::from_utf8_lossy(&snapshots.stdout).trim().parse().unwrap();
    assert!(snapshots >= 22, "{snapshots} snapshot rows");

    // The contact-verification count per kelurahan is the list that
    // `report --contacts` gives for the same database, participant by
    // participant.
    let printed = contact_counts(&stdout);
    assert_eq!(printed.len(), 22, "a count for each kelurahan:\n{stdout}");
    let listed = Command::new(env!("CARGO_BIN_EXE_pengingat"))
        .current_dir(cwd.path())
        .env_remove("PENGINGAT_CONFIG")
        .env("PENGINGAT__DATABASE__URL", format!("sqlite://{}", db.display()))
        .args(["report", "--contacts", "--format", "json"])
        .output()
        .expect("the binary runs");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let list: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).expect("JSON list");
    let mut expected: std::collections::BTreeMap<String, std::collections::BTreeSet<i64>> = Default::default();
    for entry in &list {
        expected
            .entry(entry["kelurahan_name"].as_str().unwrap().to_string())
            .or_default()
            .insert(entry["participant_id"].as_i64().unwrap());
    }
    for (name, n) in &printed {
        let want = expected.get(name).map_or(0, |ids| ids.len() as i64);
        assert_eq!(*n, want, "{name}: printed {n}, report --contacts lists {want}");
    }
    let total: i64 = printed.iter().map(|(_, n)| n).sum();
    assert!(total > 0, "the run left some contacts to check:\n{stdout}");
    assert!(
        stdout.contains(&format!(
            "Kontak perlu dicek (nomor/e-mail gagal atau tidak ada): {total} peserta"
        )),
        "{stdout}"
    );
}

/// The (kelurahan, count) cells of the demo's contact-verification block.
fn contact_counts(stdout: &str) -> Vec<(String, i64)> {
    let block = stdout
        .split("Daftar lengkap per kelurahan: pengingat report --contacts\n")
        .nth(1)
        .expect("the contact-verification block");
    let mut counts = Vec::new();
    for line in block.lines().take_while(|l| l.starts_with("  ")) {
        // Cells of 34 columns (a name in 28, a count in 6), 3 apart.
        let chars: Vec<char> = line.chars().skip(2).collect();
        for cell in chars.chunks(37) {
            let cell: String = cell.iter().take(34).collect();
            let (name, n) = cell.split_at(28);
            counts.push((name.trim().to_string(), n.trim().parse().expect("a count")));
        }
    }
    counts
}
