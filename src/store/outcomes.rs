//! What reminders achieved: the rows reports are computed from, the inbox
//! file ledger, and the SQL both backends run for them (written to mean the
//! same on SQLite and PostgreSQL, so it is kept once).

/// Which reminders a report counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeFilter {
    /// Counted when sent (or failed) at or after this instant (Unix seconds).
    pub from: Option<i64>,
    /// … and before this one.
    pub to: Option<i64>,
    /// Kelurahan code or code prefix; all when `None`.
    pub kelurahan: Option<String>,
}

impl OutcomeFilter {
    /// The bind values of the filter: from, to (exclusive), code prefix.
    pub fn binds(&self) -> (i64, i64, String) {
        (
            self.from.unwrap_or(i64::MIN),
            self.to.unwrap_or(i64::MAX),
            self.kelurahan.clone().unwrap_or_default(),
        )
    }
}

/// Reminders of one kelurahan, rule and channel.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct OutcomeCounts {
    /// The kelurahan code.
    pub kelurahan_code: String,
    /// The rule's name.
    pub rule: String,
    /// `sms` or `email`.
    pub channel: String,
    /// Accepted by a gateway or the SMTP relay.
    pub sent: i64,
    /// Confirmed delivered by a receipt.
    pub delivered: i64,
    /// Refused, undelivered, or expired before it could go out.
    pub failed: i64,
}

/// One payment credited to a reminder.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct AttributedPayment {
    /// The reminder credited.
    pub reminder_id: i64,
    /// Its kelurahan.
    pub kelurahan_code: String,
    /// Its rule.
    pub rule: String,
    /// Its channel.
    pub channel: String,
    /// Whole days from the send to the payment.
    pub days_to_pay: i32,
    /// The amount paid, in Rupiah.
    pub amount: i64,
}

/// One payment with its payer's current state, for rebuilding past standing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct PaymentSince {
    /// The payer.
    pub participant_id: i64,
    /// The payer's kelurahan.
    pub kelurahan_code: String,
    /// The payer's paid-through month now.
    pub paid_through: i32,
    /// Months this payment covered.
    pub months: i32,
    /// When it was paid (Unix seconds).
    pub paid_at: i64,
}

/// A file taken from the payments inbox.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct InboxFileRecord {
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Its name when it was taken.
    pub file_name: String,
    /// `done` or `rejected`.
    pub outcome: String,
    /// Rows it held.
    pub row_count: i64,
    /// Why it was rejected.
    pub detail: Option<String>,
}

/// Sent, delivered and failed reminders per kelurahan, rule and channel.
/// A reminder counts in the period by `sent_at`, or, never sent, by when it
/// last changed (failed or expired). Reminders that retention deleted count
/// from their monthly totals, for the WIB months wholly inside the period.
pub const OUTCOME_COUNTS_SQL: &str = "\
SELECT kelurahan_code, rule, channel,
       CAST(SUM(sent) AS BIGINT) AS sent,
       CAST(SUM(delivered) AS BIGINT) AS delivered,
       CAST(SUM(failed) AS BIGINT) AS failed
FROM (
    SELECT kelurahan_code, rule, channel,
           CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END AS sent,
           CASE WHEN status = 'delivered' THEN 1 ELSE 0 END AS delivered,
           CASE WHEN status IN ('failed', 'undelivered', 'expired') THEN 1 ELSE 0 END AS failed
    FROM reminders
    WHERE status IN ('sent', 'delivered', 'undelivered', 'unknown', 'failed', 'expired')
      AND COALESCE(sent_at, updated_at) >= $1 AND COALESCE(sent_at, updated_at) < $2
      AND kelurahan_code LIKE $3 || '%'
    UNION ALL
    SELECT kelurahan_code, rule, channel, sent, delivered, failed
    FROM retired_outcomes
    WHERE month_start >= $1 AND month_end <= $2 AND kelurahan_code LIKE $3 || '%'
) counted
GROUP BY kelurahan_code, rule, channel
ORDER BY kelurahan_code, rule, channel";

