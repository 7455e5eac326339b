//! The SQLite backend: the embedded default, for one host and one daemon.
//!
//! WAL journal so readers never block the writer, `synchronous = NORMAL`
//! (durable across process crashes, the WAL's recommended pairing), a busy
//! timeout, and `BEGIN IMMEDIATE` for every write transaction: a deferred
//! transaction that reads then writes fails at once with SQLITE_BUSY instead
//! of waiting (SQLite's documentation of `BEGIN IMMEDIATE`).

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite};

mod dispatch;
mod payments;
mod receipts;
mod reminders;

crate::store::backend_roles::shared_backend!(SqliteStore, sqlx::Sqlite);

use super::common::{Dialect, upsert_counts};
use super::{Backend, BulkTable, ConnectOptions, Kelurahan, Progress, StoreError, UpsertCounts};
use crate::domain::NewParticipant;

static MIGRATOR: sqlx::migrate::Migrator = sqlx_macros::migrate!("migrations/sqlite");

/// Rows per multi-row INSERT: 15 columns × 1,000 stays well under SQLite's
/// 32,766 bound parameters.
pub(super) const BATCH: usize = 1_000;

/// A SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The connection pool; writers serialise on SQLite's lock.
    pool: SqlitePool,
    /// The connection the dispatcher's claims, outcomes and releases from
    /// this process take turns on, opened on first use outside the pool's
    /// count (`dispatch.rs` says why).
    dispatch_connection: Arc<tokio::sync::Mutex<Option<dispatch::DispatchConnection>>>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file named by `url`
    /// (`sqlite://path`, `sqlite:path`, or a plain path) and its directory.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect_error = |source| StoreError::connect(url, source);
        let path = sqlite_path(url);
        let base = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url).map_err(connect_error)?
        } else {
            SqliteConnectOptions::new().filename(&path)
        };
        let dir = std::path::Path::new(&path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|_| path != ":memory:") {
            std::fs::create_dir_all(dir).map_err(|e| connect_error(sqlx::Error::Io(e)))?;
        }
        let opts = base
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(options.timeout)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.timeout + std::time::Duration::from_secs(5))
            .test_before_acquire(false)
            .before_acquire(super::pool::alive_after_idle)
            .connect_with(opts)
            .await
            .map_err(connect_error)?;
        Ok(Self {
            pool,
            dispatch_connection: Arc::default(),
        })
    }

    /// The pool, for tests and benchmarks that run SQL directly.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// A transaction that reads then writes: `BEGIN IMMEDIATE` takes the write
/// lock up front, so a concurrent writer makes it wait on the busy timeout
/// instead of failing at once with SQLITE_BUSY.
pub(super) async fn begin_write(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

impl Dialect for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;

    fn begin_write(
        pool: &SqlitePool,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Sqlite>, StoreError>> + Send {
        begin_write(pool)
    }

    /// Nothing to add: `BEGIN IMMEDIATE` holds the database's one write lock
    /// for the whole transaction.
    const FOR_UPDATE: &'static str = "";

    /// One table each, nothing to prepare.
    const PREPARE_HISTORY: &'static [&'static str] = &[];

    /// Old rows are deleted.
    const DROP_HISTORY_BEFORE: &'static [&'static str] = &[
        "DELETE FROM receipts WHERE received_at < $1",
        "DELETE FROM reminder_events WHERE at < $1",
    ];

    /// Starts a new write epoch: triggers stamp each participant row with
    /// the epoch current when it is written, and SQLite writes one
    /// transaction at a time, so every later write carries this one or a
    /// higher one.
    const PARTICIPANT_WRITE_MARK: &'static str =
        "UPDATE participant_write_epoch SET epoch = epoch + 1 RETURNING CAST(epoch AS TEXT)";

    const PARTICIPANTS_WRITTEN_SINCE: &'static str = "SELECT id, kelurahan_code, paid_through FROM participants \
         WHERE written_epoch >= CAST($1 AS INTEGER) LIMIT $2";

    /// Nothing to take: the write transaction already serialises it.
    async fn lock_provider_id(
        _tx: &mut sqlx::Transaction<'static, Sqlite>,
        _gateway: &str,
        _pid: &str,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    /// Nothing to take: the write transaction already serialises it.
    async fn lock_payer_of(_tx: &mut sqlx::Transaction<'static, Sqlite>, _reminder_id: i64) -> Result<(), StoreError> {
        Ok(())
    }

    /// A sample of about 1,000 rows per index, as the SQLite documentation
    /// of `PRAGMA optimize` recommends: a full ANALYZE reads every index.
    /// One table per statement.
    fn analyze_statements(tables: &[BulkTable]) -> Vec<String> {
        let mut statements = vec!["PRAGMA analysis_limit = 1000".to_string()];
        statements.extend(tables.iter().map(|t| format!("ANALYZE {}", t.name())));
        statements
    }

    /// A JSON array of strings (SQLite has no array parameters).
    type TextList = String;

    fn text_list<S: AsRef<str>>(items: &[S]) -> String {
        json_list(items)
    }

    /// A JSON array of numbers: `json_each` yields them as integers, so they
    /// compare equal to integer ids (strings would not).
    type IdList = String;

    fn id_list(ids: &[i64]) -> String {
        let items: Vec<String> = ids.iter().map(i64::to_string).collect();
        format!("[{}]", items.join(","))
    }

    fn in_text_list(column: &str, param: u8) -> String {
        format!("{column} IN (SELECT value FROM json_each(${param}))")
    }

    fn in_id_list(column: &str, param: u8) -> String {
        format!("{column} IN (SELECT value FROM json_each(${param}))")
    }

    /// Keeps each JSON parameter of a lookup to a moderate size.
    const LOOKUP_KEYS: usize = 10_000;
}

