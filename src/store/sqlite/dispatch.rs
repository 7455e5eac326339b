//! Claiming and recording attempts on SQLite: one writer at a time, so
//! `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING` claims without
//! SKIP LOCKED (rust-stack notes §2).

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::SqlitePool;

use crate::store::StoreError;
use crate::store::dispatch::{
    AttemptOutcome, CLAIMABLE, CLAIMED_COLUMNS, ClaimedReminder, OUTCOME_SET, OUTCOME_WHERE, OutcomeRow,
};

pub(super) async fn claim(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    limit: u32,
    lease_secs: u64,
    worker: &str,
) -> Result<Vec<ClaimedReminder>, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let claim = format!(
        "UPDATE reminders SET status = 'sending', lease_until = $2, leased_by = $3, attempts = attempts + 1, \
         updated_at = $1 WHERE id IN (SELECT id FROM reminders WHERE {CLAIMABLE} ORDER BY planned_at, id LIMIT $4) \
         RETURNING id"
    );
    let ids: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(claim))
        .bind(now.timestamp())
        .bind(now.timestamp() + lease_secs as i64)
        .bind(worker)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
    let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
    let select = format!(
        "SELECT {CLAIMED_COLUMNS} FROM reminders r JOIN participants p ON p.id = r.participant_id \
         WHERE r.id IN (SELECT value FROM json_each($1)) ORDER BY r.planned_at, r.id"
    );
    let claimed = sqlx::query_as(sqlx::AssertSqlSafe(select))
        .bind(serde_json::to_string(&ids).unwrap_or_default())
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(claimed)
}

pub(super) async fn finish(
    pool: &SqlitePool,
    worker: &str,
    outcomes: &[(i64, AttemptOutcome)],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if outcomes.is_empty() {
        return Ok(0);
    }
    let rows: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|(id, o)| {
            let r = OutcomeRow::of(*id, o);
            json!({"id": r.id, "status": r.status, "reason": r.reason, "error": r.error, "gateway": r.gateway,
                   "pid": r.provider_message_id, "enc": r.encoding, "seg": r.segments,
                   "next_at": r.next_attempt_at, "planned": r.planned_at})
        })
        .collect();
    let set = OUTCOME_SET.replace("NOW", "$2");
    let condition = OUTCOME_WHERE.replace("WORKER", "$3");
    let sql = format!(
        "UPDATE reminders SET {set} FROM (SELECT json_extract(value, '$.id') AS id, \
           json_extract(value, '$.status') AS status, json_extract(value, '$.reason') AS reason, \
           json_extract(value, '$.error') AS error, json_extract(value, '$.gateway') AS gateway, \
           json_extract(value, '$.pid') AS pid, json_extract(value, '$.enc') AS enc, \
           json_extract(value, '$.seg') AS seg, json_extract(value, '$.next_at') AS next_at, \
           json_extract(value, '$.planned') AS planned FROM json_each($1)) AS t \
         WHERE {condition}"
    );
    let mut tx = super::begin_write(pool).await?;
    let n = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(serde_json::Value::Array(rows).to_string())
        .bind(now.timestamp())
        .bind(worker)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n)
}
