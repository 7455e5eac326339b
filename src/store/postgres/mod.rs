//! The PostgreSQL backend: for large deployments and several daemons on one
//! database. Bulk writes bind whole columns as arrays and `UNNEST` them, so a
//! batch of thousands of rows is one statement and one round trip.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::str::FromStr;

mod dispatch;
mod payments;
mod receipts;
mod reminders;

crate::store::backend_roles::shared_backend!(PgStore, sqlx::Postgres);

use super::common::{Dialect, upsert_counts};
use super::{Backend, BulkTable, ConnectOptions, Kelurahan, Progress, RuleOccurrences, StoreError, UpsertCounts};
use crate::domain::NewParticipant;

/// Takes an advisory lock while it runs, so daemons starting together are safe.
static MIGRATOR: sqlx::migrate::Migrator = sqlx_macros::migrate!("migrations/postgres");

/// Rows per UNNEST statement.
pub(super) const BATCH: usize = 5_000;

/// A PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    /// The connection pool.
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect_error = |source| StoreError::connect(url, source);
        let opts = PgConnectOptions::from_str(url).map_err(connect_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(options.timeout)
            .test_before_acquire(false)
            .before_acquire(super::pool::alive_after_idle)
            .connect_with(opts)
            .await
            .map_err(connect_error)?;
        Ok(Self { pool })
    }

    /// The pool, for tests and benchmarks that run SQL directly.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The plan PostgreSQL chooses for the scan's insert of `batch`'s
    /// pending reminders: the `EXPLAIN` text of the statement, which is not
    /// run. For checking plans after bulk loads.
    pub async fn explain_insert_reminders(
        &self,
        batch: &RuleOccurrences,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        reminders::explain_insert(&self.pool, batch, now).await
    }
}

impl Dialect for Postgres {
    const BACKEND: Backend = Backend::Postgres;

    /// READ COMMITTED: each statement touches only rows still in the state
    /// it expects, and the rows it must hold are locked with [`Self::FOR_UPDATE`].
    async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(pool.begin().await?)
    }

    const FOR_UPDATE: &'static str = " FOR UPDATE";

    /// Status history and receipts are partitioned by UTC month; a month's
    /// partition is made ahead of its first row (a row without one lands in
    /// the DEFAULT partition, and is moved when the partition is made).
    const PREPARE_HISTORY: &'static [&'static str] = &[
        "SELECT history_partition('reminder_events', $1)",
        "SELECT history_partition('receipts', $1)",
    ];

    /// Whole months go as one dropped partition each.
    const DROP_HISTORY_BEFORE: &'static [&'static str] = &[
        "SELECT history_drop_before('receipts', $1)",
        "SELECT history_drop_before('reminder_events', $1)",
    ];

    /// The current snapshot: a trigger stamps each participant row with its
    /// writer's transaction id, and a row was written after the mark when
    /// its writer is not visible in it (still running then, or started
    /// since). Every such writer has an id at or above the snapshot's
    /// xmin, so the index range starts there.
    const PARTICIPANT_WRITE_MARK: &'static str = "SELECT pg_current_snapshot()::text";

    const PARTICIPANTS_WRITTEN_SINCE: &'static str = "SELECT id, kelurahan_code, paid_through FROM participants \
         WHERE written_xid >= pg_snapshot_xmin($1::text::pg_snapshot) \
         AND NOT pg_visible_in_snapshot(written_xid, $1::text::pg_snapshot) LIMIT $2";

    /// A transaction-scoped advisory lock on (gateway, message id). Under
    /// READ COMMITTED a receipt that finds no send yet and the matching that
    /// follows the send's record would each miss the other's uncommitted
    /// row; both take this lock first, always before the row lock, so one
    /// of them sees the other's work.
    async fn lock_provider_id(
        tx: &mut Transaction<'static, Postgres>,
        gateway: &str,
        pid: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))")
            .bind(gateway)
            .bind(pid)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// A payment being credited to this reminder right now either commits
    /// before (and is moved) or waits and sees the reminder's new status.
    async fn lock_payer_of(tx: &mut Transaction<'static, Postgres>, reminder_id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "SELECT id FROM participants WHERE id = (SELECT participant_id FROM reminders WHERE id = $1) FOR UPDATE",
        )
        .bind(reminder_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// All tables in one statement.
    fn analyze_statements(tables: &[BulkTable]) -> Vec<String> {
        if tables.is_empty() {
            return Vec::new();
        }
        let names: Vec<&str> = tables.iter().map(|t| t.name()).collect();
        vec![format!("ANALYZE {}", names.join(", "))]
    }

    /// A `text[]` array.
    type TextList = Vec<String>;

    fn text_list<S: AsRef<str>>(items: &[S]) -> Vec<String> {
        items.iter().map(|s| s.as_ref().to_string()).collect()
    }

    /// A `bigint[]` array.
    type IdList = Vec<i64>;

    fn id_list(ids: &[i64]) -> Vec<i64> {
        ids.to_vec()
    }

    fn in_text_list(column: &str, param: u8) -> String {
        format!("{column} = ANY(${param}::text[])")
    }

    fn in_id_list(column: &str, param: u8) -> String {
        format!("{column} = ANY(${param}::bigint[])")
    }

    /// An array parameter has no practical bound: one lookup.
    const LOOKUP_KEYS: usize = usize::MAX;
}

