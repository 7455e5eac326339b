//! Claiming and recording attempts on SQLite: one writer at a time, so
//! `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING` claims without
//! SKIP LOCKED; claims are held by a registered dispatcher whose heartbeat
//! renews them all at once.
//!
//! Claims, outcome groups and releases take turns on one connection of
//! their own, `SqliteStore::dispatch_connection`, before they reach SQLite's
//! lock (heartbeats and registrations, a few a minute, use the pool):
//! - one that found the lock taken would otherwise wait in SQLite's busy
//!   handler, which sleeps in growing steps (1, 2, 5, 10, 15 ms …) and so
//!   wakes up to several milliseconds after the lock came free, while every
//!   sender whose permit waits for that write waits with it;
//! - a connection's page cache stays valid across its own writes, but is
//!   emptied when it finds that another connection wrote since its last
//!   statement: the pool's connections, taking turns, each read back the
//!   pages of the ready index and of the claimed rows that the one before
//!   had just written.
//!
//! The connection is opened on first use and detached from the pool (which
//! may open another in its place, so a pool of one connection still serves
//! everything else). After an error it is closed, and the next turn opens a
//! new one.
//!
//! Its commits never checkpoint the WAL (`wal_autocheckpoint = 0`): a
//! checkpoint copies the WAL's pages into the database file and syncs it,
//! which stalled every thousandth page's write while the senders waited.
//! A task of its own checkpoints from a pool connection instead, every
//! [`CHECKPOINT_EVERY`], alongside the writes (SQLite's passive checkpoint
//! neither waits for nor blocks a writer).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::MutexGuard;
use tokio_util::task::AbortOnDropHandle;

use super::SqliteStore;
use crate::domain::Channel;
use crate::store::StoreError;
use crate::store::dispatch::{
    AttemptOutcome, CLAIMED_COLUMNS, ClaimedReminder, OUTCOME_SET, OUTCOME_WHERE, OutcomeRow, READY, READY_ORDER,
    RELEASED,
};

/// Claims up to `limit` ready reminders of `channel` for `worker`, walking
/// the ready index with LIMIT.
pub(super) async fn claim(
    store: &SqliteStore,
    now: DateTime<Utc>,
    channel: Channel,
    limit: u32,
    worker: &str,
) -> Result<Vec<ClaimedReminder>, StoreError> {
    let mut turn = store.dispatch_connection.lock().await;
    let result = claim_on(connection(store, &mut turn).await?, now, channel, limit, worker).await;
    close_after_error(&mut turn, result)
}

async fn claim_on(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
    channel: Channel,
    limit: u32,
    worker: &str,
) -> Result<Vec<ClaimedReminder>, StoreError> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let claim = format!(
        "UPDATE reminders SET status = 'sending', leased_by = $3, lease_until = NULL, updated_at = $1 \
         WHERE id IN (SELECT id FROM reminders WHERE {READY} ORDER BY {READY_ORDER} LIMIT $4) RETURNING id"
    );
    let ids: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(claim))
        .bind(now.timestamp())
        .bind(channel.as_str())
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

/// Records a group of outcomes in one statement, joined by primary key.
pub(super) async fn finish(
    store: &SqliteStore,
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
                   "next_at": r.next_attempt_at, "planned": r.planned_at, "tried": r.tried})
        })
        .collect();
    let set = OUTCOME_SET.replace("NOW", "$2");
    let condition = OUTCOME_WHERE.replace("WORKER", "$3");
    // MATERIALIZED: each field is extracted from the JSON once per row, not
    // once per use in the assignments and the condition.
    let sql = format!(
        "WITH t AS MATERIALIZED (SELECT json_extract(value, '$.id') AS id, \
           json_extract(value, '$.status') AS status, json_extract(value, '$.reason') AS reason, \
           json_extract(value, '$.error') AS error, json_extract(value, '$.gateway') AS gateway, \
           json_extract(value, '$.pid') AS pid, json_extract(value, '$.enc') AS enc, \
           json_extract(value, '$.seg') AS seg, json_extract(value, '$.next_at') AS next_at, \
           json_extract(value, '$.planned') AS planned, json_extract(value, '$.tried') AS tried \
           FROM json_each($1)) \
         UPDATE reminders SET {set} FROM t \
         WHERE {condition}"
    );
    // One statement, so no transaction around it: its own is as atomic, and
    // each BEGIN and COMMIT would be a further round trip to the
    // connection's thread, paid by every sender whose permit waits for this
    // write.
    let json = serde_json::Value::Array(rows).to_string();
    let mut turn = store.dispatch_connection.lock().await;
    let conn = connection(store, &mut turn).await?;
    let result = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json)
        .bind(now.timestamp())
        .bind(worker)
        .execute(conn)
        .await;
    close_after_error(
        &mut turn,
        result.map(|done| done.rows_affected()).map_err(StoreError::from),
    )
}

