//! Import benchmark: a generated 100,000-row participants CSV spread over
//! Lampung's 2,651 kelurahan/desa, imported into a fresh SQLite file and a
//! fresh PostgreSQL database, then imported again (nothing changes).
//!
//! `cargo bench --bench import`. The PostgreSQL server is
//! `postgres://postgres@127.0.0.1:5432/postgres` unless
//! `PENGINGAT_BENCH_DATABASE_URL` names another; the role must be allowed to
//! create databases. `PENGINGAT_BENCH_ROWS` changes the row count.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use pengingat::import::{ImportCounts, ImportOptions, import_participants};
use pengingat::store::{self, ConnectOptions, Kelurahan, NoProgress, Store};
use pengingat::wilayah::{LAMPUNG_CSV, parse_kelurahan_csv};

const NAMES: [&str; 12] = [
    "Siti Aminah",
    "Budi Santoso",
    "Dewi Lestari",
    "Ahmad Fauzi",
    "Sri Wahyuni",
    "Eko Prasetyo",
    "Nur Hidayah",
    "Agus Salim",
    "Rina Marlina",
    "Made Sukarta",
    "Yohanes Siregar",
    "Putu Ayu",
];

/// One benchmark result.
struct Timing {
    backend: &'static str,
    first: f64,
    again: f64,
    rows: usize,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let rows: usize = std::env::var("PENGINGAT_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let kelurahan =
        parse_kelurahan_csv(LAMPUNG_CSV).map_err(|e| anyhow!("embedded Lampung list: {} errors", e.len()))?;
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("participants.csv");
    std::fs::write(&csv, generate(&kelurahan, rows))?;
    println!(
        "import benchmark: {rows} participants over {} kelurahan/desa ({:.1} MB CSV)",
        kelurahan.len(),
        std::fs::metadata(&csv)?.len() as f64 / 1e6
    );

    let mut timings = Vec::new();
    let sqlite_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let sqlite = fresh_store(&sqlite_url, &kelurahan).await?;
    timings.push(measure("SQLite", sqlite, &csv).await?);

    let admin = std::env::var("PENGINGAT_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let name = format!(
        "pengingat_bench_{}_{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    );
    let admin_pool = sqlx::PgPool::connect(&admin)
        .await
        .with_context(|| format!("PostgreSQL at {}", store::redact_url(&admin)))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin_pool)
        .await?;
    let outcome = async {
        let pg = fresh_store(&database_url_for(&admin, &name), &kelurahan).await?;
        measure("PostgreSQL", pg, &csv).await
    }
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin_pool)
    .await?;
    timings.push(outcome?);

    println!("\n| backend    | rows    | first import (s) | rows/s  | re-import (s) |");
    println!("|------------|---------|------------------|---------|---------------|");
    for t in &timings {
        println!(
            "| {:<10} | {:>7} | {:>16.2} | {:>7.0} | {:>13.2} |",
            t.backend,
            t.rows,
            t.first,
            t.rows as f64 / t.first,
            t.again
        );
    }
    Ok(())
}

/// A migrated store holding the Lampung kelurahan list.
async fn fresh_store(url: &str, kelurahan: &[Kelurahan]) -> Result<Arc<dyn Store>> {
    let store = store::connect(url, &ConnectOptions::default()).await?;
    store.migrate().await?;
    store.upsert_kelurahan(kelurahan).await?;
    Ok(store)
}

/// Times the first import and a second one of the same file.
async fn measure(backend: &'static str, store: Arc<dyn Store>, csv: &Path) -> Result<Timing> {
    let now: DateTime<Utc> = "2025-07-10T03:00:00Z".parse()?;
    let options = ImportOptions::new(now);
    let started = Instant::now();
    let first = import_participants(store.as_ref(), csv, &options, &NoProgress).await?;
    let first_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let again = import_participants(store.as_ref(), csv, &options, &NoProgress).await?;
    let again_secs = started.elapsed().as_secs_f64();
    match (first.counts, again.counts) {
        (ImportCounts::Participants(a), ImportCounts::Participants(b))
            if a.inserted as usize == first.rows && b.unchanged as usize == first.rows => {}
        other => return Err(anyhow!("{backend}: unexpected counts {other:?}")),
    }
    Ok(Timing {
        backend,
        first: first_secs,
        again: again_secs,
        rows: first.rows,
    })
}

/// A participants CSV of `rows` rows, round-robin over `kelurahan`, with
/// NIKs that start with each kelurahan's kecamatan code and carry a birth
/// date, and a mix of paid-through months, funding and contact channels.
fn generate(kelurahan: &[Kelurahan], rows: usize) -> String {
    let mut out = String::with_capacity(rows * 150);
    out.push_str("nik,name,phone,email,kelurahan,segment,funding,monthly_amount,paid_through\n");
    let funding = ["mandiri", "kolektif", "apbd"];
    for i in 0..rows {
        let k = &kelurahan[i % kelurahan.len()];
        let region: String = k.code.kecamatan_code().chars().filter(char::is_ascii_digit).collect();
        // (i / 9999, i % 9999) is unique per row, so NIKs are unique even
        // between kelurahan of one kecamatan.
        let block = i / 9999;
        let serial = i % 9999 + 1;
        let day = 1 + block % 28 + if i % 2 == 0 { 40 } else { 0 };
        let month = 1 + (block / 28) % 12;
        let year = 60 + block / 336;
        let name = NAMES[i % NAMES.len()];
        let email = if i % 5 == 0 {
            format!("peserta{i}@example.co.id")
        } else {
            String::new()
        };
        let paid_through = format!("2025-{:02}", 1 + i % 7);
        let segment = if i % 10 == 0 { "pu" } else { "bpu" };
        let _ = writeln!(
            out,
            "{region}{day:02}{month:02}{year:02}{serial:04},{name},0812{:08},{email},{},{segment},{},16800,{paid_through}",
            i,
            k.code,
            funding[i % 3]
        );
    }
    out
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
