//! What both backends run alike, written once: SQL that means the same on
//! SQLite and PostgreSQL (`$n` placeholders work on both drivers), expanded
//! by [`common_queries`] over each backend's database type, and the
//! [`Dialect`] seam for the few places where the two differ inside otherwise
//! shared code: how a writing transaction begins, which rows it locks, how
//! statistics are refreshed, how a list is bound (an array on PostgreSQL, a
//! JSON array read with `json_each` on SQLite). The other shared query sets
//! stand next to their SQL: [`super::outcomes`], [`super::reminders`] and
//! [`super::occurrence_sql`] (the scan), [`super::digest_sql`],
//! [`super::receipt_sql`] (receipts and opt-out), [`super::payment_sql`] and
//! [`super::import_tx`]; the role impls both share are in
//! [`super::delegate`] and [`super::backend_roles`].
//!
//! What differs in meaning stays in each backend's own module: claiming and
//! leasing reminders, bulk writes and upserts, and binding lists of rows
//! (the scan's occurrences, a dispatch's outcomes).

use std::future::Future;

use sqlx::{Pool, Transaction};

use super::{Backend, BulkTable, Kelurahan, StoreError, UpsertCounts};
use crate::domain::{Channel, KelurahanCode};

/// What a backend's database does its own way where the rest of a query
/// path is shared.
pub(crate) trait Dialect: sqlx::Database {
    /// Which backend this is.
    const BACKEND: Backend;

    /// A transaction that reads then writes.
    fn begin_write(pool: &Pool<Self>) -> impl Future<Output = Result<Transaction<'static, Self>, StoreError>> + Send;

    /// Appended to a `SELECT` whose rows the transaction goes on to change:
    /// locks them until it ends.
    const FOR_UPDATE: &'static str;

    /// Serialises, until the transaction ends, work on one (gateway,
    /// provider message id): a receipt that finds no send yet and the
    /// matching that follows the send's record.
    fn lock_provider_id(
        tx: &mut Transaction<'static, Self>,
        gateway: &str,
        provider_message_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Locks the participant reminder `reminder_id` went to, as recording
    /// a payment locks its payer, before the reminder's credit moves.
    fn lock_payer_of(
        tx: &mut Transaction<'static, Self>,
        reminder_id: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The statements, each taking a month's first instant as `$1`, that
    /// make the history tables ready for that month's rows.
    const PREPARE_HISTORY: &'static [&'static str];

    /// The statements, each taking the cutoff instant as `$1`, that drop
    /// status history and receipts from before it.
    const DROP_HISTORY_BEFORE: &'static [&'static str];

    /// Returns a mark in the participants' write history (as text): a
    /// participant written after the statement reads as written at or after
    /// the mark (see `scan::memo`).
    const PARTICIPANT_WRITE_MARK: &'static str;

    /// The id, kelurahan and paid-through month of the participants written
    /// at or after the mark bound to `$1`, at most `$2` of them.
    const PARTICIPANTS_WRITTEN_SINCE: &'static str;

    /// The statements, run in order on one connection, that refresh the
    /// planner statistics of `tables` (none when it is empty).
    fn analyze_statements(tables: &[BulkTable]) -> Vec<String>;

    /// A list of texts bound as one parameter.
    type TextList;

    /// `items` as one [`Self::TextList`] parameter.
    fn text_list<S: AsRef<str>>(items: &[S]) -> Self::TextList;

    /// A list of row ids bound as one parameter.
    type IdList;

    /// `ids` as one [`Self::IdList`] parameter.
    fn id_list(ids: &[i64]) -> Self::IdList;

    /// A condition true when `column` is one of the texts bound to `$param`.
    fn in_text_list(column: &str, param: u8) -> String;

    /// A condition true when `column` is one of the ids bound to `$param`.
    fn in_id_list(column: &str, param: u8) -> String;

    /// How many keys one lookup binds at most; a longer list is looked up
    /// in parts, each part's rows in its own order.
    const LOOKUP_KEYS: usize;
}

/// A channel column (`sms`, `email`) decodes to its [`Channel`] on either
/// backend; the schema's CHECK allows no other value.
impl<DB: sqlx::Database> sqlx::Type<DB> for Channel
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for Channel
where
    &'r str: sqlx::Decode<'r, DB>,
{
    fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
        Ok(text.parse::<Channel>()?)
    }
}

