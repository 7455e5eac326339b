//! An import's write transaction on PostgreSQL (see [`ImportTx`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

use super::{PARTICIPANT_COLUMNS, PAYMENTS_BY_REF_PG, payments, upsert_participants_in};
use crate::domain::{ExternalRef, NewParticipant, NewPayment, Nik};
use crate::store::{
    ImportTx, ParticipantRecord, PaymentBatch, PaymentOutcome, Progress, StoreError, StoredPayment, UpsertCounts,
};

/// A transaction held for one import.
pub(super) struct PgImport {
    tx: Transaction<'static, Postgres>,
}

impl PgImport {
    /// Opens the transaction of an import.
    pub(super) async fn begin(pool: &PgPool) -> Result<Self, StoreError> {
        Ok(Self {
            tx: pool.begin().await?,
        })
    }

    async fn participants_where(
        &mut self,
        column: &str,
        keys: Vec<&str>,
    ) -> Result<Vec<ParticipantRecord>, StoreError> {
        let sql = format!("SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE {column} = ANY($1) ORDER BY id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(keys)
            .fetch_all(&mut *self.tx)
            .await?)
    }
}

#[async_trait]
impl ImportTx for PgImport {
    async fn participants_by_nik(&mut self, niks: &[Nik]) -> Result<Vec<ParticipantRecord>, StoreError> {
        self.participants_where("nik", niks.iter().map(Nik::as_str).collect())
            .await
    }

    async fn participants_by_kpj(&mut self, kpjs: &[String]) -> Result<Vec<ParticipantRecord>, StoreError> {
        self.participants_where("kpj", kpjs.iter().map(String::as_str).collect())
            .await
    }

    async fn payments_by_ref(&mut self, refs: &[ExternalRef]) -> Result<Vec<StoredPayment>, StoreError> {
        let refs: Vec<&str> = refs.iter().map(ExternalRef::as_str).collect();
        Ok(sqlx::query_as(PAYMENTS_BY_REF_PG)
            .bind(refs)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    async fn upsert_participants(
        &mut self,
        rows: &[NewParticipant],
        now: DateTime<Utc>,
        progress: &dyn Progress,
    ) -> Result<UpsertCounts, StoreError> {
        upsert_participants_in(&mut self.tx, rows, now, progress).await
    }

    async fn record_payments(
        &mut self,
        rows: &[NewPayment],
        batch: &PaymentBatch,
        progress: &dyn Progress,
    ) -> Result<Vec<PaymentOutcome>, StoreError> {
        payments::record_in(&mut self.tx, rows, batch, progress).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }
}
