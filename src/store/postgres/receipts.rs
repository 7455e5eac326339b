//! Delivery receipts and opt-out in PostgreSQL. A receipt locks its
//! reminder (`FOR UPDATE`) before deciding, so concurrent receipts and the
//! dispatcher's writes to the same reminder serialise.
//!
//! A receipt that finds no send yet and the matching that follows the send's
//! record must not pass each other unseen (READ COMMITTED: each would miss
//! the other's uncommitted row and the receipt would wait forever). Both take
//! a transaction-scoped advisory lock on (gateway, message id) first, always
//! before the row lock, so one of them sees the other's work.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::store::StoreError;
use crate::store::delivery_state::{
    MATCH_RECEIPT_SQL, ReceiptState, TIME_OUT_SQL, WAITING_RECEIPTS_SQL, timeout_reason,
};

crate::store::delivery_state::receipt_queries!(sqlx::Postgres);

pub(super) async fn apply_waiting(pool: &PgPool, reminder_id: i64, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut tx = sqlx::Postgres::begin_write(pool).await?;
    // The ids first, unlocked: the advisory lock must come before the row lock.
    let unlocked: Option<ReminderForReceipt> = sqlx::query_as(REMINDER_BY_ID_SQL)
        .bind(reminder_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((gateway, pid)) = unlocked.and_then(|r| r.gateway.zip(r.provider_message_id)) else {
        return Ok(0);
    };
    sqlx::Postgres::lock_provider_id(&mut tx, &gateway, &pid).await?;
    let reminder: Option<ReminderForReceipt> = sqlx::query_as(for_update::<sqlx::Postgres>(REMINDER_BY_ID_SQL))
        .bind(reminder_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(mut reminder) = reminder else { return Ok(0) };
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

pub(super) async fn time_out(pool: &PgPool, sent_before: i64, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let hours = (now.timestamp() - sent_before) / 3_600;
    // One statement: a receipt committing meanwhile takes its row out of
    // `status = 'sent'`, and the re-check after the row lock skips it.
    Ok(sqlx::query(TIME_OUT_SQL)
        .bind(sent_before)
        .bind(timeout_reason(hours))
        .bind(now.timestamp())
        .execute(pool)
        .await?
        .rows_affected())
}