/// Releases the claims of every dispatcher but `me` whose last heartbeat is
/// before `stale_before`, and claims held by a name not registered at all,
/// and removes those registrations, in one write transaction.
pub(super) async fn release_stale(
    store: &SqliteStore,
    me: &str,
    stale_before: i64,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut turn = store.dispatch_connection.lock().await;
    let result = release_stale_on(connection(store, &mut turn).await?, me, stale_before, now).await;
    close_after_error(&mut turn, result)
}

async fn release_stale_on(
    conn: &mut SqliteConnection,
    me: &str,
    stale_before: i64,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let released = sqlx::query(
        "UPDATE reminders SET status = 'pending', leased_by = NULL, lease_until = NULL, last_error = $4, \
           updated_at = $3 \
         WHERE status = 'sending' AND leased_by IS NOT $2 \
           AND (leased_by IS NULL OR leased_by NOT IN \
                (SELECT name FROM dispatchers WHERE heartbeat_at >= $1 OR name = $2))",
    )
    .bind(stale_before)
    .bind(me)
    .bind(now.timestamp())
    .bind(RELEASED)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM dispatchers WHERE heartbeat_at < $1 AND name <> $2")
        .bind(stale_before)
        .bind(me)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(released)
}

/// How often the WAL is checkpointed while the dispatcher's connection is
/// open: the WAL then holds about a second of the dispatcher's writes.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// The connection the dispatcher's writes take turns on, with the task
/// that checkpoints the WAL for it.
#[derive(Debug)]
pub(super) struct DispatchConnection {
    conn: SqliteConnection,
    /// Checkpoints every [`CHECKPOINT_EVERY`]; stopped when the connection
    /// is closed.
    _checkpoints: AbortOnDropHandle<()>,
}

impl DispatchConnection {
    async fn open(pool: &SqlitePool) -> Result<Self, StoreError> {
        let mut conn = pool.acquire().await?.detach();
        sqlx::query("PRAGMA wal_autocheckpoint = 0").execute(&mut conn).await?;
        let pool = pool.clone();
        let checkpoints = tokio::spawn(async move {
            loop {
                tokio::time::sleep(CHECKPOINT_EVERY).await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                    tracing::warn!(error = %e, "cannot checkpoint the SQLite WAL; trying again");
                }
            }
        });
        Ok(Self {
            conn,
            _checkpoints: AbortOnDropHandle::new(checkpoints),
        })
    }
}

/// The dispatcher's connection, opened on first use; `turn` is held while
/// it is used.
async fn connection<'t>(
    store: &SqliteStore,
    turn: &'t mut MutexGuard<'_, Option<DispatchConnection>>,
) -> Result<&'t mut SqliteConnection, StoreError> {
    let open = match turn.take() {
        Some(open) => open,
        None => DispatchConnection::open(&store.pool).await?,
    };
    Ok(&mut turn.insert(open).conn)
}

/// Closes the dispatcher's connection after an error (the next turn opens
/// a new one), and passes the result on.
fn close_after_error<T>(
    turn: &mut MutexGuard<'_, Option<DispatchConnection>>,
    result: Result<T, StoreError>,
) -> Result<T, StoreError> {
    if result.is_err() {
        turn.take();
    }
    result
}
