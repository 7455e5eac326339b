//! Recording payments in SQLite: one `BEGIN IMMEDIATE` transaction that
//! inserts the payments, advances paid-through months, cancels the
//! reminders they make moot and credits the reminders that led to them.

use std::collections::HashMap;
use std::sync::LazyLock;

use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{BATCH, PARTICIPANT_COLUMNS, PAYMENTS_BY_REF_SQLITE, begin_write, json_list};
use crate::domain::NewPayment;
use crate::store::outcomes::{ATTRIBUTE_SQL, ATTRIBUTIONS_SQL, CANCEL_PAID_SQL, DAYS_TO_PAY_SQL};
use crate::store::shared::{
    Attribution, PaymentBatch, PaymentOutcome, PaymentPlan, StoredPayment, attributions_by_ref, complete_outcomes,
    count_by_participant, payer_keys, plan_payments,
};
use crate::store::{ParticipantRecord, Progress, StoreError};

type Tx = Transaction<'static, Sqlite>;

/// The payments' references are the JSON list bound to `$1`.
const REFS_IN: &str = "external_ref IN (SELECT value FROM json_each($1))";

static ATTRIBUTE: LazyLock<String> = LazyLock::new(|| ATTRIBUTE_SQL.replace("{refs}", REFS_IN));
static DAYS_TO_PAY: LazyLock<String> = LazyLock::new(|| DAYS_TO_PAY_SQL.replace("{refs}", REFS_IN));
static ATTRIBUTIONS: LazyLock<String> = LazyLock::new(|| ATTRIBUTIONS_SQL.replace("{refs}", &format!("p.{REFS_IN}")));
static CANCEL_PAID: LazyLock<String> =
    LazyLock::new(|| CANCEL_PAID_SQL.replace("{ids}", "participant_id IN (SELECT value FROM json_each($1))"));

pub(super) async fn record(
    pool: &SqlitePool,
    rows: &[NewPayment],
    batch: &PaymentBatch,
    progress: &dyn Progress,
) -> Result<Vec<PaymentOutcome>, StoreError> {
    let mut tx = begin_write(pool).await?;
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
    for chunk in rows.chunks(BATCH) {
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

/// Loads the payers and earlier payments of `chunk` and plans it.
async fn plan_chunk(tx: &mut Tx, chunk: &[NewPayment], batch: &PaymentBatch) -> Result<PaymentPlan, StoreError> {
    let (niks, kpjs) = payer_keys(chunk);
    let sql = format!(
        "SELECT {PARTICIPANT_COLUMNS} FROM participants \
         WHERE nik IN (SELECT value FROM json_each($1)) OR kpj IN (SELECT value FROM json_each($2)) ORDER BY id"
    );
    let payers: Vec<ParticipantRecord> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(json_list(&niks))
        .bind(json_list(&kpjs))
        .fetch_all(&mut **tx)
        .await?;
    let refs: Vec<&str> = chunk.iter().map(|p| p.external_ref.as_str()).collect();
    let existing: Vec<StoredPayment> = sqlx::query_as(PAYMENTS_BY_REF_SQLITE)
        .bind(json_list(&refs))
        .fetch_all(&mut **tx)
        .await?;
    Ok(plan_payments(chunk, &payers, &existing, batch.now))
}

/// Inserts the planned payments and moves the payers' paid-through months.
async fn write_plan(tx: &mut Tx, plan: &PaymentPlan, batch: &PaymentBatch) -> Result<(), StoreError> {
    for p in &plan.inserts {
        sqlx::query(
            "INSERT INTO payments (external_ref, participant_id, amount, months, first_month, last_month, \
             paid_at, channel, source, recorded_at, attribution_secs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&p.external_ref)
        .bind(p.participant_id)
        .bind(p.amount)
        .bind(p.months)
        .bind(p.first_month)
        .bind(p.last_month)
        .bind(p.paid_at)
        .bind(&p.channel)
        .bind(batch.source.as_str())
        .bind(batch.now.timestamp())
        .bind(batch.attribution_secs)
        .execute(&mut **tx)
        .await?;
    }
    for (id, paid_through) in &plan.paid_through {
        sqlx::query("UPDATE participants SET paid_through = $1, updated_at = $2 WHERE id = $3")
            .bind(paid_through)
            .bind(batch.now.timestamp())
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Credits each new payment to its reminder (within the window it was
/// recorded with); returns the credits by reference.
async fn attribute(tx: &mut Tx, refs: &[&str]) -> Result<HashMap<String, Attribution>, StoreError> {
    if refs.is_empty() {
        return Ok(HashMap::new());
    }
    let list = json_list(refs);
    sqlx::query(sqlx::AssertSqlSafe(ATTRIBUTE.as_str()))
        .bind(&list)
        .execute(&mut **tx)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(DAYS_TO_PAY.as_str()))
        .bind(&list)
        .execute(&mut **tx)
        .await?;
    let rows: Vec<(String, i64, String, String, i32)> = sqlx::query_as(sqlx::AssertSqlSafe(ATTRIBUTIONS.as_str()))
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
        .bind(json_list_numbers(ids))
        .bind(batch.now.timestamp())
        .fetch_all(&mut **tx)
        .await?;
    Ok(count_by_participant(&rows))
}

/// A JSON array of numbers: `json_each` yields them as integers, so they
/// compare equal to integer ids (strings would not).
fn json_list_numbers(ids: &[i64]) -> String {
    let items: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(","))
}