/// The file path inside a SQLite URL.
fn sqlite_path(url: &str) -> String {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split('?').next().unwrap_or(rest).to_string()
}

/// A JSON array of strings, bound as one parameter and read with `json_each`
/// (SQLite has no array parameters).
pub(super) fn json_list<S: AsRef<str>>(items: &[S]) -> String {
    serde_json::Value::Array(
        items
            .iter()
            .map(|s| serde_json::Value::String(s.as_ref().to_string()))
            .collect(),
    )
    .to_string()
}

/// Upserts kelurahan by code, batched (see [`Participants::upsert_kelurahan`]).
async fn upsert_kelurahan(pool: &SqlitePool, rows: &[Kelurahan]) -> Result<UpsertCounts, StoreError> {
    let mut tx = begin_write(pool).await?;
    let mut counts = UpsertCounts::default();
    for chunk in rows.chunks(BATCH) {
        let codes: Vec<&str> = chunk.iter().map(|k| k.code.as_str()).collect();
        let existing = common_sql::count_existing(&mut tx, "kelurahan", "code", &codes).await?;
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO kelurahan (code, name, kecamatan, kabupaten_kota, provinsi, time_zone) ",
        );
        qb.push_values(chunk, |mut b, k| {
            b.push_bind(k.code.as_str())
                .push_bind(&k.name)
                .push_bind(&k.kecamatan)
                .push_bind(&k.kabupaten_kota)
                .push_bind(&k.provinsi)
                .push_bind(k.time_zone.iana_name());
        });
        qb.push(
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, kecamatan = excluded.kecamatan, \
             kabupaten_kota = excluded.kabupaten_kota, provinsi = excluded.provinsi, time_zone = excluded.time_zone \
             WHERE (kelurahan.name, kelurahan.kecamatan, kelurahan.kabupaten_kota, kelurahan.provinsi, kelurahan.time_zone) \
             IS NOT (excluded.name, excluded.kecamatan, excluded.kabupaten_kota, excluded.provinsi, excluded.time_zone)",
        );
        let changed = qb.build().execute(&mut *tx).await?.rows_affected();
        counts += upsert_counts(chunk.len(), existing, changed);
    }
    tx.commit().await?;
    Ok(counts)
}

/// Upserts participants by NIK inside `tx`, batched (see
/// [`Participants::upsert_participants`]).
pub(super) async fn upsert_participants_in(
    tx: &mut sqlx::Transaction<'static, Sqlite>,
    rows: &[NewParticipant],
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<UpsertCounts, StoreError> {
    let now = now.timestamp();
    let mut counts = UpsertCounts::default();
    for chunk in rows.chunks(BATCH) {
        let niks: Vec<&str> = chunk.iter().map(|p| p.nik.as_str()).collect();
        let existing = common_sql::count_existing(tx, "participants", "nik", &niks).await?;
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO participants (nik, kpj, name, phone, email, kelurahan_code, segment, funding, \
             monthly_amount, start_month, paid_through, preferred_channel, opted_out, created_at, updated_at) ",
        );
        qb.push_values(chunk, |mut b, p| {
            b.push_bind(p.nik.as_str())
                .push_bind(p.kpj.as_ref().map(|k| k.as_str()))
                .push_bind(p.name.as_str())
                .push_bind(p.phone.as_ref().map(|x| x.as_str()))
                .push_bind(p.email.as_ref().map(|x| x.as_str()))
                .push_bind(p.kelurahan.as_str())
                .push_bind(p.segment.as_str())
                .push_bind(p.funding.as_str())
                .push_bind(p.monthly_amount.amount())
                .push_bind(p.start_month.index())
                .push_bind(p.paid_through.index())
                .push_bind(p.preferred_channel.as_str())
                .push_bind(p.opted_out)
                .push_bind(now)
                .push_bind(now);
        });
        qb.push(PARTICIPANT_UPSERT_TAIL_SQLITE);
        let changed = qb.build().execute(&mut **tx).await?.rows_affected();
        counts += upsert_counts(chunk.len(), existing, changed);
        progress.advance(chunk.len() as u64);
    }
    Ok(counts)
}

const PARTICIPANT_UPSERT_TAIL_SQLITE: &str = " ON CONFLICT (nik) DO UPDATE SET kpj = excluded.kpj, name = excluded.name, \
     phone = excluded.phone, email = excluded.email, kelurahan_code = excluded.kelurahan_code, \
     segment = excluded.segment, funding = excluded.funding, monthly_amount = excluded.monthly_amount, \
     start_month = excluded.start_month, paid_through = MAX(participants.paid_through, excluded.paid_through), \
     preferred_channel = excluded.preferred_channel, opted_out = MAX(participants.opted_out, excluded.opted_out), updated_at = excluded.updated_at, \
     contact_changed_at = CASE WHEN (participants.phone, participants.email) IS NOT (excluded.phone, excluded.email) \
     THEN excluded.updated_at ELSE participants.contact_changed_at END \
     WHERE (participants.kpj, participants.name, participants.phone, participants.email, participants.kelurahan_code, \
     participants.segment, participants.funding, participants.monthly_amount, participants.start_month, \
     participants.paid_through, participants.preferred_channel, participants.opted_out) \
     IS NOT (excluded.kpj, excluded.name, excluded.phone, excluded.email, excluded.kelurahan_code, excluded.segment, \
     excluded.funding, excluded.monthly_amount, excluded.start_month, \
     MAX(participants.paid_through, excluded.paid_through), excluded.preferred_channel, MAX(participants.opted_out, excluded.opted_out))";

/// The coordinator digest's SQL.
mod digest;
