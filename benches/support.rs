//! What the benchmarks share: fresh databases on each backend.

#![allow(dead_code)]

use std::sync::Arc;

use anyhow::{Context, Result};
use pengingat::store::{self, ConnectOptions, Store};

/// The PostgreSQL server benchmarks create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("PENGINGAT_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".to_string())
}

/// A migrated, empty database for one benchmark run.
pub struct BenchDb {
    pub store: Arc<dyn Store>,
    /// The URL the store was opened with (for command-line tools).
    pub url: String,
    /// The SQLite file, when on SQLite.
    pub sqlite_file: Option<std::path::PathBuf>,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl BenchDb {
    pub async fn sqlite() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("bench.db");
        let url = format!("sqlite://{}", file.display());
        let store = store::connect(&url, &ConnectOptions::default()).await?;
        store.migrate().await?;
        Ok(Self {
            store,
            url,
            sqlite_file: Some(file),
            pg_name: None,
            _dir: Some(dir),
        })
    }

    pub async fn postgres() -> Result<Self> {
        let admin = postgres_admin_url();
        let name = format!("pengingat_bench_{}_{}", std::process::id(), rand::random::<u32>());
        let pool = sqlx::PgPool::connect(&admin)
            .await
            .with_context(|| format!("PostgreSQL at {admin}"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await?;
        pool.close().await;
        let base = admin.split('?').next().unwrap_or(&admin);
        let url = format!("{}/{name}", base.rsplit_once('/').map_or(base, |(h, _)| h));
        let store = store::connect(&url, &ConnectOptions::default()).await?;
        store.migrate().await?;
        Ok(Self {
            store,
            url,
            sqlite_file: None,
            pg_name: Some(name),
            _dir: None,
        })
    }

    /// Drops a PostgreSQL benchmark database.
    pub async fn drop_db(self) {
        let Some(name) = self.pg_name else { return };
        drop(self.store);
        if let Ok(pool) = sqlx::PgPool::connect(&postgres_admin_url()).await {
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
            pool.close().await;
        }
    }

    /// Runs `sql` through the backend's own command-line client (sqlite3 or
    /// psql) with its timer on, returning the seconds it reports.
    pub fn timed_cli(&self, sql: &str) -> Result<f64> {
        let output = match &self.sqlite_file {
            Some(file) => {
                use std::io::Write as _;
                // sqlite3 only reports timings for statements read from its input.
                let mut child = std::process::Command::new("sqlite3")
                    .arg(file)
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .context("sqlite3 (Debian package sqlite3)")?;
                if let Some(mut stdin) = child.stdin.take() {
                    writeln!(stdin, ".timer on\n{sql}")?;
                }
                child.wait_with_output()?
            }
            None => std::process::Command::new("psql")
                .args([self.url.as_str(), "-q", "-c", "\\timing on", "-c", sql])
                .output()
                .context("psql (Debian package postgresql-client)")?,
        };
        let text = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
        anyhow::ensure!(output.status.success(), "the command-line client failed: {text}");
        parse_cli_seconds(&text).with_context(|| format!("no timing in: {text}"))
    }

    /// Runs `sql` through the store's own pool (for setup).
    pub async fn execute(&self, sql: &str) -> Result<()> {
        if self.sqlite_file.is_some() {
            let pool = sqlx::SqlitePool::connect(&self.url).await?;
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await?;
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await?;
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await?;
            pool.close().await;
        }
        Ok(())
    }
}

/// "Run Time: real 1.234 …" (sqlite3) or "Time: 1234.567 ms" (psql), summed.
fn parse_cli_seconds(text: &str) -> Option<f64> {
    let mut total = None;
    for line in text.lines() {
        let secs = if let Some(rest) = line.strip_prefix("Run Time: real ") {
            rest.split_whitespace().next().and_then(|n| n.parse::<f64>().ok())
        } else if let Some(rest) = line.strip_prefix("Time: ") {
            rest.split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
                .map(|ms| ms / 1000.0)
        } else {
            None
        };
        if let Some(s) = secs {
            total = Some(total.unwrap_or(0.0) + s);
        }
    }
    total
}

/// Peak resident memory of this process so far, in MB (VmHWM).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The machine's load averages (1, 5 and 15 minutes), as /proc/loadavg gives them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
