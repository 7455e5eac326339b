//! Claiming and recording attempts on PostgreSQL: `FOR UPDATE SKIP LOCKED`
//! over the ready index, so several dispatchers on one database never claim
//! the same reminder; claims are held by a registered dispatcher whose
//! heartbeat renews them all at once.

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::domain::Channel;
use crate::store::StoreError;
use crate::store::dispatch::{
    AttemptOutcome, CLAIMED_COLUMNS, ClaimedReminder, OUTCOME_SET, OUTCOME_WHERE, OutcomeRow, READY, READY_ORDER,
    RELEASED,
};

/// Claims up to `limit` ready reminders of `channel` for `worker` in one
/// statement. `id = ANY(ARRAY(…))` makes the update find its rows by
/// primary key whatever the planner estimates for the subquery.
pub(super) async fn claim(
    store: &PgStore,
    now: DateTime<Utc>,
    channel: Channel,
    limit: u32,
    worker: &str,
) -> Result<Vec<ClaimedReminder>, StoreError> {
    let sql = format!(
        "WITH claimed AS ( \
           UPDATE reminders SET status = 'sending', leased_by = $3, lease_until = NULL, updated_at = $1 \
           WHERE id = ANY(ARRAY(SELECT id FROM reminders WHERE {READY} ORDER BY {READY_ORDER} LIMIT $4 \
                                FOR UPDATE SKIP LOCKED)) \
           RETURNING * ) \
         SELECT {CLAIMED_COLUMNS} FROM claimed r JOIN participants p ON p.id = r.participant_id \
         ORDER BY r.planned_at, r.id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(now.timestamp())
        .bind(channel.as_str())
        .bind(worker)
        .bind(i64::from(limit))
        .fetch_all(&store.pool)
        .await?)
}

/// Records a group of outcomes in one statement, joined by primary key.
pub(super) async fn finish(
    store: &PgStore,
    worker: &str,
    outcomes: &[(i64, AttemptOutcome)],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if outcomes.is_empty() {
        return Ok(0);
    }
    let rows: Vec<OutcomeRow> = outcomes.iter().map(|(id, o)| OutcomeRow::of(*id, o)).collect();
    let set = OUTCOME_SET.replace("NOW", "$12");
    let condition = OUTCOME_WHERE.replace("WORKER", "$13");
    let sql = format!(
        "UPDATE reminders SET {set} FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
           $6::text[], $7::text[], $8::int[], $9::bigint[], $10::bigint[], $11::int[]) \
           AS t(id, status, reason, error, gateway, pid, enc, seg, next_at, planned, tried) \
         WHERE reminders.id = ANY($1::bigint[]) AND {condition}"
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
        .bind(rows.iter().map(|r| r.tried).collect::<Vec<_>>())
        .bind(now.timestamp())
        .bind(worker)
        .execute(&store.pool)
        .await?
        .rows_affected())
}

/// Releases, in one statement, the claims of every dispatcher but `me`
/// whose last heartbeat is before `stale_before`, and claims held by a name
/// not registered at all; removes those registrations. A heartbeat racing
/// with it wins: the delete re-checks a row updated meanwhile.
pub(super) async fn release_stale(
    store: &PgStore,
    me: &str,
    stale_before: i64,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "WITH gone AS (DELETE FROM dispatchers WHERE heartbeat_at < $1 AND name <> $2 RETURNING name) \
         UPDATE reminders SET status = 'pending', leased_by = NULL, lease_until = NULL, last_error = $4, \
           updated_at = $3 \
         WHERE status = 'sending' AND leased_by IS DISTINCT FROM $2 \
           AND (leased_by IS NULL OR leased_by IN (SELECT name FROM gone) \
                OR NOT EXISTS (SELECT 1 FROM dispatchers d WHERE d.name = reminders.leased_by))",
    )
    .bind(stale_before)
    .bind(me)
    .bind(now.timestamp())
    .bind(RELEASED)
    .execute(&store.pool)
    .await?
    .rows_affected())
}