/// `sql` with [`Dialect::FOR_UPDATE`] appended.
pub(crate) fn for_update<DB: Dialect>(sql: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("{sql}{}", DB::FOR_UPDATE))
}

/// The columns of [`super::ParticipantRecord`].
pub(crate) const PARTICIPANT_COLUMNS: &str = "id, nik, kpj, name, phone, email, kelurahan_code, segment, funding, \
     monthly_amount, start_month, paid_through, preferred_channel, opted_out";

/// Inserted, updated and unchanged rows of one batch, from the number of
/// rows that existed before and the number the statement changed.
pub(crate) fn upsert_counts(batch: usize, existing: u64, changed: u64) -> UpsertCounts {
    let inserted = batch as u64 - existing;
    let updated = changed.saturating_sub(inserted);
    UpsertCounts {
        inserted,
        updated,
        unchanged: existing - updated,
    }
}

/// A kelurahan row as stored.
#[derive(sqlx_macros::FromRow)]
pub(crate) struct StoredKelurahan {
    code: String,
    name: String,
    kecamatan: String,
    kabupaten_kota: String,
    provinsi: String,
    time_zone: String,
}

impl StoredKelurahan {
    /// The kelurahan, or `None` for a row no valid import could have written.
    pub(crate) fn into_kelurahan(self) -> Option<Kelurahan> {
        Some(Kelurahan {
            code: KelurahanCode::parse(&self.code).ok()?,
            name: self.name,
            kecamatan: self.kecamatan,
            kabupaten_kota: self.kabupaten_kota,
            provinsi: self.provinsi,
            time_zone: self.time_zone.parse().ok()?,
        })
    }
}

