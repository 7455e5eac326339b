//! Recording payments in PostgreSQL: one transaction that locks the payers
//! (in id order, so concurrent imports cannot deadlock), inserts the
//! payments, advances paid-through months, cancels the reminders they make
//! moot and credits the reminders that led to them.

use std::collections::HashMap;
use std::sync::LazyLock;

use sqlx::{PgPool, Postgres, Transaction};

use super::{BATCH, PARTICIPANT_COLUMNS, PAYMENTS_BY_REF_PG};
use crate::domain::NewPayment;
use crate::store::outcomes::{ATTRIBUTE_SQL, ATTRIBUTIONS_SQL, CANCEL_PAID_SQL, DAYS_TO_PAY_SQL};
use crate::store::shared::{
    Attribution, PaymentBatch, PaymentOutcome, PaymentPlan, StoredPayment, attributions_by_ref, complete_outcomes,
    count_by_participant, payer_keys, plan_payments,
};
use crate::store::{ParticipantRecord, Progress, StoreError};

type Tx = Transaction<'static, Postgres>;

/// The payments' references are the text array bound to `$1`.
const REFS_IN: &str = "external_ref = ANY($1::text[])";

static ATTRIBUTE: LazyLock<String> = LazyLock::new(|| ATTRIBUTE_SQL.replace("{refs}", REFS_IN));
static DAYS_TO_PAY: LazyLock<String> = LazyLock::new(|| DAYS_TO_PAY_SQL.replace("{refs}", REFS_IN));
static ATTRIBUTIONS: LazyLock<String> = LazyLock::new(|| ATTRIBUTIONS_SQL.replace("{refs}", &format!("p.{REFS_IN}")));
static CANCEL_PAID: LazyLock<String> =
    LazyLock::new(|| CANCEL_PAID_SQL.replace("{ids}", "participant_id = ANY($1::bigint[])"));

pub(super) async fn record(
    pool: &PgPool,
    rows: &[NewPayment],
    batch: &PaymentBatch,
    progress: &dyn Progress,
) -> Result<Vec<PaymentOutcome>, StoreError> {
    let mut tx = pool.begin().await?;
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
        let refs: Vec<String> = plan.inserts.iter().map(|p| p.external_ref.clone()).collect();
        let attributions = attribute(tx, &refs).await?;
        let ids: Vec<i64> = plan.paid_through.keys().copied().collect();
        let cancelled = cancel_paid(tx, &ids, batch).await?;
        complete_outcomes(chunk, &mut chunk_outcomes, attributions, &cancelled);
        outcomes.extend(chunk_outcomes);
        progress.advance(chunk.len() as u64);
    }
    Ok(outcomes)
}

/// Locks the payers, loads the earlier payments of `chunk` and plans it.
async fn plan_chunk(tx: &mut Tx, chunk: &[NewPayment], batch: &PaymentBatch) -> Result<PaymentPlan, StoreError> {
    let (niks, kpjs) = payer_keys(chunk);
    let sql = format!(
        "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE nik = ANY($1) OR kpj = ANY($2) \
         ORDER BY id FOR UPDATE"
    );
    let payers: Vec<ParticipantRecord> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&niks)
        .bind(&kpjs)
        .fetch_all(&mut **tx)
        .await?;
    let refs: Vec<&str> = chunk.iter().map(|p| p.external_ref.as_str()).collect();
    let existing: Vec<StoredPayment> = sqlx::query_as(PAYMENTS_BY_REF_PG)
        .bind(&refs)
        .fetch_all(&mut **tx)
        .await?;
    Ok(plan_payments(chunk, &payers, &existing, batch.now))
}

/// Inserts the planned payments and moves the payers' paid-through months.
async fn write_plan(tx: &mut Tx, plan: &PaymentPlan, batch: &PaymentBatch) -> Result<(), StoreError> {
    let ins = &plan.inserts;
    sqlx::query(
        "INSERT INTO payments (external_ref, participant_id, amount, months, first_month, last_month, \
         paid_at, channel, source, recorded_at, attribution_secs) \
         SELECT r, pid, a, m, f, l, at, c, $9, $10, $11 \
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::int[], $5::int[], $6::int[], $7::bigint[], $8::text[]) \
         AS t(r, pid, a, m, f, l, at, c)",
    )
    .bind(ins.iter().map(|p| p.external_ref.clone()).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.participant_id).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.amount).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.months).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.first_month).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.last_month).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.paid_at).collect::<Vec<_>>())
    .bind(ins.iter().map(|p| p.channel.clone()).collect::<Vec<_>>())
    .bind(batch.source.as_str())
    .bind(batch.now.timestamp())
    .bind(batch.attribution_secs)
    .execute(&mut **tx)
    .await?;
    let (ids, months): (Vec<i64>, Vec<i32>) = plan.paid_through.iter().map(|(id, m)| (*id, *m)).unzip();
    sqlx::query(
        "UPDATE participants p SET paid_through = t.m, updated_at = $3 \
         FROM UNNEST($1::bigint[], $2::int[]) AS t(id, m) WHERE p.id = t.id",
    )
    .bind(ids)
    .bind(months)
    .bind(batch.now.timestamp())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Credits each new payment to its reminder (within the window it was
/// recorded with); returns the credits by reference.
async fn attribute(tx: &mut Tx, refs: &[String]) -> Result<HashMap<String, Attribution>, StoreError> {
    if refs.is_empty() {
        return Ok(HashMap::new());
    }
    sqlx::query(sqlx::AssertSqlSafe(ATTRIBUTE.as_str()))
        .bind(refs)
        .execute(&mut **tx)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(DAYS_TO_PAY.as_str()))
        .bind(refs)
        .execute(&mut **tx)
        .await?;
    let rows: Vec<(String, i64, String, String, i32)> = sqlx::query_as(sqlx::AssertSqlSafe(ATTRIBUTIONS.as_str()))
        .bind(refs)
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
        .bind(ids)
        .bind(batch.now.timestamp())
        .fetch_all(&mut **tx)
        .await?;
    Ok(count_by_participant(&rows))
}
