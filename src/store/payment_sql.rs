//! Recording payments and the lookups imports make, written once: the
//! statements mean the same on SQLite and PostgreSQL, and [`Dialect`] says
//! how each binds a list and locks the payers. What differs in meaning, the
//! bulk write of the planned payments, stays in each backend's `payments`
//! module as `write_plan`, which [`payment_queries`] calls.
//!
//! [`Dialect`]: crate::store::common::Dialect

/// Payments by external reference; `{refs}` is the dialect's list condition.
pub(crate) const PAYMENTS_BY_REF_SQL: &str = "SELECT y.external_ref, y.participant_id, p.nik, y.amount, y.months, \
     y.first_month, y.last_month, y.paid_at FROM payments y JOIN participants p ON p.id = y.participant_id \
     WHERE {refs}";

/// Expands, over the database type `$db`, `record` and `record_in` (one
/// transaction that inserts the payments, advances paid-through months,
/// cancels the reminders they make moot and credits the reminders that led
/// to them) and the lookups by NIK, KPJ and reference. The invoking module
/// provides `write_plan` and its parent `BATCH`.
macro_rules! payment_queries {
    ($db:ty) => {
        use std::collections::HashMap;
        use std::sync::LazyLock;

        use crate::domain::NewPayment;
        use crate::store::common::{Dialect, PARTICIPANT_COLUMNS, for_update};
        use crate::store::outcomes::{ATTRIBUTE_SQL, ATTRIBUTIONS_SQL, CANCEL_PAID_SQL, DAYS_TO_PAY_SQL};
        use crate::store::payment_sql::PAYMENTS_BY_REF_SQL;
        use crate::store::shared::{
            Attribution, PaymentBatch, PaymentOutcome, PaymentPlan, StoredPayment, attributions_by_ref,
            complete_outcomes, count_by_participant, payer_keys, plan_payments,
        };
        use crate::store::{ParticipantRecord, Progress, StoreError};

        type Tx = sqlx::Transaction<'static, $db>;
        type Conn = <$db as sqlx::Database>::Connection;

        /// The payments' references are the list bound to `$1`.
        static REFS_IN: LazyLock<String> = LazyLock::new(|| <$db as Dialect>::in_text_list("external_ref", 1));
        static ATTRIBUTE: LazyLock<String> = LazyLock::new(|| ATTRIBUTE_SQL.replace("{refs}", &REFS_IN));
        static DAYS_TO_PAY: LazyLock<String> = LazyLock::new(|| DAYS_TO_PAY_SQL.replace("{refs}", &REFS_IN));
        static ATTRIBUTIONS: LazyLock<String> =
            LazyLock::new(|| ATTRIBUTIONS_SQL.replace("{refs}", &format!("p.{}", *REFS_IN)));
        static CANCEL_PAID: LazyLock<String> =
            LazyLock::new(|| CANCEL_PAID_SQL.replace("{ids}", &<$db as Dialect>::in_id_list("participant_id", 1)));
        static PAYMENTS_BY_REF: LazyLock<String> = LazyLock::new(|| {
            PAYMENTS_BY_REF_SQL.replace("{refs}", &<$db as Dialect>::in_text_list("y.external_ref", 1))
        });

        pub(super) async fn record(
            pool: &sqlx::Pool<$db>,
            rows: &[NewPayment],
            batch: &PaymentBatch,
            progress: &dyn Progress,
        ) -> Result<Vec<PaymentOutcome>, StoreError> {
            let mut tx = <$db as Dialect>::begin_write(pool).await?;
            // An error drops the transaction, which rolls it back.
            let outcomes = record_in(&mut tx, rows, batch, progress).await?;
            tx.commit().await?;
            Ok(outcomes)
        }

        /// Records `rows` inside `tx` (see `record`); with `batch.strict` a row
        /// that is not recorded or a duplicate fails the call, and the caller's
        /// transaction must then be dropped.
        pub(super) async fn record_in(
            tx: &mut Tx,
            rows: &[NewPayment],
            batch: &PaymentBatch,
            progress: &dyn Progress,
        ) -> Result<Vec<PaymentOutcome>, StoreError> {
            let mut outcomes = Vec::with_capacity(rows.len());
            for chunk in rows.chunks(super::BATCH) {
                let mut plan = plan_chunk(tx, chunk, batch).await?;
                if batch.strict && !plan.outcomes.iter().all(PaymentOutcome::is_ok) {
                    let rejected = plan.outcomes.iter().filter(|o| !o.is_ok()).count();
                    return Err(StoreError::PaymentsRejected(rejected));
                }
                let mut chunk_outcomes = std::mem::take(&mut plan.outcomes);
                write_plan(tx, &plan, batch).await?;
                let refs: Vec<&str> = plan.inserts.iter().map(|p| p.external_ref.as_str()).collect();
                let attributions = attribute(tx, &refs).await?;
                let ids: Vec<i64> = plan.paid_through.keys().copied().collect();
                let cancelled = cancel_paid(tx, &ids, batch).await?;
                complete_outcomes(chunk, &mut chunk_outcomes, attributions, &cancelled);
                outcomes.extend(chunk_outcomes);
                progress.advance(chunk.len() as u64);
            }
            Ok(outcomes)
        }

        /// Loads (and locks, in id order, so concurrent imports cannot
        /// deadlock) the payers and the earlier payments of `chunk`, and plans it.
        async fn plan_chunk(
            tx: &mut Tx,
            chunk: &[NewPayment],
            batch: &PaymentBatch,
        ) -> Result<PaymentPlan, StoreError> {
            let (niks, kpjs) = payer_keys(chunk);
            let sql = format!(
                "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE {} OR {} ORDER BY id",
                <$db as Dialect>::in_text_list("nik", 1),
                <$db as Dialect>::in_text_list("kpj", 2),
            );
            let payers: Vec<ParticipantRecord> = sqlx::query_as(for_update::<$db>(&sql))
                .bind(<$db as Dialect>::text_list(&niks))
                .bind(<$db as Dialect>::text_list(&kpjs))
                .fetch_all(&mut **tx)
                .await?;
            let refs: Vec<&str> = chunk.iter().map(|p| p.external_ref.as_str()).collect();
            let existing = payments_by_ref(&mut **tx, &refs).await?;
            Ok(plan_payments(chunk, &payers, &existing, batch.now))
        }

        /// Credits each new payment to its reminder (within the window it was
        /// recorded with); returns the credits by reference.
        async fn attribute(tx: &mut Tx, refs: &[&str]) -> Result<HashMap<String, Attribution>, StoreError> {
            if refs.is_empty() {
                return Ok(HashMap::new());
            }
            let list = <$db as Dialect>::text_list(refs);
            sqlx::query(sqlx::AssertSqlSafe(ATTRIBUTE.as_str()))
                .bind(&list)
                .execute(&mut **tx)
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(DAYS_TO_PAY.as_str()))
                .bind(&list)
                .execute(&mut **tx)
                .await?;
            let rows: Vec<(String, i64, String, String, i32)> =
                sqlx::query_as(sqlx::AssertSqlSafe(ATTRIBUTIONS.as_str()))
                    .bind(&list)
                    .fetch_all(&mut **tx)
                    .await?;
            Ok(attributions_by_ref(rows))
        }

        /// Cancels the payers' pending reminders their payments now cover; returns
        /// how many per participant.
        async fn cancel_paid(tx: &mut Tx, ids: &[i64], batch: &PaymentBatch) -> Result<HashMap<i64, u64>, StoreError> {
            if ids.is_empty() {
                return Ok(HashMap::new());
            }
            let rows: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(CANCEL_PAID.as_str()))
                .bind(<$db as Dialect>::id_list(ids))
                .bind(batch.now.timestamp())
                .fetch_all(&mut **tx)
                .await?;
            Ok(count_by_participant(&rows))
        }

        /// Participants whose `column` (`nik` or `kpj`) is one of `keys`, by id
        /// within each part of [`Dialect::LOOKUP_KEYS`] keys.
        pub(super) async fn participants_where(
            conn: &mut Conn,
            column: &str,
            keys: &[&str],
        ) -> Result<Vec<ParticipantRecord>, StoreError> {
            let sql = format!(
                "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE {} ORDER BY id",
                <$db as Dialect>::in_text_list(column, 1)
            );
            lookup(conn, &sql, keys).await
        }

        /// The payments recorded under `refs`.
        pub(super) async fn payments_by_ref(conn: &mut Conn, refs: &[&str]) -> Result<Vec<StoredPayment>, StoreError> {
            lookup(conn, &PAYMENTS_BY_REF, refs).await
        }

        /// The rows `sql` finds for the list of `keys` bound to `$1`, looked
        /// up [`Dialect::LOOKUP_KEYS`] keys at a time.
        async fn lookup<T>(conn: &mut Conn, sql: &str, keys: &[&str]) -> Result<Vec<T>, StoreError>
        where
            T: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
        {
            let mut out = Vec::with_capacity(keys.len());
            for part in keys.chunks(<$db as Dialect>::LOOKUP_KEYS) {
                out.extend(
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(<$db as Dialect>::text_list(part))
                        .fetch_all(&mut *conn)
                        .await?,
                );
            }
            Ok(out)
        }
    };
}

pub(crate) use payment_queries;
