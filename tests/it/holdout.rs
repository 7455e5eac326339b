//! The holdout group on both backends: deterministic, stratified per
//! kelurahan, stable across processes and import orders, sparing only the
//! early rules; and the effect report recovering a simulated effect.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use chrono::{DateTime, Utc};
use pengingat::domain::holdout::{Candidate, assign};
use pengingat::domain::{DueDateRules, KelurahanCode, NewParticipant, ReminderStatus, StandingRules};
use pengingat::scan::{self, ScanContext};
use pengingat::schedule::Schedules;
use pengingat::seed::effect::Behaviour;
use pengingat::store::{NoProgress, ReminderRecord};

use crate::helpers::*;

both_backends!(
    holdout_is_stratified_and_spares_the_late_rules,
    holdout_is_the_same_in_two_processes_on_two_databases,
    effect_report_recovers_the_simulated_effect,
);

const SALT: &str = "kota-metro-2026";

fn holdout_schedules(fraction: f64) -> Schedules {
    Schedules::shipped_with(&format!("[holdout]\nfraction = {fraction}\nsalt = \"{SALT}\"\n")).expect("schedules")
}

async fn scan_at(db: &TestDb, schedules: &Schedules, now: DateTime<Utc>) {
    let kelurahan = db.store.list_kelurahan().await.unwrap();
    let (due, standing) = (DueDateRules::default(), StandingRules::default());
    let ctx = ScanContext {
        schedules,
        kelurahan: &kelurahan,
        due: &due,
        standing: &standing,
    };
    scan::run(db.store.as_ref(), &ctx, now).await.expect("scan");
}

/// `n` participants of `code`, first unpaid July 2025, serials from `first`.
fn people(code: &str, n: u32, first: u32) -> Vec<NewParticipant> {
    (first..first + n)
        .map(|i| {
            let mut p = participant(i, "2025-06");
            p.kelurahan = KelurahanCode::parse(code).unwrap();
            p
        })
        .collect()
}

fn held_out_niks(rows: &[ReminderRecord]) -> BTreeSet<String> {
    rows.iter()
        .filter(|r| r.reason.as_deref() == Some("holdout"))
        .map(|r| r.nik.clone())
        .collect()
}

