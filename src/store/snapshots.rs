//! Monthly standing snapshots: per kelurahan and month, the BPU
//! participants, active and non-active, and 1, 2 and 3+ months in arrears
//! at the month's end in the kelurahan's time zone.
//!
//! One row per kelurahan and month, whichever instance writes it first: the
//! insert is `ON CONFLICT DO NOTHING` on the primary key, so two daemons
//! taking the same month leave one row and a written month never changes.
//! The SQL means the same on SQLite and PostgreSQL, so [`snapshot_role`]
//! expands the role's implementation in each backend.

use async_trait::async_trait;

use super::StoreError;

/// Standing of one kelurahan at the end of one month.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct StandingSnapshot {
    /// The kelurahan's code.
    pub kelurahan_code: String,
    /// The month (`year * 12 + month - 1`, as [`crate::domain::ContributionMonth`]).
    pub month: i32,
    /// BPU participants.
    pub participants: i64,
    /// Active ones.
    pub active: i64,
    /// Non-active ones.
    pub nonactive: i64,
    /// Exactly one month in arrears.
    pub arrears_1: i64,
    /// Exactly two months in arrears.
    pub arrears_2: i64,
    /// Three or more months in arrears.
    pub arrears_3_plus: i64,
    /// The instant standing was taken at: the month's end in the
    /// kelurahan's time zone (Unix seconds).
    pub month_end_at: i64,
    /// When the row was written (Unix seconds).
    pub taken_at: i64,
    /// Taken later from the payment history, not right after the month's end.
    pub rebuilt: bool,
}

/// One (kelurahan, month) that has a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx_macros::FromRow)]
pub struct SnapshotKey {
    /// The kelurahan's code.
    pub kelurahan_code: String,
    /// The month index.
    pub month: i32,
}

/// The snapshots of standing.
#[async_trait]
pub trait Snapshots: Send + Sync + std::fmt::Debug {
    /// Writes the rows in one transaction; a (kelurahan, month) that has a
    /// row already keeps it. Returns how many rows were written.
    async fn insert_snapshots(&self, rows: &[StandingSnapshot]) -> Result<u64, StoreError>;

    /// Every (kelurahan, month) with a snapshot, by code then month.
    async fn snapshot_keys(&self) -> Result<Vec<SnapshotKey>, StoreError>;

    /// The snapshots of months `from..=to` (month indexes) of kelurahan
    /// under `prefix` (all when `None`), by month then code.
    async fn snapshots_between(
        &self,
        from: i32,
        to: i32,
        prefix: Option<&str>,
    ) -> Result<Vec<StandingSnapshot>, StoreError>;
}

/// The columns of a snapshot row, in [`StandingSnapshot`]'s order.
pub const SNAPSHOT_COLUMNS: &str = "kelurahan_code, month, participants, active, nonactive, arrears_1, arrears_2, \
     arrears_3_plus, month_end_at, taken_at, rebuilt";

/// The head of the multi-row insert, the columns in [`SNAPSHOT_COLUMNS`]' order.
pub const INSERT_SQL: &str = "INSERT INTO standing_snapshots (kelurahan_code, month, participants, active, nonactive, \
     arrears_1, arrears_2, arrears_3_plus, month_end_at, taken_at, rebuilt) ";

/// Rows per multi-row INSERT: 11 columns × 500 stays well under SQLite's
/// bound-parameter limit.
pub const INSERT_BATCH: usize = 500;

/// Implements [`Snapshots`] for `$store` (a struct with a `pool` of
/// database `$db`, whose `Dialect` begins its write transactions).
macro_rules! snapshot_role {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::store::snapshots::Snapshots for $store {
            async fn insert_snapshots(
                &self,
                rows: &[crate::store::snapshots::StandingSnapshot],
            ) -> Result<u64, crate::store::StoreError> {
                use crate::store::snapshots::{INSERT_BATCH, INSERT_SQL};
                if rows.is_empty() {
                    return Ok(0);
                }
                let mut tx = <$db as crate::store::common::Dialect>::begin_write(&self.pool).await?;
                let mut written = 0;
                for chunk in rows.chunks(INSERT_BATCH) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(INSERT_SQL);
                    q.push_values(chunk, |mut b, r| {
                        b.push_bind(r.kelurahan_code.clone())
                            .push_bind(r.month)
                            .push_bind(r.participants)
                            .push_bind(r.active)
                            .push_bind(r.nonactive)
                            .push_bind(r.arrears_1)
                            .push_bind(r.arrears_2)
                            .push_bind(r.arrears_3_plus)
                            .push_bind(r.month_end_at)
                            .push_bind(r.taken_at)
                            .push_bind(r.rebuilt);
                    });
                    q.push(" ON CONFLICT (kelurahan_code, month) DO NOTHING");
                    written += q.build().execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(written)
            }

            async fn snapshot_keys(
                &self,
            ) -> Result<Vec<crate::store::snapshots::SnapshotKey>, crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT kelurahan_code, month FROM standing_snapshots ORDER BY kelurahan_code, month",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn snapshots_between(
                &self,
                from: i32,
                to: i32,
                prefix: Option<&str>,
            ) -> Result<Vec<crate::store::snapshots::StandingSnapshot>, crate::store::StoreError> {
                use crate::store::snapshots::SNAPSHOT_COLUMNS;
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {SNAPSHOT_COLUMNS} FROM standing_snapshots \
                     WHERE month BETWEEN $1 AND $2 AND kelurahan_code LIKE $3 || '%' \
                     ORDER BY month, kelurahan_code"
                )))
                .bind(from)
                .bind(to)
                .bind(prefix.unwrap_or(""))
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

pub(crate) use snapshot_role;
