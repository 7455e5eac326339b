//! Delivery receipts and opt-out in SQLite. Every write is one `BEGIN
//! IMMEDIATE` transaction: SQLite has one writer, so a receipt, the
//! dispatcher's "record sent", `apply_waiting_receipts` and a payment's
//! attribution never interleave, and a receipt that found no send is always
//! seen by the matching that follows the send's record.

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::domain::{Nik, PhoneNumber};
use crate::store::StoreError;
use crate::store::delivery_state::{
    APPLY_RECEIPT_SQL, CANCEL_OPTED_OUT_SQL, INSERT_RECEIPT_SQL, MATCH_RECEIPT_SQL, NewReceipt, OPT_OUT_BY_NIK_SQL,
    OPT_OUT_BY_PHONE_SQL, OPTED_OUT_REASON, OptOutChange, OptOutTarget, REMINDER_BY_ID_SQL, REMINDER_BY_PROVIDER_SQL,
    ReceiptOutcome, ReceiptState, ReminderForReceipt, SET_OPT_OUT_SQL, TIME_OUT_SQL, Transition, WAITING_RECEIPTS_SQL,
    log_outcome, plan_receipt, timeout_reason,
};

type Tx = Transaction<'static, Sqlite>;

pub(super) async fn record(
    pool: &SqlitePool,
    gateway: &str,
    receipt: &NewReceipt<'_>,
    now: DateTime<Utc>,
) -> Result<ReceiptOutcome, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let found: Option<ReminderForReceipt> = match (receipt.reminder_id, receipt.provider_message_id) {
        (Some(id), _) => {
            sqlx::query_as(REMINDER_BY_ID_SQL)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
        }
        (None, Some(pid)) => {
            sqlx::query_as(REMINDER_BY_PROVIDER_SQL)
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

crate::store::outcomes::credit_withdrawal!(Sqlite);

/// Moves the reminder on; when it stops counting for attribution, the
/// payments credited to it are credited again, in the same transaction.
async fn apply(tx: &mut Tx, reminder_id: i64, t: &Transition, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query(APPLY_RECEIPT_SQL)
        .bind(reminder_id)
        .bind(t.to.as_str())
        .bind(t.reason.as_deref())
        .bind(now.timestamp())
        .bind(&t.from)
        .execute(&mut **tx)
        .await?;
    if t.withdraws_credit() {
        withdraw_credit(tx, reminder_id, &t.credit_reason(reminder_id), now).await?;
    }
    Ok(())
}

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

pub(super) async fn set_opt_out_by_nik(
    pool: &SqlitePool,
    nik: &Nik,
    opted_out: bool,
    now: DateTime<Utc>,
) -> Result<Option<OptOutChange>, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let target: Option<OptOutTarget> = sqlx::query_as(OPT_OUT_BY_NIK_SQL)
        .bind(nik.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let change = match target {
        Some(target) => Some(set_one(&mut tx, target, opted_out, now).await?),
        None => None,
    };
    tx.commit().await?;
    Ok(change)
}

pub(super) async fn set_opt_out_by_phone(
    pool: &SqlitePool,
    phone: &PhoneNumber,
    opted_out: bool,
    now: DateTime<Utc>,
) -> Result<Vec<OptOutChange>, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let targets: Vec<OptOutTarget> = sqlx::query_as(OPT_OUT_BY_PHONE_SQL)
        .bind(phone.as_str())
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
    now: DateTime<Utc>,
) -> Result<OptOutChange, StoreError> {
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
