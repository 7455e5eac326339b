//! The reminder side of the store: what a scan hands to the backends, and
//! what they hand back. The backends turn a [`RuleOccurrences`] into one
//! set-based `INSERT … SELECT` that is idempotent through the unique key
//! (participant, contribution month, rule, channel).

use std::sync::Arc;

use crate::domain::{Channel, ReminderStatus, SkipReason};

/// One kelurahan and contribution month on which a rule fires: every BPU
/// participant of `kelurahan_code` whose first unpaid month is
/// `contribution_month` gets a reminder (unless filtered out or opted out).
///
/// A country's scan holds about a million of these (a kelurahan, rule and
/// month each), so the code and the reason are shared, not copied: every
/// occurrence of a kelurahan points at one code, and the kelurahan of a
/// time zone that have no override share one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The kelurahan, dotted.
    pub kelurahan_code: Arc<str>,
    /// The first unpaid month (participants with `paid_through = month - 1`).
    pub contribution_month: i32,
    /// Local date the rule falls on (days since 1970-01-01).
    pub occurrence_date: i32,
    /// Local date it is to be sent on (days since 1970-01-01).
    pub send_date: i32,
    /// Planned send instant (Unix seconds), already out of quiet hours.
    pub planned_at: i64,
    /// Instant after which it must not be sent (Unix seconds).
    pub expires_at: Option<i64>,
    /// Set when the occurrence is too late to send: recorded as skipped with this reason.
    pub skip_reason: Option<Arc<str>>,
}

/// Every occurrence of one rule on one channel, for one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOccurrences {
    /// The rule's stable name.
    pub rule: String,
    /// The rule's `offset_days` from its anchor, stored for reading (which
    /// reminder keeps a day is decided on the occurrence dates).
    pub rule_offset: i32,
    pub channel: Channel,
    /// Funding sources the rule applies to (`self`, `collective`, `budget`); `None` for all.
    pub funding: Option<Vec<String>>,
    pub occurrences: Vec<Occurrence>,
    /// Whether the rule spares the holdout group: its members (the
    /// `holdout_members` table) get this rule's reminder recorded as skipped
    /// with reason `holdout` instead of a pending one.
    pub holdout: bool,
}

/// One statement of an insert, for one part of a batch's occurrences:
/// the same `INSERT … SELECT` with its own status, reason and condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum InsertPass {
    /// Due now: pending (the holdout group left out when the rule spares it).
    Pending,
    /// Due now for the holdout group of a rule that spares it: skipped, reason `holdout`.
    HeldOut,
    /// Too late to send: skipped with the occurrence's reason.
    Skipped,
    /// A day that had passed before the last scan: skipped, only for
    /// participants a payment recorded after the day moved onto its month.
    PassedBeforePayment,
}

impl InsertPass {
    /// The passes `batch` needs, in the order they run.
    pub fn of(batch: &RuleOccurrences) -> Vec<Self> {
        let mut passes = vec![Self::Pending];
        if batch.holdout {
            passes.push(Self::HeldOut);
        }
        passes.extend([Self::Skipped, Self::PassedBeforePayment]);
        passes
    }

    /// Whether occurrence `o` belongs to this pass.
    pub fn takes(self, o: &Occurrence) -> bool {
        let passed = SkipReason::PassedBeforePayment.as_str();
        match self {
            Self::Pending | Self::HeldOut => o.skip_reason.is_none(),
            Self::Skipped => o.skip_reason.as_deref().is_some_and(|r| r != passed),
            Self::PassedBeforePayment => o.skip_reason.as_deref() == Some(passed),
        }
    }

    /// The status the pass's rows get.
    pub fn status(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            _ => "skipped",
        }
    }

    /// Whether the pass's rows count as created (else as skipped).
    pub fn creates(self) -> bool {
        self == Self::Pending
    }

    /// The reason column's expression (`occ.s`: the occurrence's reason).
    pub fn reason_sql(self) -> &'static str {
        match self {
            Self::HeldOut => "'holdout'",
            _ => "occ.s",
        }
    }

    /// The expiry column's expression: none for a row that is never sent.
    pub fn expires_sql(self) -> &'static str {
        match self {
            Self::HeldOut => "CAST(NULL AS BIGINT)",
            _ => "occ.e",
        }
    }

    /// The pass's own condition on `p` (participants) and `occ`, appended
    /// to the shared `WHERE`. A payment moved a participant onto a passed
    /// day when it covers the month before (their paid-through month now)
    /// and was recorded after the day's planned instant.
    pub fn condition(self, holdout: bool) -> &'static str {
        match self {
            Self::Pending if holdout => HELD_OUT_EXCLUDED,
            Self::Pending | Self::Skipped => "",
            Self::HeldOut => " AND EXISTS (SELECT 1 FROM holdout_members h WHERE h.participant_id = p.id)",
            Self::PassedBeforePayment => {
                " AND EXISTS (SELECT 1 FROM payments pay WHERE pay.participant_id = p.id \
                 AND pay.first_month <= occ.m - 1 AND pay.last_month >= occ.m - 1 AND pay.recorded_at > occ.p)"
            }
        }
    }
}

