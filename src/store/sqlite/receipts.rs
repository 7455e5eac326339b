//! Delivery receipts and opt-out in SQLite. Every write is one `BEGIN
//! IMMEDIATE` transaction: SQLite has one writer, so a receipt, the
//! dispatcher's "record sent", `apply_waiting_receipts` and a payment's
//! attribution never interleave, and a receipt that found no send is always
//! seen by the matching that follows the send's record.

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

use crate::store::StoreError;
use crate::store::delivery_state::{
    MATCH_RECEIPT_SQL, ReceiptState, TIME_OUT_SQL, WAITING_RECEIPTS_SQL, timeout_reason,
};

crate::store::delivery_state::receipt_queries!(sqlx::Sqlite);

pub(super) async fn apply_waiting(pool: &SqlitePool, reminder_id: i64, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let reminder: Option<ReminderForReceipt> = sqlx::query_as(REMINDER_BY_ID_SQL)
        .bind(reminder_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(mut reminder) = reminder else { return Ok(0) };
    let (Some(gateway), Some(pid)) = (reminder.gateway.clone(), reminder.provider_message_id.clone()) else {
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

pub(super) async fn time_out(pool: &SqlitePool, sent_before: i64, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let hours = (now.timestamp() - sent_before) / 3_600;
    let mut tx = super::begin_write(pool).await?;
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
