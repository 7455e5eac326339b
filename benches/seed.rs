//! Seeds 1,000,000 BPU participants over Lampung's 2,651 kelurahan/desa
//! into a fresh SQLite file and a fresh PostgreSQL database, then seeds the
//! same population again (which must change nothing), and prints seconds,
//! rows per second and peak memory per backend.
//!
//! Run with `cargo bench --bench seed`. Environment:
//! - `PENGINGAT_BENCH_DATABASE_URL`: a PostgreSQL URL of a role that may
//!   create databases (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! - `PENGINGAT_BENCH_PARTICIPANTS`: the population size (default 1,000,000);
//! - `PENGINGAT_BENCH_BACKENDS`: `sqlite`, `postgres` or both (the default),
//!   comma-separated, to time one backend alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use pengingat::seed::{self, Generator, Population, SeedOptions, SeedReport};
use pengingat::store::{self, ConnectOptions, Progress, Store};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Counts the rows the store reports written.
#[derive(Default)]
struct Counter(AtomicU64);

impl Progress for Counter {
    fn advance(&self, rows: u64) {
        self.0.fetch_add(rows, Ordering::Relaxed);
    }
}

fn main() -> Result<()> {
    let participants: u64 = match std::env::var("PENGINGAT_BENCH_PARTICIPANTS") {
        Ok(n) => n
            .replace(['_', ','], "")
            .parse()
            .context("PENGINGAT_BENCH_PARTICIPANTS")?,
        Err(_) => 1_000_000,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(participants))
}

async fn run(participants: u64) -> Result<()> {
    let now: DateTime<Utc> = "2025-07-20T03:00:00Z".parse()?;
    let options = SeedOptions {
        population: Population::Region {
            prefix: "18".to_string(),
            participants,
            pu_share: 0.0,
        },
        seed: 2025,
        now,
    };
    println!("seed benchmark: {participants} BPU participants of region 18 (Lampung), 2 worker threads");
    let backends = std::env::var("PENGINGAT_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_string());
    generation_only(&options).await?;
    if backends.contains("sqlite") {
        sqlite(&options).await?;
    }
    if backends.contains("postgres") {
        postgres(&options).await?;
    }
    Ok(())
}

/// The generator alone, into nothing, against an in-memory plan: what the
/// stores' times are to be compared with.
async fn generation_only(options: &SeedOptions) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let url = format!("sqlite://{}", scratch.path().join("plan.db").display());
    let store = store::connect(&url, &ConnectOptions::default()).await?;
    store.migrate().await?;
    let plan = seed::plan(&*store, &options.population).await?;
    reset_peak();
    let started = Instant::now();
    let mut count = 0u64;
    let mut name_bytes = 0usize;
    for participant in Generator::new(&plan, options.seed, options.now)? {
        name_bytes += participant?.name.as_str().len();
        count += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{:<28} {:>9} rows {:>7.2} s {:>11.0} rows/s   peak RSS {:>6.1} MB   (avg name {:.1} bytes)",
        "generator only",
        count,
        seconds,
        count as f64 / seconds,
        peak_rss_mb(),
        name_bytes as f64 / count.max(1) as f64
    );
    Ok(())
}

async fn sqlite(options: &SeedOptions) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let url = format!("sqlite://{}", path.display());
    let store = store::connect(&url, &ConnectOptions::default()).await?;
    store.migrate().await?;
    seed_twice("SQLite", &*store, options).await?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("{:<28} database file {:.0} MB", "", bytes as f64 / 1e6);
    Ok(())
}

async fn postgres(options: &SeedOptions) -> Result<()> {
    let admin = std::env::var("PENGINGAT_BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string());
    let name = format!("pengingat_bench_seed_{}_{}", std::process::id(), rand::random::<u32>());
    let admin_pool = sqlx::PgPool::connect(&admin)
        .await
        .with_context(|| format!("connect to {}", store::redact_url(&admin)))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin_pool)
        .await?;
    let url = database_url_for(&admin, &name);
    let outcome = async {
        let store = store::connect(&url, &ConnectOptions::default()).await?;
        store.migrate().await?;
        let result = seed_twice("PostgreSQL", &*store, options).await;
        drop(store);
        result
    }
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin_pool)
    .await?;
    admin_pool.close().await;
    outcome
}

/// Seeds into a fresh database, then again (nothing may change), and prints both.
async fn seed_twice(backend: &str, store: &dyn Store, options: &SeedOptions) -> Result<()> {
    let first = timed(&format!("{backend} fresh"), store, options).await?;
    if first.written.inserted != first.participants {
        bail!(
            "{backend}: inserted {} of {}",
            first.written.inserted,
            first.participants
        );
    }
    let again = timed(&format!("{backend} re-seed"), store, options).await?;
    if again.written.inserted + again.written.updated != 0 {
        bail!("{backend}: re-seeding changed {:?}", again.written);
    }
    Ok(())
}

async fn timed(label: &str, store: &dyn Store, options: &SeedOptions) -> Result<SeedReport> {
    let progress = Counter::default();
    reset_peak();
    let started = Instant::now();
    let report = seed::seed(store, options, &progress).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{:<28} {:>9} rows {:>7.2} s {:>11.0} rows/s   peak RSS {:>6.1} MB   over {} kelurahan, {:?}",
        label,
        report.participants,
        seconds,
        report.participants as f64 / seconds,
        peak_rss_mb(),
        report.kelurahan,
        report.written
    );
    let advanced = progress.0.load(Ordering::Relaxed);
    if advanced != report.participants {
        bail!("{label}: progress told of {advanced} rows, not {}", report.participants);
    }
    Ok(report)
}

/// `admin` with its database name replaced by `name`.
fn database_url_for(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(head, _)| head);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Resets the kernel's peak-RSS mark (VmHWM), so each phase reports its own
/// peak; on kernels without it the peak is the whole run's so far.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident set size (VmHWM) in MB, 0 where /proc is unavailable.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
