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
use sqlx::{PgPool, Postgres, Transaction};

use crate::domain::{Nik, PhoneNumber};
use crate::store::StoreError;
use crate::store::delivery_state::{
    APPLY_RECEIPT_SQL, CANCEL_OPTED_OUT_SQL, INSERT_RECEIPT_SQL, MATCH_RECEIPT_SQL, NewReceipt, OPT_OUT_BY_NIK_SQL,
    OPT_OUT_BY_PHONE_SQL, OPTED_OUT_REASON, OptOutChange, OptOutTarget, REMINDER_BY_ID_SQL, REMINDER_BY_PROVIDER_SQL,
    ReceiptOutcome, ReceiptState, ReminderForReceipt, SET_OPT_OUT_SQL, TIME_OUT_SQL, Transition, WAITING_RECEIPTS_SQL,
    log_outcome, plan_receipt, timeout_reason,
};

type Tx = Transaction<'static, Postgres>;

/// Serialises work on one (gateway, message id) until the transaction ends.
async fn lock_provider_id(tx: &mut Tx, gateway: &str, pid: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))")
        .bind(gateway)
        .bind(pid)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn for_update(sql: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("{sql} FOR UPDATE"))
}

pub(super) async fn record(
    pool: &PgPool,
    gateway: &str,
    receipt: &NewReceipt<'_>,
    now: DateTime<Utc>,
) -> Result<ReceiptOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    let found: Option<ReminderForReceipt> = match (receipt.reminder_id, receipt.provider_message_id) {
        (Some(id), _) => {
            sqlx::query_as(for_update(REMINDER_BY_ID_SQL))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
        }
        (None, Some(pid)) => {
            lock_provider_id(&mut tx, gateway, pid).await?;
            sqlx::query_as(for_update(REMINDER_BY_PROVIDER_SQL))
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

crate::store::outcomes::credit_withdrawal!(Postgres);

/// Moves the reminder on; when it stops counting for attribution, the
/// payments credited to it are credited again, in the same transaction.
/// The payer is locked first, as recording a payment locks it: a payment
/// being credited to this reminder right now either commits before (and is
/// moved here) or waits and sees the reminder undelivered.
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
        sqlx::query(
            "SELECT id FROM participants WHERE id = (SELECT participant_id FROM reminders WHERE id = $1) FOR UPDATE",
        )
        .bind(reminder_id)
        .execute(&mut **tx)
        .await?;
        withdraw_credit(tx, reminder_id, &t.credit_reason(reminder_id), now).await?;
    }
    Ok(())
}

pub(super) async fn apply_waiting(pool: &PgPool, reminder_id: i64, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    // The ids first, unlocked: the advisory lock must come before the row lock.
    let unlocked: Option<ReminderForReceipt> = sqlx::query_as(REMINDER_BY_ID_SQL)
        .bind(reminder_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((gateway, pid)) = unlocked.and_then(|r| r.gateway.zip(r.provider_message_id)) else {
        return Ok(0);
    };
    lock_provider_id(&mut tx, &gateway, &pid).await?;
    let reminder: Option<ReminderForReceipt> = sqlx::query_as(for_update(REMINDER_BY_ID_SQL))
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

pub(super) async fn set_opt_out_by_nik(
    pool: &PgPool,
    nik: &Nik,
    opted_out: bool,
    now: DateTime<Utc>,
) -> Result<Option<OptOutChange>, StoreError> {
    let mut tx = pool.begin().await?;
    let target: Option<OptOutTarget> = sqlx::query_as(for_update(OPT_OUT_BY_NIK_SQL))
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
    pool: &PgPool,
    phone: &PhoneNumber,
    opted_out: bool,
    now: DateTime<Utc>,
) -> Result<Vec<OptOutChange>, StoreError> {
    let mut tx = pool.begin().await?;
    let targets: Vec<OptOutTarget> = sqlx::query_as(for_update(OPT_OUT_BY_PHONE_SQL))
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