/// Upserts kelurahan by code, batched (see [`Participants::upsert_kelurahan`]).
async fn upsert_kelurahan(pool: &PgPool, rows: &[Kelurahan]) -> Result<UpsertCounts, StoreError> {
    let mut tx = pool.begin().await?;
    let mut counts = UpsertCounts::default();
    for chunk in rows.chunks(BATCH) {
        let col = |f: fn(&Kelurahan) -> String| chunk.iter().map(f).collect::<Vec<_>>();
        let codes = col(|k| k.code.as_str().to_string());
        let existing = common_sql::count_existing(&mut tx, "kelurahan", "code", &codes).await?;
        let changed = sqlx::query(
            "INSERT INTO kelurahan (code, name, kecamatan, kabupaten_kota, provinsi, time_zone) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, kecamatan = excluded.kecamatan, \
             kabupaten_kota = excluded.kabupaten_kota, provinsi = excluded.provinsi, time_zone = excluded.time_zone \
             WHERE (kelurahan.name, kelurahan.kecamatan, kelurahan.kabupaten_kota, kelurahan.provinsi, kelurahan.time_zone) \
             IS DISTINCT FROM (excluded.name, excluded.kecamatan, excluded.kabupaten_kota, excluded.provinsi, excluded.time_zone)",
        )
        .bind(&codes)
        .bind(col(|k| k.name.clone()))
        .bind(col(|k| k.kecamatan.clone()))
        .bind(col(|k| k.kabupaten_kota.clone()))
        .bind(col(|k| k.provinsi.clone()))
        .bind(col(|k| k.time_zone.iana_name().to_string()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        counts += upsert_counts(chunk.len(), existing, changed);
    }
    tx.commit().await?;
    Ok(counts)
}

/// Upserts participants by NIK inside `tx`, batched (see
/// [`Participants::upsert_participants`]).
pub(super) async fn upsert_participants_in(
    tx: &mut Transaction<'static, Postgres>,
    rows: &[NewParticipant],
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<UpsertCounts, StoreError> {
    let now = now.timestamp();
    let mut counts = UpsertCounts::default();
    for chunk in rows.chunks(BATCH) {
        let text = |f: fn(&NewParticipant) -> String| chunk.iter().map(f).collect::<Vec<_>>();
        let opt = |f: fn(&NewParticipant) -> Option<String>| chunk.iter().map(f).collect::<Vec<_>>();
        let niks = text(|p| p.nik.as_str().to_string());
        let existing = common_sql::count_existing(tx, "participants", "nik", &niks).await?;
        let changed = sqlx::query(PARTICIPANT_UPSERT_PG)
            .bind(&niks)
            .bind(opt(|p| p.kpj.as_ref().map(|k| k.as_str().to_string())))
            .bind(text(|p| p.name.as_str().to_string()))
            .bind(opt(|p| p.phone.as_ref().map(|x| x.as_str().to_string())))
            .bind(opt(|p| p.email.as_ref().map(|x| x.as_str().to_string())))
            .bind(text(|p| p.kelurahan.as_str().to_string()))
            .bind(text(|p| p.segment.as_str().to_string()))
            .bind(text(|p| p.funding.as_str().to_string()))
            .bind(chunk.iter().map(|p| p.monthly_amount.amount()).collect::<Vec<i64>>())
            .bind(chunk.iter().map(|p| p.start_month.index()).collect::<Vec<i32>>())
            .bind(chunk.iter().map(|p| p.paid_through.index()).collect::<Vec<i32>>())
            .bind(text(|p| p.preferred_channel.as_str().to_string()))
            .bind(chunk.iter().map(|p| p.opted_out).collect::<Vec<bool>>())
            .bind(now)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        counts += upsert_counts(chunk.len(), existing, changed);
        progress.advance(chunk.len() as u64);
    }
    Ok(counts)
}

const PARTICIPANT_UPSERT_PG: &str = "INSERT INTO participants (nik, kpj, name, phone, email, kelurahan_code, \
     segment, funding, monthly_amount, start_month, paid_through, preferred_channel, opted_out, created_at, updated_at) \
     SELECT n, k, nm, ph, em, kc, sg, fd, ma, sm, pt, pc, oo, $14, $14 FROM UNNEST($1::text[], $2::text[], \
     $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::int[], $11::int[], \
     $12::text[], $13::bool[]) AS t(n, k, nm, ph, em, kc, sg, fd, ma, sm, pt, pc, oo) \
     ON CONFLICT (nik) DO UPDATE SET kpj = excluded.kpj, name = excluded.name, phone = excluded.phone, \
     email = excluded.email, kelurahan_code = excluded.kelurahan_code, segment = excluded.segment, \
     funding = excluded.funding, monthly_amount = excluded.monthly_amount, start_month = excluded.start_month, \
     paid_through = GREATEST(participants.paid_through, excluded.paid_through), \
     preferred_channel = excluded.preferred_channel, opted_out = participants.opted_out OR excluded.opted_out, updated_at = excluded.updated_at, \
     contact_changed_at = CASE WHEN (participants.phone, participants.email) IS DISTINCT FROM (excluded.phone, excluded.email) \
     THEN excluded.updated_at ELSE participants.contact_changed_at END \
     WHERE (participants.kpj, participants.name, participants.phone, participants.email, participants.kelurahan_code, \
     participants.segment, participants.funding, participants.monthly_amount, participants.start_month, \
     participants.paid_through, participants.preferred_channel, participants.opted_out) \
     IS DISTINCT FROM (excluded.kpj, excluded.name, excluded.phone, excluded.email, excluded.kelurahan_code, \
     excluded.segment, excluded.funding, excluded.monthly_amount, excluded.start_month, \
     GREATEST(participants.paid_through, excluded.paid_through), excluded.preferred_channel, participants.opted_out OR excluded.opted_out)";

/// The coordinator digest's SQL.
mod digest;
