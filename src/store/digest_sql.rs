//! The coordinator digest's SQL, written once: it means the same on SQLite
//! and PostgreSQL, so [`digest_queries`] expands the same functions in each
//! backend's `digest` module over that backend's pool type.

/// Expands the digest query functions over the pool type `$pool`.
macro_rules! digest_queries {
    ($pool:ty) => {
        use chrono::{DateTime, Utc};

        use crate::store::digests::{
            BehindParticipant, DIGEST_COLUMNS, DigestClaim, DigestOutcome, DigestRecord, STATUS_FAILED, STATUS_SENDING,
            STATUS_SENT,
        };
        use crate::store::StoreError;

        /// BPU participants of `kelurahan_code` paid through a month before `paid_through_before`.
        pub(super) async fn behind(
            pool: &$pool,
            kelurahan_code: &str,
            paid_through_before: i32,
        ) -> Result<Vec<BehindParticipant>, StoreError> {
            Ok(sqlx::query_as(
                "SELECT id, name, phone, funding, paid_through, monthly_amount, opted_out FROM participants \
                 WHERE kelurahan_code = $1 AND segment = 'bpu' AND paid_through < $2 ORDER BY paid_through, name, id",
            )
            .bind(kelurahan_code)
            .bind(paid_through_before)
            .fetch_all(pool)
            .await?)
        }

        /// Every digest row of `week`, by kelurahan code.
        pub(super) async fn of_week(pool: &$pool, week: &str) -> Result<Vec<DigestRecord>, StoreError> {
            let sql = format!("SELECT {DIGEST_COLUMNS} FROM digests WHERE week = $1 ORDER BY kelurahan_code");
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(week)
                .fetch_all(pool)
                .await?)
        }

        /// Inserts the claim, or takes over a failed row due again or a `sending`
        /// row whose lease ran out; the attempt count when this call holds the claim.
        pub(super) async fn claim(
            pool: &$pool,
            c: &DigestClaim<'_>,
            now: DateTime<Utc>,
        ) -> Result<Option<i32>, StoreError> {
            let sql = format!(
                "INSERT INTO digests (kelurahan_code, week, status, scheduled_at, attempts, claimed_by, lease_until, \
                   created_at, updated_at) VALUES ($1, $2, '{STATUS_SENDING}', $3, 1, $4, $5, $6, $6) \
                 ON CONFLICT (kelurahan_code, week) DO UPDATE SET status = '{STATUS_SENDING}', \
                   scheduled_at = excluded.scheduled_at, attempts = digests.attempts + 1, claimed_by = excluded.claimed_by, \
                   lease_until = excluded.lease_until, next_attempt_at = NULL, updated_at = excluded.updated_at \
                 WHERE (digests.status = '{STATUS_FAILED}' AND COALESCE(digests.next_attempt_at, 0) <= $6) \
                    OR (digests.status = '{STATUS_SENDING}' AND COALESCE(digests.lease_until, 0) <= $6) \
                 RETURNING attempts"
            );
            let row: Option<(i32,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(c.kelurahan_code)
                .bind(c.week)
                .bind(c.scheduled_at)
                .bind(c.worker)
                .bind(now.timestamp() + c.lease_secs as i64)
                .bind(now.timestamp())
                .fetch_optional(pool)
                .await?;
            Ok(row.map(|(attempts,)| attempts))
        }

        /// Records how `worker`'s attempt ended, if it still holds the claim.
        pub(super) async fn finish(
            pool: &$pool,
            kelurahan_code: &str,
            week: &str,
            worker: &str,
            outcome: &DigestOutcome,
            now: DateTime<Utc>,
        ) -> Result<bool, StoreError> {
            let held = format!("WHERE kelurahan_code = $1 AND week = $2 AND claimed_by = $3 AND status = '{STATUS_SENDING}'");
            let query = match outcome {
                DigestOutcome::Sent {
                    bpu,
                    active,
                    behind,
                    recipients,
                    message_id,
                } => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE digests SET status = '{STATUS_SENT}', bpu = $4, active = $5, behind = $6, recipients = $7, \
                     message_id = $8, sent_at = $9, updated_at = $9, lease_until = NULL, last_error = NULL {held}"
                )))
                .bind(kelurahan_code)
                .bind(week)
                .bind(worker)
                .bind(bpu)
                .bind(active)
                .bind(behind)
                .bind(recipients)
                .bind(message_id)
                .bind(now.timestamp()),
                DigestOutcome::Failed { error, retry_at } => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE digests SET status = '{STATUS_FAILED}', last_error = $4, next_attempt_at = $5, \
                     lease_until = NULL, updated_at = $6 {held}"
                )))
                .bind(kelurahan_code)
                .bind(week)
                .bind(worker)
                .bind(error)
                .bind(retry_at)
                .bind(now.timestamp()),
            };
            Ok(query.execute(pool).await?.rows_affected() == 1)
        }

        /// The latest digest of `kelurahan_code` sent for a week before `before_week`.
        pub(super) async fn last_sent(
            pool: &$pool,
            kelurahan_code: &str,
            before_week: &str,
        ) -> Result<Option<DigestRecord>, StoreError> {
            let sql = format!(
                "SELECT {DIGEST_COLUMNS} FROM digests WHERE kelurahan_code = $1 AND week < $2 AND status = '{STATUS_SENT}' \
                 ORDER BY week DESC LIMIT 1"
            );
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(kelurahan_code)
                .bind(before_week)
                .fetch_optional(pool)
                .await?)
        }
    };
}

pub(crate) use digest_queries;
