//! The SQLite backend: the embedded default, for one host and one daemon.
//!
//! WAL journal so readers never block the writer, `synchronous = NORMAL`
//! (durable across process crashes, the WAL's recommended pairing), a busy
//! timeout, and `BEGIN IMMEDIATE` for every write transaction: a deferred
//! transaction that reads then writes fails at once with SQLITE_BUSY instead
//! of waiting (SQLite's documentation of `BEGIN IMMEDIATE`).

use std::future::Future;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite};

mod dispatch;
mod import_tx;
mod payments;

/// The outcome and inbox queries, over this backend's pool.
mod outcome_sql {
    crate::store::outcomes::outcome_queries!(sqlx::SqlitePool);
}
/// The contact-verification list's query, over this backend's pool.
mod contact_sql {
    crate::store::contacts::contact_queries!(sqlx::SqlitePool);
}
mod receipts;
mod reminders;

/// The holdout group's queries, over this backend's database.
mod holdout_sql {
    crate::store::holdout::holdout_queries!(sqlx::Sqlite);
}

/// The queries both backends run alike, over this backend's database.
mod common_sql {
    crate::store::common::common_queries!(sqlx::Sqlite);
}

use super::common::{Dialect, PARTICIPANT_COLUMNS, upsert_counts};
use super::delivery_state::{NewReceipt, OptOutChange, ReceiptOutcome};
use super::outcomes::{AttributedPayment, InboxFileRecord, OutcomeCounts, OutcomeFilter, PaymentSince};
use super::shared::{PaymentBatch, PaymentOutcome, StoredPayment};
use super::{
    AttemptOutcome, Backend, BehindParticipant, BulkTable, ClaimedReminder, ConnectOptions, Delivery, DigestClaim,
    DigestOutcome, DigestRecord, Digests, ImportTx, InsertedReminders, Kelurahan, Maintenance, PaidThroughCount,
    ParticipantRecord, Participants, Payments, PreviewCount, Progress, ReminderRecord, Reminders, Replan, ReplanCounts,
    Reports, RuleOccurrences, ScanTotals, SegmentCounts, StoreError, UnsentGroup, UpsertCounts, redact_url,
};
use crate::domain::{Channel, ExternalRef, NewParticipant, NewPayment, Nik, PhoneNumber};

static MIGRATOR: sqlx::migrate::Migrator = sqlx_macros::migrate!("migrations/sqlite");

/// Rows per multi-row INSERT: 15 columns × 1,000 stays well under SQLite's
/// 32,766 bound parameters.
pub(super) const BATCH: usize = 1_000;

/// A SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The connection pool; writers serialise on SQLite's lock.
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file named by `url`
    /// (`sqlite://path`, `sqlite:path`, or a plain path) and its directory.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect_error = |source| StoreError::Connect {
            url: redact_url(url),
            source,
        };
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
        Ok(Self { pool })
    }

    /// The pool, for tests and benchmarks that run SQL directly.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        begin_write(&self.pool).await
    }
}

/// A transaction that reads then writes: `BEGIN IMMEDIATE` takes the write
/// lock up front, so a concurrent writer makes it wait on the busy timeout
/// instead of failing at once with SQLITE_BUSY.
pub(super) async fn begin_write(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

impl Dialect for Sqlite {
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

#[async_trait]
impl Maintenance for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        common_sql::ping(&self.pool).await
    }

    async fn analyze(&self, tables: &[BulkTable]) -> Result<(), StoreError> {
        common_sql::analyze(&self.pool, tables).await
    }

    async fn deployment_id(&self) -> Result<String, StoreError> {
        common_sql::deployment_id(&self.pool).await
    }
}

#[async_trait]
impl Participants for SqliteStore {
    async fn upsert_kelurahan(&self, rows: &[Kelurahan]) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut counts = UpsertCounts::default();
        for chunk in rows.chunks(BATCH) {
            let codes: Vec<&str> = chunk.iter().map(|k| k.code.as_str()).collect();
            let (existing,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM kelurahan WHERE code IN (SELECT value FROM json_each($1))")
                    .bind(json_list(&codes))
                    .fetch_one(&mut *tx)
                    .await?;
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
            counts += upsert_counts(chunk.len(), existing as u64, changed);
        }
        tx.commit().await?;
        Ok(counts)
    }

    async fn list_kelurahan(&self) -> Result<Vec<Kelurahan>, StoreError> {
        common_sql::list_kelurahan(&self.pool).await
    }

    async fn upsert_participants(
        &self,
        rows: &[NewParticipant],
        now: DateTime<Utc>,
        progress: &dyn Progress,
    ) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.begin_write().await?;
        let counts = upsert_participants_in(&mut tx, rows, now, progress).await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError> {
        Ok(Box::new(import_tx::SqliteImport::begin(&self.pool).await?))
    }