async fn holdout_is_stratified_and_spares_the_late_rules(db: &TestDb) {
    load_test_kelurahan(db).await;
    let sizes = [("18.72.01.1001", 57u32), ("18.72.01.1005", 23), ("51.71.01.1001", 11)];
    let mut all = Vec::new();
    let mut first = 1;
    for (code, n) in sizes {
        all.extend(people(code, n, first));
        first += n;
    }
    db.store
        .upsert_participants(&all, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let schedules = holdout_schedules(0.15);
    scan_at(db, &schedules, at("2025-07-08T02:05:00Z")).await;
    let rows = db.store.list_reminders(None, 10_000).await.unwrap();
    let held = held_out_niks(&rows);
    // Per kelurahan within one participant of 15%.
    for (code, n) in sizes {
        let count = rows
            .iter()
            .filter(|r| r.kelurahan_code == code && r.reason.as_deref() == Some("holdout"))
            .count() as f64;
        assert!((count - 0.15 * f64::from(n)).abs() <= 1.0, "{code}: {count} of {n}");
    }
    // Exactly the group the pure assignment picks from NIK and salt.
    let candidates: Vec<Candidate> = all
        .iter()
        .enumerate()
        .map(|(i, p)| Candidate {
            id: i as i64,
            nik: p.nik.as_str().to_string(),
            kelurahan_code: p.kelurahan.as_str().to_string(),
        })
        .collect();
    let expected: BTreeSet<String> = assign(&candidates, 0.15, SALT)
        .into_iter()
        .map(|(i, _)| candidates[i as usize].nik.clone())
        .collect();
    assert_eq!(held, expected);
    // h-7: skipped for the group, pending for everyone else.
    for r in rows.iter().filter(|r| r.rule == "h-7") {
        let want = if held.contains(&r.nik) {
            ReminderStatus::Skipped
        } else {
            ReminderStatus::Pending
        };
        assert_eq!(r.status(), Some(want), "{r:?}");
    }
    assert_eq!(rows.iter().filter(|r| r.rule == "h-7").count(), all.len());
    // h+7 and the exempt last-chance still reach the group.
    scan_at(db, &schedules, at("2025-07-22T02:05:00Z")).await;
    scan_at(db, &schedules, at("2025-09-13T02:05:00Z")).await;
    let rows = db.store.list_reminders(None, 10_000).await.unwrap();
    for rule in ["h+7", "last-chance"] {
        let reached: BTreeSet<String> = rows
            .iter()
            .filter(|r| r.rule == rule && r.reason.as_deref() != Some("holdout"))
            .map(|r| r.nik.clone())
            .collect();
        assert!(held.is_subset(&reached), "{rule} reaches the held-out participants");
    }
}

/// A configuration directory for the CLI on `url`, with the shipped
/// schedules plus a 20% holdout.
fn cli_config(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string("config/schedules.toml").unwrap();
    let extra = format!("\n[holdout]\nfraction = 0.2\nsalt = \"{SALT}\"\n");
    std::fs::write(dir.path().join("schedules.toml"), shipped + &extra).unwrap();
    std::os::unix::fs::symlink(
        std::fs::canonicalize("config/templates").unwrap(),
        dir.path().join("templates"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pengingat.toml"),
        format!(
            "[database]\nurl = \"{url}\"\n[schedules]\npath = \"{}\"\n",
            dir.path().join("schedules.toml").display()
        ),
    )
    .unwrap();
    dir
}

fn cli(dir: &tempfile::TempDir, args: &[&str]) -> String {
    let config: PathBuf = dir.path().join("pengingat.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_pengingat"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run pengingat");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn holdout_is_the_same_in_two_processes_on_two_databases(db: &TestDb) {
    let other = same_backend(db).await;
    let population = people("18.72.01.1001", 60, 1);
    let mut reversed = population.clone();
    reversed.reverse();
    // The second database imports them in the opposite order: other ids.
    for (target, rows) in [(db, &population), (&other, &reversed)] {
        load_test_kelurahan(target).await;
        for p in rows.iter() {
            target
                .store
                .upsert_participants(std::slice::from_ref(p), at("2025-07-01T00:00:00Z"), &NoProgress)
                .await
                .unwrap();
        }
    }
    let mut groups = Vec::new();
    for target in [db, &other] {
        let dir = cli_config(&target.url);
        cli(&dir, &["--clock", "2025-07-08T02:05:00Z", "scan", "--once"]);
        // A second process on the same database changes nothing.
        cli(&dir, &["--clock", "2025-07-08T02:35:00Z", "scan", "--once"]);
        let rows = target.store.list_reminders(None, 1_000).await.unwrap();
        assert_eq!(rows.len(), 60, "one h-7 row each");
        groups.push(held_out_niks(&rows));
        let csv = cli(
            &dir,
            &[
                "--clock",
                "2025-08-20T00:00:00Z",
                "report",
                "--effect",
                "--format",
                "csv",
            ],
        );
        assert!(
            csv.starts_with("tingkat,kode_kelurahan,nama_kelurahan,bulan,batas,"),
            "{csv}"
        );
        assert!(
            csv.lines()
                .any(|l| l.starts_with("total,,,2025-07,jatuh_tempo,48,0,12,0,0.0000,")),
            "nobody paid: 48 reminded, 12 held out, no difference\n{csv}"
        );
        let table = cli(&dir, &["--clock", "2025-07-09T00:00:00Z", "report", "--effect"]);
        assert!(
            table.contains("Dampak pengingat") && table.contains("belum lewat"),
            "{table}"
        );
    }
    assert_eq!(groups[0].len(), 12, "20% of 60");
    assert_eq!(groups[0], groups[1]);
    other.cleanup().await;
}

async fn effect_report_recovers_the_simulated_effect(db: &TestDb) {
    let behaviour = Behaviour {
        base_per_mille: 450,
        lift_per_mille: 350,
    };
    let mut seen = BTreeMap::new();
    for seed in 1..=3 {
        // A fresh database of the same backend for each seed.
        let fresh = same_backend(db).await;
        let run = pengingat::demo::effect_run::run(fresh.store.as_ref(), seed, 1_000, 0.2, behaviour)
            .await
            .expect("run");
        fresh.cleanup().await;
        let d = run.by_due.difference.expect("both groups");
        assert_eq!(run.by_due.held_out.total, 200, "20% of 1,000 in two kelurahan");
        assert!(run.covered(), "seed {seed}: true {} in {d:?}", run.true_effect_pp);
        assert!(d.low_pp > 0.0, "seed {seed}: a 19-point effect is visible: {d:?}");
        seen.insert(seed, d.estimate_pp);
    }
    assert_eq!(seen.len(), 3);
}

/// Another empty test database on `db`'s backend.
async fn same_backend(db: &TestDb) -> TestDb {
    if db.url.starts_with("sqlite") {
        sqlite_db().await
    } else {
        postgres_db().await
    }
}