/// Leaves the holdout group out (pending reminders and previews of a rule that spares it).
pub(super) const HELD_OUT_EXCLUDED: &str =
    " AND NOT EXISTS (SELECT 1 FROM holdout_members h WHERE h.participant_id = p.id)";

/// A point in the participants' write history (a snapshot on PostgreSQL, a
/// write epoch on SQLite, as text): every participant written after the
/// mark was taken reads as written since it; none written before does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteMark(pub String);

/// A participant written since a [`WriteMark`], with what decides which of
/// a scan's occurrences can match them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct WrittenParticipant {
    /// The participant's id.
    pub id: i64,
    /// Their kelurahan now.
    pub kelurahan_code: String,
    /// Their paid-through month now (contribution month index).
    pub paid_through: i32,
}

/// What inserting one rule's occurrences did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsertedReminders {
    /// New pending reminders.
    pub created: u64,
    /// New reminders recorded as skipped (too late to send, passed before
    /// a payment, or held out).
    pub skipped: u64,
}

/// A reminder as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct ReminderRecord {
    pub id: i64,
    pub participant_id: i64,
    pub nik: String,
    pub kelurahan_code: String,
    pub contribution_month: i32,
    pub rule: String,
    pub rule_offset: i32,
    pub channel: String,
    pub status: String,
    pub reason: Option<String>,
    pub occurrence_date: i32,
    pub send_date: i32,
    pub planned_at: i64,
    pub expires_at: Option<i64>,
    pub attempts: i32,
    pub created_at: i64,
}

impl ReminderRecord {
    pub fn status(&self) -> Option<ReminderStatus> {
        self.status.parse().ok()
    }
}

/// How many participants one occurrence would remind, for the preview.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct PreviewCount {
    pub kelurahan_code: String,
    pub contribution_month: i32,
    pub participants: i64,
}

/// The figures of one scan, stored for metrics and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanTotals {
    pub started_at: i64,
    pub finished_at: i64,
    pub created: u64,
    pub skipped: u64,
    pub superseded: u64,
    pub cancelled: u64,
    /// Pending reminders given a new plan after a schedule edit.
    pub replanned: u64,
}

/// The SQL condition on `p` (participants) that a channel needs: a contact
/// for it, and a preference that includes it.
pub(super) fn channel_condition(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "p.phone IS NOT NULL AND p.preferred_channel IN ('sms', 'both')",
        Channel::Email => "p.email IS NOT NULL AND p.preferred_channel IN ('email', 'both')",
    }
}

/// Pending reminders that must give way: another reminder holds the same
/// participant, channel and send date and is under way already, or is more
/// urgent (see `scan::urgency`): its rule falls on a later date, or on the
/// same date and is written later in the schedules (`ranks`: each rule's
/// position, from the bound list `$3`); rules no longer in the schedules
/// rank lowest, and an exact tie goes to the older row. Only groups with
/// more than one holder are examined, found through the (send_date,
/// participant, channel) index, so the cost follows the recent reminders,
/// not the history. `{ranks}` is the backend's `(rule, pos)` row source.
pub(super) fn supersede_sql(ranks: &str) -> String {
    let holding = "('pending', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'unknown')";
    let rank = |alias: &str| format!("COALESCE((SELECT pos FROM ranks WHERE ranks.rule = {alias}.rule), -1)");
    format!(
        "WITH ranks (rule, pos) AS ({ranks}) \
         UPDATE reminders \
         SET status = 'superseded', \
             reason = 'one message per channel per day: a more urgent reminder holds this day', \
             updated_at = $2 \
         WHERE id IN ( \
           SELECT r.id FROM reminders r \
           WHERE r.status = 'pending' AND r.send_date >= $1 \
             AND (r.send_date, r.participant_id, r.channel) IN ( \
               SELECT send_date, participant_id, channel FROM reminders \
               WHERE send_date >= $1 AND status IN {holding} \
               GROUP BY send_date, participant_id, channel HAVING COUNT(*) > 1) \
             AND EXISTS ( \
               SELECT 1 FROM reminders o \
               WHERE o.send_date = r.send_date AND o.participant_id = r.participant_id AND o.channel = r.channel \
                 AND o.id <> r.id AND o.status IN {holding} \
                 AND (o.status <> 'pending' \
                      OR (o.occurrence_date, {o_rank}, -o.id) > (r.occurrence_date, {r_rank}, -r.id))))",
        o_rank = rank("o"),
        r_rank = rank("r"),
    )
}