/// Payments credited to reminders sent in the period.
pub const ATTRIBUTED_PAYMENTS_SQL: &str = "\
SELECT p.reminder_id, r.kelurahan_code, r.rule, r.channel, p.days_to_pay, p.amount
FROM payments p JOIN reminders r ON r.id = p.reminder_id
WHERE p.reminder_id IS NOT NULL
  AND r.sent_at >= $1 AND r.sent_at < $2
  AND r.kelurahan_code LIKE $3 || '%'
ORDER BY p.reminder_id, p.paid_at";

/// Payments of BPU participants since an instant.
pub const BPU_PAYMENTS_SINCE_SQL: &str = "\
SELECT p.participant_id, t.kelurahan_code, t.paid_through, p.months, p.paid_at
FROM payments p JOIN participants t ON t.id = p.participant_id
WHERE p.paid_at >= $1 AND t.segment = 'bpu'
ORDER BY p.participant_id, p.paid_at";

/// An inbox file by content hash.
pub const INBOX_FILE_SQL: &str =
    "SELECT sha256, file_name, outcome, row_count, detail FROM inbox_files WHERE sha256 = $1";

/// Remembers an inbox file (first record wins).
pub const RECORD_INBOX_FILE_SQL: &str = "\
INSERT INTO inbox_files (sha256, file_name, outcome, row_count, detail, processed_at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING";

/// The latest reminder sent to a payment's payer within the payment's
/// attribution window before it that still counts (sent, delivered, or no
/// final receipt): the one the payment is credited to.
macro_rules! latest_creditable_reminder {
    () => {
        "(SELECT r.id FROM reminders r
    WHERE r.participant_id = payments.participant_id
      AND r.sent_at IS NOT NULL AND r.sent_at <= payments.paid_at
      AND r.sent_at >= payments.paid_at - payments.attribution_secs
      AND r.status IN ('sent', 'delivered', 'unknown')
    ORDER BY r.sent_at DESC, r.id DESC LIMIT 1)"
    };
}

/// The reminder each of the payments (by external reference) is credited
/// to. `{refs}` is the backend's "reference in the bound list" condition on
/// `$1`.
pub const ATTRIBUTE_SQL: &str = concat!(
    "UPDATE payments SET reminder_id = ",
    latest_creditable_reminder!(),
    " WHERE {refs}"
);

/// The payments credited to reminder `$1`, which no longer counts (a
/// delivery receipt said undelivered after they were credited): each is
/// credited again to the latest reminder that still counts in its window,
/// or to none. Returns each payment's id and its new reminder.
pub const RECREDIT_SQL: &str = concat!(
    "UPDATE payments SET days_to_pay = NULL, reminder_id = ",
    latest_creditable_reminder!(),
    " WHERE reminder_id = $1 RETURNING id, reminder_id"
);

/// Keeps one move of a payment's credit: payment, from, to (NULL: none),
/// reason, when.
pub const RECORD_CREDIT_CHANGE_SQL: &str = "INSERT INTO payment_credit_changes \
     (payment_id, from_reminder_id, to_reminder_id, reason, at) VALUES ($1, $2, $3, $4, $5)";

/// Whole days from the credited reminder's send to each payment.
pub const DAYS_TO_PAY_SQL: &str = "\
UPDATE payments SET days_to_pay = CAST((paid_at - (SELECT r.sent_at FROM reminders r WHERE r.id = payments.reminder_id)) / 86400 AS INTEGER)
WHERE reminder_id IS NOT NULL AND {refs}";

/// The attributions of the payments, to report back.
pub const ATTRIBUTIONS_SQL: &str = "\
SELECT p.external_ref, r.id AS reminder_id, r.rule, r.channel, p.days_to_pay
FROM payments p JOIN reminders r ON r.id = p.reminder_id
WHERE {refs}";

