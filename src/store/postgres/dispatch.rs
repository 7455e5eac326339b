//! Claiming and recording attempts on PostgreSQL: `FOR UPDATE SKIP LOCKED`
//! with a lease, so several dispatchers on one database never claim the same
//! reminder, and a crashed one's leases run out (rust-stack notes §2).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::store::StoreError;
use crate::store::dispatch::{
    AttemptOutcome, CLAIMABLE, CLAIMED_COLUMNS, ClaimedReminder, OUTCOME_SET, OUTCOME_WHERE, OutcomeRow,
};

pub(super) async fn claim(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: u32,
    lease_secs: u64,
    worker: &str,
) -> Result<Vec<ClaimedReminder>, StoreError> {
    let sql = format!(
        "WITH claimed AS ( \
           UPDATE reminders SET status = 'sending', lease_until = $2, leased_by = $3, attempts = attempts + 1, \
             updated_at = $1 \
           WHERE id IN (SELECT id FROM reminders WHERE {CLAIMABLE} ORDER BY planned_at, id LIMIT $4 \
                        FOR UPDATE SKIP LOCKED) \
           RETURNING * ) \
         SELECT {CLAIMED_COLUMNS} FROM claimed r JOIN participants p ON p.id = r.participant_id \
         ORDER BY r.planned_at, r.id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(now.timestamp())
        .bind(now.timestamp() + lease_secs as i64)
        .bind(worker)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?)
}

pub(super) async fn finish(
    pool: &PgPool,
    worker: &str,
    outcomes: &[(i64, AttemptOutcome)],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if outcomes.is_empty() {
        return Ok(0);
    }
    let rows: Vec<OutcomeRow> = outcomes.iter().map(|(id, o)| OutcomeRow::of(*id, o)).collect();
    let set = OUTCOME_SET.replace("NOW", "$11");
    let condition = OUTCOME_WHERE.replace("WORKER", "$12");
    let sql = format!(
        "UPDATE reminders SET {set} FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
           $6::text[], $7::text[], $8::int[], $9::bigint[], $10::bigint[]) \
           AS t(id, status, reason, error, gateway, pid, enc, seg, next_at, planned) \
         WHERE {condition}"
    );
    let col = |f: fn(&OutcomeRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.status.to_string()).collect::<Vec<_>>())
        .bind(col(|r| r.reason.clone()))
        .bind(col(|r| r.error.clone()))
        .bind(col(|r| r.gateway.clone()))
        .bind(col(|r| r.provider_message_id.clone()))
        .bind(col(|r| r.encoding.clone()))
        .bind(rows.iter().map(|r| r.segments).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.next_attempt_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.planned_at).collect::<Vec<_>>())
        .bind(now.timestamp())
        .bind(worker)
        .execute(pool)
        .await?
        .rows_affected())
}
