//! An import's write transaction (see [`ImportTx`]), written once: it holds
//! the dialect's write transaction (`BEGIN IMMEDIATE` on SQLite, so the
//! import holds the write lock from its first read; READ COMMITTED on
//! PostgreSQL, the payers locked as each batch of payments is recorded) and
//! calls the backend's own bulk upsert (`upsert_participants_in`) and the
//! shared payment queries.
//!
//! [`ImportTx`]: crate::store::ImportTx

/// Defines `$name`, the [`ImportTx`](crate::store::ImportTx) of the database
/// type `$db`, in a backend's `import_tx` module: its parent provides
/// `upsert_participants_in` and the `payments` module.
macro_rules! import_tx {
    ($name:ident, $db:ty) => {
        use async_trait::async_trait;
        use chrono::{DateTime, Utc};

        use super::{payments, upsert_participants_in};
        use crate::domain::{ExternalRef, NewParticipant, NewPayment, Nik};
        use crate::store::common::Dialect;
        use crate::store::{
            ImportTx, ParticipantRecord, PaymentBatch, PaymentOutcome, Progress, StoreError, StoredPayment,
            UpsertCounts,
        };

        /// The write transaction held for one import.
        pub(super) struct $name {
            tx: sqlx::Transaction<'static, $db>,
        }

        impl $name {
            /// Begins the write transaction of an import.
            pub(super) async fn begin(pool: &sqlx::Pool<$db>) -> Result<Self, StoreError> {
                Ok(Self {
                    tx: <$db as Dialect>::begin_write(pool).await?,
                })
            }
        }

        #[async_trait]
        impl ImportTx for $name {
            async fn participants_by_nik(&mut self, niks: &[Nik]) -> Result<Vec<ParticipantRecord>, StoreError> {
                let niks: Vec<&str> = niks.iter().map(Nik::as_str).collect();
                payments::participants_where(&mut *self.tx, "nik", &niks).await
            }

            async fn participants_by_kpj(&mut self, kpjs: &[String]) -> Result<Vec<ParticipantRecord>, StoreError> {
                let kpjs: Vec<&str> = kpjs.iter().map(String::as_str).collect();
                payments::participants_where(&mut *self.tx, "kpj", &kpjs).await
            }

            async fn payments_by_ref(&mut self, refs: &[ExternalRef]) -> Result<Vec<StoredPayment>, StoreError> {
                let refs: Vec<&str> = refs.iter().map(ExternalRef::as_str).collect();
                payments::payments_by_ref(&mut *self.tx, &refs).await
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
    };
}

pub(crate) use import_tx;