/// Expands, over the database type `$db`, the queries whose SQL and
/// handling are the same on both backends; each backend's role
/// implementations delegate to them.
macro_rules! common_queries {
    ($db:ty) => {
        use chrono::{DateTime, Utc};
        use sqlx::Pool;

        use crate::store::common::{Dialect, StoredKelurahan};
        use crate::store::{
            BulkTable, Kelurahan, PaidThroughCount, SegmentCounts, StoreError, WriteMark, WrittenParticipant,
        };

        /// Checks that the database answers.
        pub(super) async fn ping(pool: &Pool<$db>) -> Result<(), StoreError> {
            sqlx::query("SELECT 1").execute(pool).await?;
            Ok(())
        }

        /// Refreshes the planner statistics of `tables`.
        pub(super) async fn analyze(pool: &Pool<$db>, tables: &[BulkTable]) -> Result<(), StoreError> {
            let statements = <$db as Dialect>::analyze_statements(tables);
            if statements.is_empty() {
                return Ok(());
            }
            let mut conn = pool.acquire().await?;
            for sql in statements {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// This database's deployment id.
        pub(super) async fn deployment_id(pool: &Pool<$db>) -> Result<String, StoreError> {
            let (id,): (String,) = sqlx::query_as("SELECT id FROM deployment ORDER BY created_at, id LIMIT 1")
                .fetch_one(pool)
                .await?;
            Ok(id)
        }

        /// How many rows of `table` have their `column` in `keys`: the rows an
        /// upsert of `keys` updates rather than inserts.
        pub(super) async fn count_existing<S: AsRef<str>>(
            conn: &mut <$db as sqlx::Database>::Connection,
            table: &str,
            column: &str,
            keys: &[S],
        ) -> Result<u64, StoreError> {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE {}", <$db as Dialect>::in_text_list(column, 1));
            let (existing,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(<$db as Dialect>::text_list(keys))
                .fetch_one(conn)
                .await?;
            Ok(existing as u64)
        }

        /// Every kelurahan, ordered by code.
        pub(super) async fn list_kelurahan(pool: &Pool<$db>) -> Result<Vec<Kelurahan>, StoreError> {
            let rows: Vec<StoredKelurahan> = sqlx::query_as(
                "SELECT code, name, kecamatan, kabupaten_kota, provinsi, time_zone FROM kelurahan ORDER BY code",
            )
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .filter_map(StoredKelurahan::into_kelurahan)
                .collect())
        }

        /// BPU participants per kelurahan under `prefix` and paid-through month.
        pub(super) async fn paid_through_histogram(
            pool: &Pool<$db>,
            prefix: Option<&str>,
        ) -> Result<Vec<PaidThroughCount>, StoreError> {
            Ok(sqlx::query_as(
                "SELECT kelurahan_code, paid_through, COUNT(*) AS participants FROM participants \
                 WHERE segment = 'bpu' AND kelurahan_code LIKE $1 || '%' \
                 GROUP BY kelurahan_code, paid_through ORDER BY kelurahan_code, paid_through",
            )
            .bind(prefix.unwrap_or(""))
            .fetch_all(pool)
            .await?)
        }

        /// Participants per segment.
        pub(super) async fn segment_counts(pool: &Pool<$db>) -> Result<SegmentCounts, StoreError> {
            let (bpu, pu): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*) FILTER (WHERE segment = 'bpu'), COUNT(*) FILTER (WHERE segment = 'pu') FROM participants",
            )
            .fetch_one(pool)
            .await?;
            Ok(SegmentCounts { bpu, pu })
        }

        /// A mark in the participants' write history, taken now.
        pub(super) async fn participant_write_mark(pool: &Pool<$db>) -> Result<WriteMark, StoreError> {
            let (mark,): (String,) = sqlx::query_as(<$db as Dialect>::PARTICIPANT_WRITE_MARK)
                .fetch_one(pool)
                .await?;
            Ok(WriteMark(mark))
        }

        /// How many batches of reminders retention has deleted, ever.
        pub(super) async fn reminder_deletions(pool: &Pool<$db>) -> Result<i64, StoreError> {
            let (n,): (i64,) = sqlx::query_as("SELECT generation FROM reminder_deletions")
                .fetch_one(pool)
                .await?;
            Ok(n)
        }

        /// The participants written at or after `mark`; `None` when there are more than `limit`.
        pub(super) async fn participants_written_since(
            pool: &Pool<$db>,
            mark: &WriteMark,
            limit: u32,
        ) -> Result<Option<Vec<WrittenParticipant>>, StoreError> {
            let rows: Vec<WrittenParticipant> = sqlx::query_as(<$db as Dialect>::PARTICIPANTS_WRITTEN_SINCE)
                .bind(&mark.0)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await?;
            Ok((rows.len() <= limit as usize).then_some(rows))
        }

        /// When the last recorded scan started (Unix seconds), if any.
        pub(super) async fn last_scan_started_at(pool: &Pool<$db>) -> Result<Option<i64>, StoreError> {
            let (t,): (Option<i64>,) = sqlx::query_as("SELECT MAX(started_at) FROM scans")
                .fetch_one(pool)
                .await?;
            Ok(t)
        }

        /// Registers `name` as alive at `now` (again, if it was taken for gone).
        pub(super) async fn register_dispatcher(
            pool: &Pool<$db>,
            name: &str,
            now: DateTime<Utc>,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO dispatchers (name, started_at, heartbeat_at) VALUES ($1, $2, $2) \
                 ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            )
            .bind(name)
            .bind(now.timestamp())
            .execute(pool)
            .await?;
            Ok(())
        }

        /// One heartbeat: renews every claim of `name`. `false` when its
        /// registration was gone (its claims were released); it is registered again.
        pub(super) async fn heartbeat_dispatcher(
            pool: &Pool<$db>,
            name: &str,
            now: DateTime<Utc>,
        ) -> Result<bool, StoreError> {
            let renewed = sqlx::query("UPDATE dispatchers SET heartbeat_at = $2 WHERE name = $1")
                .bind(name)
                .bind(now.timestamp())
                .execute(pool)
                .await?
                .rows_affected();
            if renewed == 0 {
                register_dispatcher(pool, name, now).await?;
            }
            Ok(renewed > 0)
        }

        /// Removes `name`'s registration.
        pub(super) async fn deregister_dispatcher(pool: &Pool<$db>, name: &str) -> Result<(), StoreError> {
            sqlx::query("DELETE FROM dispatchers WHERE name = $1")
                .bind(name)
                .execute(pool)
                .await?;
            Ok(())
        }
    };
}

pub(crate) use common_queries;