    async fn participants_by_nik(&self, niks: &[Nik]) -> Result<Vec<ParticipantRecord>, StoreError> {
        let niks: Vec<&str> = niks.iter().map(Nik::as_str).collect();
        let mut out = Vec::with_capacity(niks.len());
        for chunk in niks.chunks(10_000) {
            let sql = format!(
                "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE nik IN (SELECT value FROM json_each($1)) ORDER BY id"
            );
            out.extend(
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(json_list(chunk))
                    .fetch_all(&self.pool)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn participants_by_kpj(&self, kpjs: &[String]) -> Result<Vec<ParticipantRecord>, StoreError> {
        let sql = format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE kpj IN (SELECT value FROM json_each($1)) ORDER BY id"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(json_list(kpjs))
            .fetch_all(&self.pool)
            .await?)
    }

    async fn set_opt_out_by_nik(
        &self,
        nik: &Nik,
        opted_out: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<OptOutChange>, StoreError> {
        receipts::set_opt_out_by_nik(&self.pool, nik, opted_out, now).await
    }

    async fn opt_out_by_phone(&self, phone: &PhoneNumber, now: DateTime<Utc>) -> Result<Vec<OptOutChange>, StoreError> {
        receipts::set_opt_out_by_phone(&self.pool, phone, true, now).await
    }

    async fn opt_in_by_phone(&self, phone: &PhoneNumber, now: DateTime<Utc>) -> Result<Vec<OptOutChange>, StoreError> {
        receipts::set_opt_out_by_phone(&self.pool, phone, false, now).await
    }
}

#[async_trait]
impl Payments for SqliteStore {
    async fn payments_by_ref(&self, refs: &[ExternalRef]) -> Result<Vec<StoredPayment>, StoreError> {
        let refs: Vec<&str> = refs.iter().map(ExternalRef::as_str).collect();
        let mut out = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(10_000) {
            out.extend(
                sqlx::query_as(PAYMENTS_BY_REF_SQLITE)
                    .bind(json_list(chunk))
                    .fetch_all(&self.pool)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn record_payments(
        &self,
        rows: &[NewPayment],
        batch: &PaymentBatch,
        progress: &dyn Progress,
    ) -> Result<Vec<PaymentOutcome>, StoreError> {
        payments::record(&self.pool, rows, batch, progress).await
    }

    async fn inbox_file_seen(&self, sha256: &str) -> Result<Option<InboxFileRecord>, StoreError> {
        outcome_sql::inbox_file_seen(&self.pool, sha256).await
    }

    async fn record_inbox_file(&self, file: &InboxFileRecord, now: DateTime<Utc>) -> Result<(), StoreError> {
        outcome_sql::record_inbox_file(&self.pool, file, now).await
    }
}

crate::store::delegate::delegate_roles!(SqliteStore);
crate::store::snapshots::snapshot_role!(SqliteStore, sqlx::Sqlite);
crate::store::retention::retention_role!(SqliteStore, sqlx::Sqlite);

#[async_trait]
impl Reports for SqliteStore {
    async fn reminder_outcomes(&self, filter: &OutcomeFilter) -> Result<Vec<OutcomeCounts>, StoreError> {
        outcome_sql::reminder_outcomes(&self.pool, filter).await
    }

    async fn attributed_payments(&self, filter: &OutcomeFilter) -> Result<Vec<AttributedPayment>, StoreError> {
        outcome_sql::attributed_payments(&self.pool, filter).await
    }

    async fn bpu_payments_since(&self, since: i64) -> Result<Vec<PaymentSince>, StoreError> {
        outcome_sql::bpu_payments_since(&self.pool, since).await
    }

    async fn paid_through_histogram(&self, prefix: Option<&str>) -> Result<Vec<PaidThroughCount>, StoreError> {
        common_sql::paid_through_histogram(&self.pool, prefix).await
    }

    async fn contact_check_rows(&self, prefix: Option<&str>) -> Result<Vec<super::ContactCheckRow>, StoreError> {
        contact_sql::contact_check_rows(&self.pool, prefix).await
    }

    async fn effect_rows(&self, rules: &[String]) -> Result<Vec<super::holdout::EffectRow>, StoreError> {
        holdout_sql::effect_rows(&self.pool, rules).await
    }

    async fn segment_counts(&self) -> Result<SegmentCounts, StoreError> {
        let (bpu, pu): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(segment = 'bpu'), 0), COALESCE(SUM(segment = 'pu'), 0) FROM participants",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(SegmentCounts { bpu, pu })
    }
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
        let (existing,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM participants WHERE nik IN (SELECT value FROM json_each($1))")
                .bind(json_list(&niks))
                .fetch_one(&mut **tx)
                .await?;
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
        counts += upsert_counts(chunk.len(), existing as u64, changed);
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

pub(super) const PAYMENTS_BY_REF_SQLITE: &str = "SELECT y.external_ref, y.participant_id, p.nik, y.amount, y.months, \
     y.first_month, y.last_month, y.paid_at FROM payments y JOIN participants p ON p.id = y.participant_id \
     WHERE y.external_ref IN (SELECT value FROM json_each($1))";

/// The coordinator digest's SQL.
mod digest;
