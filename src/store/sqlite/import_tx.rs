//! An import's write transaction on SQLite (see [`ImportTx`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{PARTICIPANT_COLUMNS, PAYMENTS_BY_REF_SQLITE, begin_write, json_list, payments, upsert_participants_in};
use crate::domain::{ExternalRef, NewParticipant, NewPayment, Nik};
use crate::store::{
    ImportTx, ParticipantRecord, PaymentBatch, PaymentOutcome, Progress, StoreError, StoredPayment, UpsertCounts,
};

/// How many keys one lookup binds (SQLite binds them as one JSON list).
const LOOKUP: usize = 10_000;

/// A `BEGIN IMMEDIATE` transaction held for one import.
pub(super) struct SqliteImport {
    tx: Transaction<'static, Sqlite>,
}

impl SqliteImport {
    /// Takes the write lock for an import.
    pub(super) async fn begin(pool: &SqlitePool) -> Result<Self, StoreError> {
        Ok(Self {
            tx: begin_write(pool).await?,
        })
    }

    async fn participants_where(&mut self, column: &str, keys: &[&str]) -> Result<Vec<ParticipantRecord>, StoreError> {
        let sql = format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE {column} IN (SELECT value FROM json_each($1)) ORDER BY id"
        );
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(LOOKUP) {
            out.extend(
                sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(json_list(chunk))
                    .fetch_all(&mut *self.tx)
                    .await?,
            );
        }
        Ok(out)
    }
}

#[async_trait]
impl ImportTx for SqliteImport {
    async fn participants_by_nik(&mut self, niks: &[Nik]) -> Result<Vec<ParticipantRecord>, StoreError> {
        let niks: Vec<&str> = niks.iter().map(Nik::as_str).collect();
        self.participants_where("nik", &niks).await
    }

    async fn participants_by_kpj(&mut self, kpjs: &[String]) -> Result<Vec<ParticipantRecord>, StoreError> {
        let kpjs: Vec<&str> = kpjs.iter().map(String::as_str).collect();
        self.participants_where("kpj", &kpjs).await
    }

    async fn payments_by_ref(&mut self, refs: &[ExternalRef]) -> Result<Vec<StoredPayment>, StoreError> {
        let refs: Vec<&str> = refs.iter().map(ExternalRef::as_str).collect();
        let mut out = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(LOOKUP) {
            out.extend(
                sqlx::query_as(PAYMENTS_BY_REF_SQLITE)
                    .bind(json_list(chunk))
                    .fetch_all(&mut *self.tx)
                    .await?,
            );
        }
        Ok(out)
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