/// Pending reminders of a rule that no longer exists; `{rules}` is the
/// dialect's condition that `rule` is in the list bound to `$1`.
pub(super) const CANCEL_REMOVED_SQL: &str = "UPDATE reminders SET status = 'cancelled', \
     reason = 'rule ' || rule || ' was removed from the schedules', updated_at = $2 \
     WHERE status = 'pending' AND NOT ({rules})";

pub(super) const RECORD_SCAN_SQL: &str = "INSERT INTO scans (started_at, finished_at, created, skipped, superseded, \
     cancelled, replanned, plan_fingerprints) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// The rule fingerprints the last scan planned under (JSON), if it stored any.
pub(super) const LAST_PLAN_FINGERPRINTS_SQL: &str = "SELECT plan_fingerprints FROM scans ORDER BY id DESC LIMIT 1";

pub(super) const LIST_REMINDERS_SQL: &str = "SELECT r.id, r.participant_id, p.nik, r.kelurahan_code, \
     r.contribution_month, r.rule, r.rule_offset, r.channel, r.status, r.reason, r.occurrence_date, r.send_date, \
     r.planned_at, r.expires_at, r.attempts, r.created_at \
     FROM reminders r JOIN participants p ON p.id = r.participant_id \
     WHERE ($1 IS NULL OR p.nik = $1) ORDER BY r.id DESC LIMIT $2";

pub(super) const REMINDER_COUNTS_SQL: &str =
    "SELECT rule, status, COUNT(*) FROM reminders GROUP BY rule, status ORDER BY rule, status";

/// A JSON array of strings, the form lists are bound in by the re-plan and
/// supersede statements on both backends.
pub(super) fn json_strings(items: &[String]) -> String {
    serde_json::Value::Array(items.iter().cloned().map(serde_json::Value::String).collect()).to_string()
}

