//! The receipt and opt-out paths, written once: their SQL (beside the
//! transition rule in [`super::delivery_state`]) means the same on SQLite
//! and PostgreSQL, and where PostgreSQL must lock rows that SQLite's single
//! writer already holds, [`Dialect`] says how.
//!
//! [`Dialect`]: crate::store::common::Dialect

/// Expands, over the database type `$db`, the receipt and opt-out paths
/// both backends share: `record`, `apply_waiting`, `time_out`, `apply`
/// (with the credit withdrawal), `set_opt_out`. Where PostgreSQL must lock
/// rows that SQLite's single writer already holds, [`Dialect`] says how.
///
/// [`Dialect`]: crate::store::common::Dialect
macro_rules! receipt_queries {
    ($db:ty) => {
        use crate::store::common::{Dialect, for_update};
        use crate::store::delivery_state::{
            APPLY_RECEIPT_SQL, CANCEL_OPTED_OUT_SQL, INSERT_RECEIPT_SQL, MATCH_RECEIPT_SQL, NewReceipt,
            OPTED_OUT_REASON, OptOutBy, OptOutChange, OptOutTarget, REMINDER_BY_ID_SQL, REMINDER_BY_PROVIDER_SQL,
            ReceiptOutcome, ReceiptState, ReminderForReceipt, SET_OPT_OUT_SQL, TIME_OUT_SQL, Transition,
            WAITING_RECEIPTS_SQL, log_outcome, plan_receipt, timeout_reason,
        };

        type Tx = sqlx::Transaction<'static, $db>;

        /// Records one receipt: keeps it, finds and locks its reminder, and
        /// applies the transition, in one write transaction.
        pub(super) async fn record(
            pool: &sqlx::Pool<$db>,
            gateway: &str,
            receipt: &NewReceipt<'_>,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<ReceiptOutcome, crate::store::StoreError> {
            let mut tx = <$db as Dialect>::begin_write(pool).await?;
            let found: Option<ReminderForReceipt> = match (receipt.reminder_id, receipt.provider_message_id) {
                (Some(id), _) => {
                    sqlx::query_as(for_update::<$db>(REMINDER_BY_ID_SQL))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                (None, Some(pid)) => {
                    <$db as Dialect>::lock_provider_id(&mut tx, gateway, pid).await?;
                    sqlx::query_as(for_update::<$db>(REMINDER_BY_PROVIDER_SQL))
                        .bind(gateway)
                        .bind(pid)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                (None, None) => None,
            };
            let waitable = receipt.reminder_id.is_none() && receipt.provider_message_id.is_some();
            let (outcome, transition) = plan_receipt(found.as_ref(), waitable, gateway, receipt.state);
            let transition = transition.map(|t| t.with_detail(receipt.detail));
            if let (Some(t), Some(id)) = (transition, outcome.reminder_id()) {
                apply(&mut tx, id, &t, now).await?;
            }
            sqlx::query(INSERT_RECEIPT_SQL)
                .bind(gateway)
                .bind(receipt.provider_message_id)
                .bind(outcome.reminder_id())
                .bind(receipt.state.as_str())
                .bind(receipt.raw)
                .bind(now.timestamp())
                .bind(outcome.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            log_outcome(gateway, receipt.state, &outcome);
            Ok(outcome)
        }

        /// Applies the receipts kept waiting for the (gateway, message id) the
        /// reminder `reminder_id` was sent under, in received order, in one
        /// write transaction; how many there were.
        pub(super) async fn apply_waiting(
            pool: &sqlx::Pool<$db>,
            reminder_id: i64,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<u64, crate::store::StoreError> {
            let mut tx = <$db as Dialect>::begin_write(pool).await?;
            // The ids first, unlocked: the provider lock comes before the row lock.
            let unlocked: Option<ReminderForReceipt> = sqlx::query_as(REMINDER_BY_ID_SQL)
                .bind(reminder_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((gateway, pid)) = unlocked.and_then(|r| r.gateway.zip(r.provider_message_id)) else {
                return Ok(0);
            };
            <$db as Dialect>::lock_provider_id(&mut tx, &gateway, &pid).await?;
            let reminder: Option<ReminderForReceipt> = sqlx::query_as(for_update::<$db>(REMINDER_BY_ID_SQL))
                .bind(reminder_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(mut reminder) = reminder else {
                return Ok(0);
            };
            let waiting: Vec<(i64, String)> = sqlx::query_as(WAITING_RECEIPTS_SQL)
                .bind(&gateway)
                .bind(&pid)
                .fetch_all(&mut *tx)
                .await?;
            for (receipt_id, state) in &waiting {
                let state = state.parse().unwrap_or(ReceiptState::Unknown);
                let (outcome, transition) = plan_receipt(Some(&reminder), false, &gateway, state);
                if let Some(t) = transition {
                    apply(&mut tx, reminder.id, &t, now).await?;
                    reminder.status = t.to.as_str().to_string();
                }
                sqlx::query(MATCH_RECEIPT_SQL)
                    .bind(receipt_id)
                    .bind(reminder.id)
                    .bind(outcome.as_str())
                    .execute(&mut *tx)
                    .await?;
                log_outcome(&gateway, state, &outcome);
            }
            tx.commit().await?;
            Ok(waiting.len() as u64)
        }

        /// Reminders sent before `sent_before` with no final receipt become
        /// `unknown`, in one statement: a receipt committing meanwhile takes its
        /// row out of `status = 'sent'`.
        pub(super) async fn time_out(
            pool: &sqlx::Pool<$db>,
            sent_before: i64,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<u64, crate::store::StoreError> {
            let hours = (now.timestamp() - sent_before) / 3_600;
            let mut tx = <$db as Dialect>::begin_write(pool).await?;
            let n = sqlx::query(TIME_OUT_SQL)
                .bind(sent_before)
                .bind(timeout_reason(hours))
                .bind(now.timestamp())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(n)
        }

        crate::store::outcomes::credit_withdrawal!($db);

        /// Moves the reminder on; when it stops counting for attribution, the
        /// payments credited to it are credited again, in the same
        /// transaction, after its payer is locked.
        async fn apply(
            tx: &mut Tx,
            reminder_id: i64,
            t: &Transition,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<(), crate::store::StoreError> {
            sqlx::query(APPLY_RECEIPT_SQL)
                .bind(reminder_id)
                .bind(t.to.as_str())
                .bind(t.reason.as_deref())
                .bind(now.timestamp())
                .bind(&t.from)
                .execute(&mut **tx)
                .await?;
            if t.withdraws_credit() {
                <$db as Dialect>::lock_payer_of(tx, reminder_id).await?;
                withdraw_credit(tx, reminder_id, &t.credit_reason(reminder_id), now).await?;
            }
            Ok(())
        }

        /// Locks the participants `by` names and sets or clears each one's
        /// opt-out, in one write transaction.
        pub(super) async fn set_opt_out(
            pool: &sqlx::Pool<$db>,
            by: OptOutBy<'_>,
            opted_out: bool,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<Vec<OptOutChange>, crate::store::StoreError> {
            let (sql, key) = by.query();
            let mut tx = <$db as Dialect>::begin_write(pool).await?;
            let targets: Vec<OptOutTarget> = sqlx::query_as(for_update::<$db>(sql))
                .bind(key)
                .fetch_all(&mut *tx)
                .await?;
            let mut changes = Vec::with_capacity(targets.len());
            for target in targets {
                changes.push(set_one(&mut tx, target, opted_out, now).await?);
            }
            tx.commit().await?;
            Ok(changes)
        }

        /// Sets one participant's flag and, when opting out, cancels their pending reminders.
        async fn set_one(
            tx: &mut Tx,
            target: OptOutTarget,
            opted_out: bool,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<OptOutChange, crate::store::StoreError> {
            let changed = target.opted_out != opted_out;
            if changed {
                sqlx::query(SET_OPT_OUT_SQL)
                    .bind(target.id)
                    .bind(opted_out)
                    .bind(now.timestamp())
                    .execute(&mut **tx)
                    .await?;
            }
            let cancelled_reminders = if opted_out {
                sqlx::query(CANCEL_OPTED_OUT_SQL)
                    .bind(target.id)
                    .bind(OPTED_OUT_REASON)
                    .bind(now.timestamp())
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            } else {
                0
            };
            Ok(OptOutChange {
                participant_id: target.id,
                nik: target.nik,
                opted_out,
                changed,
                cancelled_reminders,
            })
        }
    };
}

pub(crate) use receipt_queries;
