//! Scan benchmark: 1,000,000 BPU participants seeded over Lampung's 2,651
//! kelurahan/desa; the scan at the instant a rule fires for everyone who is
//! current, written three ways in alternating rounds: the daemon's scan
//! (with the memory of the scan the day before), a process's first scan,
//! and the equivalent single `INSERT … SELECT` run directly in sqlite3 /
//! psql; and the repeat scans that follow, with and without the memory.
//!
//! `cargo bench --bench scan` (`PENGINGAT_BENCH_PARTICIPANTS` changes the
//! population; `PENGINGAT_BENCH_DATABASE_URL` the PostgreSQL server).

#[path = "support.rs"]
mod support;

use std::time::Instant;

use anyhow::Result;
use chrono::{DateTime, Utc};
use pengingat::domain::{ContributionMonth, DueDateRules, StandingRules};
use pengingat::scan::{self, ScanContext, ScanMemo};
use pengingat::schedule::Schedules;
use pengingat::seed::{Population, SeedOptions, seed};
use pengingat::store::NoProgress;
use support::BenchDb;

/// h-7 of July 2026 (due Wednesday 15 July): 09:05 WIB on 8 July.
const SCAN_AT: &str = "2026-07-08T02:05:00Z";
/// The day before, to record what earlier days left (skipped reminders)
/// so the measured scan does only what the single statement does.
const WARM_AT: &str = "2026-07-07T02:05:00Z";
const SEEDED_AT: &str = "2026-07-01T03:00:00Z";

struct Row {
    backend: &'static str,
    seed_secs: f64,
    created: u64,
    /// Medians over the rounds: the daemon's scan (with the memory of the
    /// day before's), a process's first scan, and the single statement.
    daemon_secs: f64,
    first_secs: f64,
    single_secs: f64,
    /// Median of three repeat scans 15 minutes apart, with the memo.
    repeat_secs: f64,
    /// One repeat scan without the memo (as a process's first scan).
    repeat_full_secs: f64,
}

/// How the h-7 rows are written in one round.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// The daemon's way: a scan the day before left its memory.
    Daemon,
    /// A process's first scan: every participant probed.
    First,
    /// The single statement typed into the database's own client.
    Single,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let participants: u64 = std::env::var("PENGINGAT_BENCH_PARTICIPANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!("scan benchmark: {participants} BPU participants over Lampung (prefix 18)");
    println!("load average at start: {}", support::load_average());
    let mut rows = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let db = if backend == "sqlite" {
            BenchDb::sqlite().await?
        } else {
            BenchDb::postgres().await?
        };
        let row = measure(backend, &db, participants).await;
        db.drop_db().await;
        rows.push(row?);
    }
    println!(
        "\n| backend | seed (s) | reminders created | daemon's scan (s) | first scan (s) | single INSERT … SELECT (s) \
         | daemon / single | first / single | repeat scan, memo (s) | repeat scan, none (s) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.1} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.3} | {:.2} |",
            r.backend,
            r.seed_secs,
            r.created,
            r.daemon_secs,
            r.first_secs,
            r.single_secs,
            r.daemon_secs / r.single_secs,
            r.first_secs / r.single_secs,
            r.repeat_secs,
            r.repeat_full_secs
        );
    }
    println!("\nload average at the end: {}", support::load_average());
    println!("peak RSS of the benchmark process: {:.0} MB", support::peak_rss_mb());
    Ok(())
}

