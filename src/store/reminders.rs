//! The reminder side of the store: what a scan hands to the backends, and
//! what they hand back. The backends turn a [`RuleOccurrences`] into one
//! set-based `INSERT … SELECT` that is idempotent through the unique key
//! (participant, contribution month, rule, channel).

use crate::domain::{Channel, ReminderStatus};

/// One kelurahan and contribution month on which a rule fires: every BPU
/// participant of `kelurahan_code` whose first unpaid month is
/// `contribution_month` gets a reminder (unless filtered out or opted out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The kelurahan, dotted.
    pub kelurahan_code: String,
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
    pub skip_reason: Option<String>,
}

/// Every occurrence of one rule on one channel, for one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOccurrences {
    /// The rule's stable name.
    pub rule: String,
    /// The rule's offset in days from the due date; also its urgency (higher wins a day).
    pub rule_offset: i32,
    pub channel: Channel,
    /// Funding sources the rule applies to (`self`, `collective`, `budget`); `None` for all.
    pub funding: Option<Vec<String>>,
    pub occurrences: Vec<Occurrence>,
}

/// What inserting one rule's occurrences did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsertedReminders {
    /// New pending reminders.
    pub created: u64,
    /// New reminders recorded as skipped (too late to send).
    pub skipped: u64,
}

/// A reminder as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
/// urgent (higher offset; on a tie, the older row). Only groups with more
/// than one holder are examined, found through the (send_date, participant,
/// channel) index, so the cost follows the recent reminders, not the history.
pub(super) const SUPERSEDE_SQL: &str = "UPDATE reminders \
     SET status = 'superseded', \
         reason = 'one message per channel per day: a more urgent reminder holds this day', \
         updated_at = $2 \
     WHERE id IN ( \
       SELECT r.id FROM reminders r \
       WHERE r.status = 'pending' AND r.send_date >= $1 \
         AND (r.send_date, r.participant_id, r.channel) IN ( \
           SELECT send_date, participant_id, channel FROM reminders \
           WHERE send_date >= $1 AND status IN ('pending', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'unknown') \
           GROUP BY send_date, participant_id, channel HAVING COUNT(*) > 1) \
         AND EXISTS ( \
           SELECT 1 FROM reminders o \
           WHERE o.send_date = r.send_date AND o.participant_id = r.participant_id AND o.channel = r.channel \
             AND o.id <> r.id \
             AND o.status IN ('pending', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'unknown') \
             AND (o.status <> 'pending' OR o.rule_offset > r.rule_offset \
                  OR (o.rule_offset = r.rule_offset AND o.id < r.id))))";

/// Pending reminders of a rule that no longer exists.
pub(super) const CANCEL_REMOVED_SQL_TAIL: &str = "SET status = 'cancelled', \
     reason = 'rule ' || rule || ' was removed from the schedules', updated_at = $2 \
     WHERE status = 'pending' AND rule NOT IN ";

/// Reminders of a rule whose timing changed that were never sent (pending,
/// superseded, skipped) give up their key so the new timing can apply; a
/// pending one is cancelled with the reason, the others keep their status.
pub(super) const REPLACE_CHANGED_SQL: &str = "UPDATE reminders \
     SET slot = NULL, updated_at = $3, \
         reason = CASE WHEN status = 'pending' \
             THEN 'rule ' || rule || ' changed (urgency ' || rule_offset || ' became ' || $2 || '); replaced' \
             ELSE reason END, \
         status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END \
     WHERE slot = 1 AND status IN ('pending', 'superseded', 'skipped') AND rule = $1 \
       AND (rule_offset < $2 OR rule_offset > $2)";

pub(super) const RECORD_SCAN_SQL: &str = "INSERT INTO scans (started_at, finished_at, created, skipped, superseded, \
     cancelled) VALUES ($1, $2, $3, $4, $5, $6)";

pub(super) const LIST_REMINDERS_SQL: &str = "SELECT r.id, r.participant_id, p.nik, r.kelurahan_code, \
     r.contribution_month, r.rule, r.rule_offset, r.channel, r.status, r.reason, r.occurrence_date, r.send_date, \
     r.planned_at, r.expires_at, r.attempts, r.created_at \
     FROM reminders r JOIN participants p ON p.id = r.participant_id \
     WHERE ($1 IS NULL OR p.nik = $1) ORDER BY r.id DESC LIMIT $2";

pub(super) const REMINDER_COUNTS_SQL: &str =
    "SELECT rule, status, COUNT(*) FROM reminders GROUP BY rule, status ORDER BY rule, status";