/// Cancels the pending reminders of the payers for months they are now
/// paid through, returning whose. `{ids}` is the backend's "participant in
/// the bound list" condition on `$1`.
pub const CANCEL_PAID_SQL: &str = "\
UPDATE reminders SET status = 'cancelled', reason = 'paid', updated_at = $2
WHERE status = 'pending' AND {ids}
  AND contribution_month <= (SELECT t.paid_through FROM participants t WHERE t.id = reminders.participant_id)
RETURNING participant_id";

/// Expands, over the database type `$db`, the functions that run the SQL
/// above; each backend's `Store` implementation delegates to them.
macro_rules! outcome_queries {
    ($db:ty) => {
        use crate::store::outcomes::{self, InboxFileRecord, OutcomeFilter, PaymentSince};

        /// The rows `sql` finds for `filter`'s months (`$1`, `$2`) and
        /// kelurahan prefix (`$3`).
        pub(super) async fn by_filter<T>(
            pool: &sqlx::Pool<$db>,
            sql: &'static str,
            filter: &OutcomeFilter,
        ) -> Result<Vec<T>, crate::store::StoreError>
        where
            T: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
        {
            let (from, to, prefix) = filter.binds();
            Ok(sqlx::query_as(sql)
                .bind(from)
                .bind(to)
                .bind(prefix)
                .fetch_all(pool)
                .await?)
        }

        pub(super) async fn bpu_payments_since(
            pool: &sqlx::Pool<$db>,
            since: i64,
        ) -> Result<Vec<PaymentSince>, crate::store::StoreError> {
            Ok(sqlx::query_as(outcomes::BPU_PAYMENTS_SINCE_SQL)
                .bind(since)
                .fetch_all(pool)
                .await?)
        }

        pub(super) async fn inbox_file_seen(
            pool: &sqlx::Pool<$db>,
            sha256: &str,
        ) -> Result<Option<InboxFileRecord>, crate::store::StoreError> {
            Ok(sqlx::query_as(outcomes::INBOX_FILE_SQL)
                .bind(sha256)
                .fetch_optional(pool)
                .await?)
        }

        pub(super) async fn record_inbox_file(
            pool: &sqlx::Pool<$db>,
            file: &InboxFileRecord,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<(), crate::store::StoreError> {
            sqlx::query(outcomes::RECORD_INBOX_FILE_SQL)
                .bind(&file.sha256)
                .bind(&file.file_name)
                .bind(&file.outcome)
                .bind(file.row_count)
                .bind(&file.detail)
                .bind(now.timestamp())
                .execute(pool)
                .await?;
            Ok(())
        }
    };
}

pub(crate) use outcome_queries;

/// Expands, over the transaction type of database `$db`, the function that
/// moves the credit off a reminder that stopped counting for attribution,
/// inside the caller's transaction (the receipt's).
macro_rules! credit_withdrawal {
    ($db:ty) => {
        /// Credits the payments of `reminder_id` again (see
        /// [`crate::store::outcomes::RECREDIT_SQL`]), keeping each move with `reason`.
        async fn withdraw_credit(
            tx: &mut sqlx::Transaction<'static, $db>,
            reminder_id: i64,
            reason: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<(), crate::store::StoreError> {
            use crate::store::outcomes::{DAYS_TO_PAY_SQL, RECORD_CREDIT_CHANGE_SQL, RECREDIT_SQL};
            let moved: Vec<(i64, Option<i64>)> = sqlx::query_as(RECREDIT_SQL)
                .bind(reminder_id)
                .fetch_all(&mut **tx)
                .await?;
            for (payment, to) in moved {
                sqlx::query(sqlx::AssertSqlSafe(DAYS_TO_PAY_SQL.replace("{refs}", "id = $1")))
                    .bind(payment)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query(RECORD_CREDIT_CHANGE_SQL)
                    .bind(payment)
                    .bind(reminder_id)
                    .bind(to)
                    .bind(reason)
                    .bind(now.timestamp())
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        }
    };
}

pub(crate) use credit_withdrawal;