async fn measure(backend: &'static str, db: &BenchDb, participants: u64) -> Result<Row> {
    let seeded_at: DateTime<Utc> = SEEDED_AT.parse()?;
    let population = Population::Region {
        prefix: "18".into(),
        participants,
        pu_share: 0.0,
    };
    let started = Instant::now();
    seed(
        db.store.as_ref(),
        &SeedOptions {
            population,
            seed: 7,
            now: seeded_at,
        },
        &NoProgress,
    )
    .await?;
    // The seed's own ANALYZE is part of its time: the scan below is the first after a bulk load,
    // planned with what seeding leaves behind.
    let seed_secs = started.elapsed().as_secs_f64();
    println!("{backend}: seeded in {seed_secs:.1} s");

    let schedules = Schedules::load(std::path::Path::new("config/schedules.toml"))?;
    let kelurahan = db.store.list_kelurahan().await?;
    let due = DueDateRules::default();
    let standing = StandingRules::default();
    let ctx = ScanContext {
        schedules: &schedules,
        kelurahan: &kelurahan,
        due: &due,
        standing: &standing,
    };
    let mut memo = ScanMemo::default();
    let warm = scan::run_remembering(db.store.as_ref(), &ctx, WARM_AT.parse()?, &mut memo).await?;
    println!(
        "{backend}: the day before: {} created, {} skipped",
        warm.totals.created, warm.totals.skipped
    );
    let scan_at: DateTime<Utc> = SCAN_AT.parse()?;
    let report = scan::run_remembering(db.store.as_ref(), &ctx, scan_at, &mut memo).await?;
    let created = report.totals.created;

    // The next ticks, with nothing new to do: with the memo the daemon keeps, then without.
    let mut repeats = Vec::new();
    for tick in 1..=3 {
        let at = scan_at + chrono::Duration::minutes(15 * tick);
        let started = Instant::now();
        let again = scan::run_remembering(db.store.as_ref(), &ctx, at, &mut memo).await?;
        repeats.push(started.elapsed().as_secs_f64());
        anyhow::ensure!(
            again.totals.created == 0,
            "a repeat scan created {}",
            again.totals.created
        );
    }
    let repeat_secs = median(&mut repeats.clone());
    let started = Instant::now();
    let again = scan::run(db.store.as_ref(), &ctx, scan_at + chrono::Duration::minutes(60)).await?;
    let repeat_full_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        again.totals.created == 0,
        "a repeat scan created {}",
        again.totals.created
    );
    println!(
        "{backend}: repeat scans {repeats:.3?} s with the memo (median {repeat_secs:.3}), \
         {repeat_full_secs:.2} s without"
    );

    // The day's rows written three ways, alternating which goes first, each on the same state:
    // the h-7 rows deleted and the tables vacuumed.
    let ways = [Way::Daemon, Way::First, Way::Single];
    let (mut daemon, mut first, mut single) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..3 {
        for i in 0..ways.len() {
            let way = ways[(i + round) % ways.len()];
            forget_h7(db).await?;
            let secs = match way {
                Way::Daemon => {
                    // The memory a scan the day before leaves, as in a daemon that scans every
                    // 15 minutes; the deletion above is not one it has to see.
                    let mut memo = ScanMemo::default();
                    scan::run_remembering(db.store.as_ref(), &ctx, WARM_AT.parse()?, &mut memo).await?;
                    let started = Instant::now();
                    let r = scan::run_remembering(db.store.as_ref(), &ctx, scan_at, &mut memo).await?;
                    anyhow::ensure!(r.totals.created == created, "{way:?} created {}", r.totals.created);
                    started.elapsed().as_secs_f64()
                }
                Way::First => {
                    let started = Instant::now();
                    let r = scan::run(db.store.as_ref(), &ctx, scan_at).await?;
                    anyhow::ensure!(r.totals.created == created, "{way:?} created {}", r.totals.created);
                    started.elapsed().as_secs_f64()
                }
                Way::Single => db.timed_cli(&single_statement(backend))?,
            };
            println!("{backend}: round {}: {way:?} {secs:.2} s", round + 1);
            match way {
                Way::Daemon => daemon.push(secs),
                Way::First => first.push(secs),
                Way::Single => single.push(secs),
            }
        }
    }
    Ok(Row {
        backend,
        seed_secs,
        created,
        daemon_secs: median(&mut daemon),
        first_secs: median(&mut first),
        single_secs: median(&mut single),
        repeat_secs,
        repeat_full_secs,
    })
}

/// Deletes the h-7 reminders with their history, and vacuums.
async fn forget_h7(db: &BenchDb) -> Result<()> {
    db.execute("DELETE FROM reminder_events WHERE reminder_id IN (SELECT id FROM reminders WHERE rule = 'h-7')")
        .await?;
    db.execute("DELETE FROM reminders WHERE rule = 'h-7'").await?;
    db.execute("VACUUM").await.ok();
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The h-7 reminders of July 2026 for every current BPU participant, as the
/// scan creates them (all of Lampung is WIB: one planned instant).
fn single_statement(backend: &str) -> String {
    let july = ContributionMonth::new(2026, 7).map_or(0, |m| m.index());
    let day = pengingat::scan::epoch_day(chrono::NaiveDate::from_ymd_opt(2026, 7, 8).unwrap_or_default());
    let planned: DateTime<Utc> = "2026-07-08T02:00:00Z".parse().unwrap_or_default();
    let now: DateTime<Utc> = SCAN_AT.parse().unwrap_or_default();
    let opted_out = if backend == "sqlite" {
        "p.opted_out = 0"
    } else {
        "NOT p.opted_out"
    };
    format!(
        "INSERT INTO reminders (participant_id, kelurahan_code, contribution_month, rule, rule_offset, channel, slot, \
         status, reason, occurrence_date, send_date, planned_at, expires_at, created_at, updated_at) \
         SELECT p.id, p.kelurahan_code, {july}, 'h-7', -7, 'sms', 1, 'pending', NULL, {day}, {day}, {p}, {e}, {n}, {n} \
         FROM participants p WHERE p.segment = 'bpu' AND p.paid_through = {prev} AND {opted_out} \
         AND p.phone IS NOT NULL AND p.preferred_channel IN ('sms', 'both') AND p.funding IN ('self', 'collective') \
         ON CONFLICT (participant_id, contribution_month, rule, channel, slot) DO NOTHING;",
        prev = july - 1,
        p = planned.timestamp(),
        e = planned.timestamp() + 10 * 3600,
        n = now.timestamp(),
    )
}
