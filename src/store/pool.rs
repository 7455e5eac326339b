//! What both backends' connection pools share: when a pooled connection is
//! checked before use.
//!
//! sqlx checks every pooled connection with a round trip before handing it
//! out. On the send path every group of outcomes and every claim takes a
//! connection, so that check doubled their round trips, and a sender's
//! permit waits for the write. A connection that was in use within the last
//! [`PING_AFTER_IDLE`] is handed out as it is: had the server gone away
//! since, the statement fails like any other failed statement: the recorder
//! keeps its outcomes and writes them again, a claim or heartbeat is tried
//! again, a scan waits for the next tick, and an HTTP request gets the 503 a
//! database outage gives it. A connection that sat idle longer (after a
//! quiet night, or a database restart) is pinged first and replaced when it
//! does not answer.

use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::Connection;
use sqlx::pool::PoolConnectionMetadata;

/// How long a pooled connection may have been idle and still be used
/// without a liveness check.
pub(super) const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// sqlx's `before_acquire` hook: `true` keeps the connection, `false`
/// drops it and takes or opens another.
pub(super) fn alive_after_idle<C: Connection>(
    conn: &mut C,
    meta: PoolConnectionMetadata,
) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if meta.idle_for < PING_AFTER_IDLE {
            return Ok(true);
        }
        Ok(conn.ping().await.is_ok())
    })
}
