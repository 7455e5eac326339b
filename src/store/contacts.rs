//! The contact-verification list's rows: BPU participants without any
//! contact data, and the recent failed messages of the others, sent after
//! their contact data last changed. The SQL means the same on SQLite and
//! PostgreSQL, so it is written once; [`contact_queries`] expands it over
//! each backend's pool. Which failures put someone on the list is decided
//! in [`crate::domain::contact_check`].

/// One participant, and one of their last two failed messages of a channel
/// (none for a participant listed for having no contact data).
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct ContactCheckRow {
    /// The stored participant id.
    pub participant_id: i64,
    /// NIK (only ever shown masked outside the kelurahan office's CSV).
    pub nik: String,
    /// Name as stored.
    pub name: String,
    /// E.164 phone number, if any.
    pub phone: Option<String>,
    /// E-mail address, if any.
    pub email: Option<String>,
    /// The participant's kelurahan.
    pub kelurahan_code: String,
    /// Since when the contact data is as it is: its last change by an
    /// import, else the participant's creation (Unix seconds).
    pub contact_since: i64,
    /// `sms` or `email`; `None` without a failed message.
    pub channel: Option<String>,
    /// 1 for the channel's newest ended message, 2 for the one before.
    pub n: Option<i64>,
    /// `undelivered` or `failed`.
    pub status: Option<String>,
    /// The reason stored with it.
    pub reason: Option<String>,
    /// When it ended (Unix seconds).
    pub ended_at: Option<i64>,
}

/// The rows for kelurahan codes starting with `$1`: per participant, the
/// channel's last two ended messages (delivered, undelivered, failed or
/// unknown) sent after the contact data last changed, of which only the
/// failed ones are returned; and participants with no phone and no e-mail.
pub const CONTACT_CHECK_SQL: &str = "\
WITH ended AS (
    SELECT r.participant_id, r.channel, r.status, r.reason,
           COALESCE(r.final_at, r.updated_at) AS ended_at,
           ROW_NUMBER() OVER (PARTITION BY r.participant_id, r.channel
                              ORDER BY COALESCE(r.final_at, r.updated_at) DESC, r.id DESC) AS n
    FROM reminders r JOIN participants p ON p.id = r.participant_id
    WHERE p.kelurahan_code LIKE $1 || '%' AND p.segment = 'bpu'
      AND r.status IN ('delivered', 'undelivered', 'failed', 'unknown')
      AND (p.contact_changed_at IS NULL OR COALESCE(r.sent_at, r.final_at, r.updated_at) > p.contact_changed_at)
)
SELECT p.id AS participant_id, p.nik, p.name, p.phone, p.email, p.kelurahan_code,
       COALESCE(p.contact_changed_at, p.created_at) AS contact_since,
       e.channel, e.n, e.status, e.reason, e.ended_at
FROM participants p
LEFT JOIN ended e ON e.participant_id = p.id AND e.n <= 2 AND e.status IN ('undelivered', 'failed')
WHERE p.kelurahan_code LIKE $1 || '%' AND p.segment = 'bpu'
  AND (e.participant_id IS NOT NULL OR (p.phone IS NULL AND p.email IS NULL))
ORDER BY p.kelurahan_code, p.id, e.channel, e.n";

/// Expands, over the pool type `$pool`, the function that runs
/// [`CONTACT_CHECK_SQL`].
macro_rules! contact_queries {
    ($pool:ty) => {
        /// The contact-verification rows of kelurahan under `prefix` (all when `None`).
        pub(super) async fn contact_check_rows(
            pool: &$pool,
            prefix: Option<&str>,
        ) -> Result<Vec<crate::store::contacts::ContactCheckRow>, crate::store::StoreError> {
            Ok(sqlx::query_as(crate::store::contacts::CONTACT_CHECK_SQL)
                .bind(prefix.unwrap_or_default())
                .fetch_all(pool)
                .await?)
        }
    };
}

pub(crate) use contact_queries;
