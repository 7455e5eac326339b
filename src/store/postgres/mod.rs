//! The PostgreSQL backend: for large deployments and several daemons on one
//! database. Bulk writes bind whole columns as arrays and `UNNEST` them, so a
//! batch of thousands of rows is one statement and one round trip.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::str::FromStr;

mod dispatch;
mod import_tx;
mod payments;

/// The outcome and inbox queries, over this backend's pool.
mod outcome_sql {
    crate::store::outcomes::outcome_queries!(sqlx::PgPool);
}
/// The contact-verification list's query, over this backend's pool.
mod contact_sql {
    crate::store::contacts::contact_queries!(sqlx::PgPool);
}
mod receipts;
mod reminders;

/// The holdout group's queries, over this backend's database.
mod holdout_sql {
    crate::store::holdout::holdout_queries!(sqlx::Postgres);
}

/// The queries both backends run alike, over this backend's database.
mod common_sql {
    crate::store::common::common_queries!(sqlx::Postgres);
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
        let connect_error = |source| StoreError::Connect {
            url: redact_url(url),
            source,
        };
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
}

#[async_trait]
impl Maintenance for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        // The migrator takes an advisory lock, so daemons starting together are safe.
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
impl Participants for PgStore {
    async fn upsert_kelurahan(&self, rows: &[Kelurahan]) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut counts = UpsertCounts::default();
        for chunk in rows.chunks(BATCH) {
            let col = |f: fn(&Kelurahan) -> String| chunk.iter().map(f).collect::<Vec<_>>();
            let codes = col(|k| k.code.as_str().to_string());
            let (existing,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM kelurahan WHERE code = ANY($1)")
                .bind(&codes)
                .fetch_one(&mut *tx)
                .await?;
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
        let mut tx = self.pool.begin().await?;
        let counts = upsert_participants_in(&mut tx, rows, now, progress).await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError> {
        Ok(Box::new(import_tx::PgImport::begin(&self.pool).await?))
    }

    async fn participants_by_nik(&self, niks: &[Nik]) -> Result<Vec<ParticipantRecord>, StoreError> {
        let niks: Vec<&str> = niks.iter().map(Nik::as_str).collect();
        let sql = format!("SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE nik = ANY($1) ORDER BY id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(niks)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn participants_by_kpj(&self, kpjs: &[String]) -> Result<Vec<ParticipantRecord>, StoreError> {
        let sql = format!("SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE kpj = ANY($1) ORDER BY id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(kpjs)
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
impl Payments for PgStore {
    async fn payments_by_ref(&self, refs: &[ExternalRef]) -> Result<Vec<StoredPayment>, StoreError> {
        let refs: Vec<&str> = refs.iter().map(ExternalRef::as_str).collect();
        Ok(sqlx::query_as(PAYMENTS_BY_REF_PG)
            .bind(refs)
            .fetch_all(&self.pool)
            .await?)
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

crate::store::delegate::delegate_roles!(PgStore);
crate::store::snapshots::snapshot_role!(PgStore, sqlx::Postgres);
crate::store::retention::retention_role!(PgStore, sqlx::Postgres);

#[async_trait]
impl Reports for PgStore {
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
            "SELECT COUNT(*) FILTER (WHERE segment = 'bpu'), COUNT(*) FILTER (WHERE segment = 'pu') FROM participants",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(SegmentCounts { bpu, pu })
    }
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
        let (existing,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM participants WHERE nik = ANY($1)")
            .bind(&niks)
            .fetch_one(&mut **tx)
            .await?;
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
        counts += upsert_counts(chunk.len(), existing as u64, changed);
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

pub(super) const PAYMENTS_BY_REF_PG: &str = "SELECT y.external_ref, y.participant_id, p.nik, y.amount, y.months, \
     y.first_month, y.last_month, y.paid_at FROM payments y JOIN participants p ON p.id = y.participant_id \
     WHERE y.external_ref = ANY($1)";

/// The coordinator digest's SQL.
mod digest;