/// Expands, for one backend, the functions that record a scan, supersede,
/// read unsent groups and write a re-plan. `$db`: the database type (its
/// [`Dialect`](crate::store::common::Dialect) opens the write transaction); `$lock_rows`: whether the rows a
/// move changes must be locked first (reads take no locks); `$ranks`: its `(rule, pos)` row
/// source from the JSON list `$3`; `$groups`: its group row source from the
/// JSON array `$1`, aliased `g`; `$rules_in`: its "rule in the JSON list
/// `$1`" condition; `$kept_in`: its "`p.funding` in the JSON list `$2`"
/// condition.
macro_rules! reminder_plan_queries {
    (
        $db:ty,
        lock_rows: $lock_rows:expr,
        ranks: $ranks:expr,
        groups: $groups:expr,
        rules_in: $rules_in:expr,
        kept_in: $kept_in:expr
    ) => {
        use crate::store::reminders::{
            LAST_PLAN_FINGERPRINTS_SQL, LIST_REMINDERS_SQL, RECORD_SCAN_SQL, REMINDER_COUNTS_SQL, ReminderRecord,
            ScanTotals, json_strings, supersede_sql,
        };

        /// Reminders, newest first, optionally of one participant only.
        pub(super) async fn list_reminders(
            pool: &sqlx::Pool<$db>,
            nik: Option<&str>,
            limit: i64,
        ) -> Result<Vec<ReminderRecord>, crate::store::StoreError> {
            Ok(sqlx::query_as(LIST_REMINDERS_SQL)
                .bind(nik)
                .bind(limit)
                .fetch_all(pool)
                .await?)
        }

        /// Reminders per rule and status.
        pub(super) async fn reminder_counts(
            pool: &sqlx::Pool<$db>,
        ) -> Result<Vec<(String, String, i64)>, crate::store::StoreError> {
            Ok(sqlx::query_as(REMINDER_COUNTS_SQL).fetch_all(pool).await?)
        }

        use crate::store::replan::{
            ChangeKind, Replan, ReplanCounts, UnsentGroup, funding_cancel_sql, replan_cancel_sql, replan_history_sql,
            replan_lock_sql, replan_move_sql, replan_release_sql, unsent_groups_sql,
        };

        pub(super) async fn record_scan(
            pool: &sqlx::Pool<$db>,
            t: &ScanTotals,
            fingerprints: &str,
        ) -> Result<(), crate::store::StoreError> {
            sqlx::query(RECORD_SCAN_SQL)
                .bind(t.started_at)
                .bind(t.finished_at)
                .bind(t.created as i64)
                .bind(t.skipped as i64)
                .bind(t.superseded as i64)
                .bind(t.cancelled as i64)
                .bind(t.replanned as i64)
                .bind(fingerprints)
                .execute(pool)
                .await?;
            Ok(())
        }

        pub(super) async fn last_plan_fingerprints(
            pool: &sqlx::Pool<$db>,
        ) -> Result<Option<String>, crate::store::StoreError> {
            let row: Option<(Option<String>,)> = sqlx::query_as(LAST_PLAN_FINGERPRINTS_SQL)
                .fetch_optional(pool)
                .await?;
            Ok(row.and_then(|(f,)| f))
        }

        pub(super) async fn supersede(
            pool: &sqlx::Pool<$db>,
            from: i32,
            rule_order: &[String],
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<u64, crate::store::StoreError> {
            // One statement is atomic on its own.
            Ok(sqlx::query(sqlx::AssertSqlSafe(supersede_sql($ranks)))
                .bind(from)
                .bind(now.timestamp())
                .bind(json_strings(rule_order))
                .execute(pool)
                .await?
                .rows_affected())
        }

        pub(super) async fn unsent_groups(
            pool: &sqlx::Pool<$db>,
            rules: &[String],
            recent_send_date: i32,
        ) -> Result<Vec<UnsentGroup>, crate::store::StoreError> {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(unsent_groups_sql($rules_in)))
                .bind(json_strings(rules))
                .bind(recent_send_date)
                .fetch_all(pool)
                .await?)
        }

        pub(super) async fn apply_replan(
            pool: &sqlx::Pool<$db>,
            replan: &Replan,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<ReplanCounts, crate::store::StoreError> {
            let at = now.timestamp();
            let mut tx = <$db as crate::store::common::Dialect>::begin_write(pool).await?;
            let mut counts = ReplanCounts::default();
            if let Some(rows) = replan.groups_json(ChangeKind::Move) {
                if $lock_rows {
                    sqlx::query(sqlx::AssertSqlSafe(replan_lock_sql($groups)))
                        .bind(&rows)
                        .execute(&mut *tx)
                        .await?;
                }
                replan_step(&mut tx, replan_history_sql($groups), &rows, at).await?;
                counts.moved = replan_step(&mut tx, replan_move_sql($groups), &rows, at).await?;
            }
            if let Some(rows) = replan.groups_json(ChangeKind::Cancel) {
                counts.cancelled += replan_step(&mut tx, replan_cancel_sql($groups), &rows, at).await?;
            }
            if let Some(rows) = replan.groups_json(ChangeKind::Release) {
                counts.released = replan_step(&mut tx, replan_release_sql($groups), &rows, at).await?;
            }
            for cancel in &replan.funding {
                counts.cancelled += sqlx::query(sqlx::AssertSqlSafe(funding_cancel_sql($kept_in)))
                    .bind(&cancel.rule)
                    .bind(json_strings(&cancel.kept))
                    .bind(&cancel.reason)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            Ok(counts)
        }

        /// Runs one of a re-plan's statements over its groups `rows` at `at`;
        /// the rows it changed.
        async fn replan_step(
            tx: &mut sqlx::Transaction<'static, $db>,
            sql: String,
            rows: &str,
            at: i64,
        ) -> Result<u64, crate::store::StoreError> {
            Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(rows)
                .bind(at)
                .execute(&mut **tx)
                .await?
                .rows_affected())
        }
    };
}

pub(crate) use reminder_plan_queries;
