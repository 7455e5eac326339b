//! The role impls of [`Maintenance`], [`Participants`], [`Payments`] and
//! [`Reports`] that are the same on both backends: each method calls the
//! shared queries expanded in the backend (`common_sql`, `outcome_sql`,
//! `contact_sql`, `holdout_sql`, `payments`, `receipts`) or, for a bulk
//! upsert, the backend's own function of the same name.
//!
//! [`Maintenance`]: crate::store::Maintenance
//! [`Participants`]: crate::store::Participants
//! [`Payments`]: crate::store::Payments
//! [`Reports`]: crate::store::Reports

/// Implements the roles above for `$store` over the database type `$db`.
/// The calling module provides `MIGRATOR`, `upsert_kelurahan`,
/// `upsert_participants_in` and the `import_tx` module.
macro_rules! backend_roles {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl Maintenance for $store {
            fn backend(&self) -> Backend {
                <$db as Dialect>::BACKEND
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

        #[async_trait::async_trait]
        impl Participants for $store {
            async fn upsert_kelurahan(&self, rows: &[Kelurahan]) -> Result<UpsertCounts, StoreError> {
                upsert_kelurahan(&self.pool, rows).await
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
                let mut tx = <$db as Dialect>::begin_write(&self.pool).await?;
                let counts = upsert_participants_in(&mut tx, rows, now, progress).await?;
                tx.commit().await?;
                Ok(counts)
            }

            async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError> {
                Ok(Box::new(import_tx::Import::begin(&self.pool).await?))
            }

            async fn participants_by_nik(&self, niks: &[Nik]) -> Result<Vec<ParticipantRecord>, StoreError> {
                let niks: Vec<&str> = niks.iter().map(Nik::as_str).collect();
                let mut conn = self.pool.acquire().await?;
                payments::participants_where(&mut *conn, "nik", &niks).await
            }

            async fn participants_by_kpj(&self, kpjs: &[String]) -> Result<Vec<ParticipantRecord>, StoreError> {
                let kpjs: Vec<&str> = kpjs.iter().map(String::as_str).collect();
                let mut conn = self.pool.acquire().await?;
                payments::participants_where(&mut *conn, "kpj", &kpjs).await
            }

            async fn set_opt_out_by_nik(
                &self,
                nik: &Nik,
                opted_out: bool,
                now: DateTime<Utc>,
            ) -> Result<Option<OptOutChange>, StoreError> {
                // A NIK is unique: one participant at most.
                let changes = receipts::set_opt_out(&self.pool, OptOutBy::Nik(nik), opted_out, now).await?;
                Ok(changes.into_iter().next())
            }

            async fn opt_out_by_phone(
                &self,
                phone: &PhoneNumber,
                now: DateTime<Utc>,
            ) -> Result<Vec<OptOutChange>, StoreError> {
                receipts::set_opt_out(&self.pool, OptOutBy::Phone(phone), true, now).await
            }

            async fn opt_in_by_phone(
                &self,
                phone: &PhoneNumber,
                now: DateTime<Utc>,
            ) -> Result<Vec<OptOutChange>, StoreError> {
                receipts::set_opt_out(&self.pool, OptOutBy::Phone(phone), false, now).await
            }
        }

        #[async_trait::async_trait]
        impl Payments for $store {
            async fn payments_by_ref(&self, refs: &[ExternalRef]) -> Result<Vec<StoredPayment>, StoreError> {
                let refs: Vec<&str> = refs.iter().map(ExternalRef::as_str).collect();
                let mut conn = self.pool.acquire().await?;
                payments::payments_by_ref(&mut *conn, &refs).await
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

        #[async_trait::async_trait]
        impl Reports for $store {
            async fn reminder_outcomes(&self, filter: &OutcomeFilter) -> Result<Vec<OutcomeCounts>, StoreError> {
                outcome_sql::by_filter(&self.pool, OUTCOME_COUNTS_SQL, filter).await
            }

            async fn attributed_payments(&self, filter: &OutcomeFilter) -> Result<Vec<AttributedPayment>, StoreError> {
                outcome_sql::by_filter(&self.pool, ATTRIBUTED_PAYMENTS_SQL, filter).await
            }

            async fn bpu_payments_since(&self, since: i64) -> Result<Vec<PaymentSince>, StoreError> {
                outcome_sql::bpu_payments_since(&self.pool, since).await
            }

            async fn paid_through_histogram(&self, prefix: Option<&str>) -> Result<Vec<PaidThroughCount>, StoreError> {
                common_sql::paid_through_histogram(&self.pool, prefix).await
            }

            async fn contact_check_rows(
                &self,
                prefix: Option<&str>,
            ) -> Result<Vec<crate::store::ContactCheckRow>, StoreError> {
                contact_sql::contact_check_rows(&self.pool, prefix).await
            }

            async fn effect_rows(&self, rules: &[String]) -> Result<Vec<crate::store::holdout::EffectRow>, StoreError> {
                holdout_sql::effect_rows(&self.pool, rules).await
            }

            async fn segment_counts(&self) -> Result<SegmentCounts, StoreError> {
                common_sql::segment_counts(&self.pool).await
            }
        }
    };
}

/// Expands in a backend's `mod.rs` everything both backends share over
/// that backend's database type `$db`: the shared query modules, the import
/// transaction, and in `roles` the role impls of `$store` ([`backend_roles`],
/// `delegate_roles`, `snapshot_role`), which see the backend's own modules
/// and functions through `super`.
macro_rules! shared_backend {
    ($store:ty, $db:ty) => {
        /// The outcome and inbox queries, over this backend's pool.
        mod outcome_sql {
            crate::store::outcomes::outcome_queries!($db);
        }

        /// The contact-verification list's query, over this backend's pool.
        mod contact_sql {
            crate::store::contacts::contact_queries!(sqlx::Pool<$db>);
        }

        /// The holdout group's queries, over this backend's database.
        mod holdout_sql {
            crate::store::holdout::holdout_queries!($db);
        }

        /// The queries both backends run alike, over this backend's database.
        mod common_sql {
            crate::store::common::common_queries!($db);
        }

        /// An import's write transaction.
        mod import_tx {
            crate::store::import_tx::import_tx!(Import, $db);
        }

        /// The role impls both backends share.
        mod roles {
            use chrono::{DateTime, Utc};

            use super::*;
            use crate::domain::{Channel, ExternalRef, NewParticipant, NewPayment, Nik, PhoneNumber};
            use crate::store::common::Dialect;
            use crate::store::delivery_state::{NewReceipt, OptOutBy, OptOutChange, ReceiptOutcome};
            use crate::store::outcomes::{
                ATTRIBUTED_PAYMENTS_SQL, AttributedPayment, InboxFileRecord, OUTCOME_COUNTS_SQL, OutcomeCounts,
                OutcomeFilter, PaymentSince,
            };
            use crate::store::shared::{PaymentBatch, PaymentOutcome, StoredPayment};
            use crate::store::{
                AttemptOutcome, Backend, BehindParticipant, BulkTable, ClaimedReminder, Delivery, DigestClaim,
                DigestOutcome, DigestRecord, Digests, ImportTx, InsertedReminders, Kelurahan, Maintenance,
                PaidThroughCount, ParticipantRecord, Participants, Payments, PreviewCount, Progress, ReminderRecord,
                Reminders, Replan, ReplanCounts, Reports, RuleOccurrences, ScanTotals, SegmentCounts, StoreError,
                UnsentGroup, UpsertCounts, WriteMark, WrittenParticipant,
            };

            crate::store::backend_roles::backend_roles!($store, $db);
            crate::store::delegate::delegate_roles!($store);
            crate::store::snapshots::snapshot_role!($store, $db);
            crate::store::retention::retention_role!($store, $db);
        }
    };
}

pub(crate) use {backend_roles, shared_backend};
