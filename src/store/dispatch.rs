//! The dispatcher's side of the store: claiming ready reminders for a
//! registered dispatcher, and recording what each attempt came to, a group
//! of outcomes per statement.

use crate::domain::Channel;

/// A reminder claimed for sending, with the participant as they are now
/// (for the re-check at send time and the message).
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct ClaimedReminder {
    pub id: i64,
    pub participant_id: i64,
    pub kelurahan_code: String,
    pub contribution_month: i32,
    pub rule: String,
    /// Decoded as it is read: the schema allows only the channels there are.
    pub channel: Channel,
    pub planned_at: i64,
    pub expires_at: Option<i64>,
    /// Attempts so far, this one included (attempts are counted when an
    /// outcome is recorded, so the stored count is one less while it is sent).
    pub attempts: i32,
    pub nik: String,
    pub kpj: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub monthly_amount: i64,
    pub paid_through: i32,
    pub opted_out: bool,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Accepted by a gateway or the SMTP relay.
    Sent {
        /// The gateway's configured name, or `smtp`.
        gateway: String,
        provider_message_id: Option<String>,
        /// `gsm7` or `ucs2` for SMS.
        encoding: Option<String>,
        segments: Option<i32>,
    },
    /// A transient failure: back to pending until `next_attempt_at`.
    Retry { error: String, next_attempt_at: i64 },
    /// Refused permanently, or every attempt used.
    Failed { reason: String },
    /// Not sent: the re-check found a reason (paid, opted out, no phone, …).
    Cancelled { reason: String },
    /// Could not go out in time; never sent stale.
    Expired { reason: String },
    /// Outside the send window now: back to pending for `planned_at`.
    Deferred { planned_at: i64, reason: String },
    /// Not tried as far as the message is concerned: back to pending, ready
    /// at once, no attempt counted. The dispatcher stopped before the send,
    /// or every gateway of the channel is unavailable (an outage, or a
    /// configuration error to fix, is the gateway's failure, not the
    /// message's); `error` says which.
    Postponed { error: Option<String> },
}

impl AttemptOutcome {
    /// The outcome's name, for metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sent { .. } => "sent",
            Self::Retry { .. } => "retried",
            Self::Failed { .. } => "failed",
            Self::Cancelled { .. } => "cancelled",
            Self::Expired { .. } => "expired",
            Self::Deferred { .. } => "deferred",
            Self::Postponed { .. } => "postponed",
        }
    }

    /// Whether this outcome counts as an attempt: a message handed to a
    /// gateway (or refused for good). A re-check that cancels, expires or
    /// defers, and a postponement, do not.
    pub fn counts_as_attempt(&self) -> bool {
        matches!(self, Self::Sent { .. } | Self::Retry { .. } | Self::Failed { .. })
    }
}

/// One attempt's outcome as the row values the backends write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct OutcomeRow {
    pub id: i64,
    pub status: &'static str,
    pub reason: Option<String>,
    pub error: Option<String>,
    pub gateway: Option<String>,
    pub provider_message_id: Option<String>,
    pub encoding: Option<String>,
    pub segments: Option<i32>,
    pub next_attempt_at: Option<i64>,
    pub planned_at: Option<i64>,
    /// 1 when the outcome counts as an attempt.
    pub tried: i32,
}

impl OutcomeRow {
    pub(super) fn of(id: i64, outcome: &AttemptOutcome) -> Self {
        let base = Self {
            id,
            tried: i32::from(outcome.counts_as_attempt()),
            ..Self::default()
        };
        match outcome.clone() {
            AttemptOutcome::Sent {
                gateway,
                provider_message_id,
                encoding,
                segments,
            } => Self {
                status: "sent",
                gateway: Some(gateway),
                provider_message_id,
                encoding,
                segments,
                ..base
            },
            AttemptOutcome::Retry { error, next_attempt_at } => Self {
                status: "pending",
                error: Some(error),
                next_attempt_at: Some(next_attempt_at),
                ..base
            },
            AttemptOutcome::Failed { reason } => Self {
                status: "failed",
                error: Some(reason.clone()),
                reason: Some(reason),
                ..base
            },
            AttemptOutcome::Cancelled { reason } => Self {
                status: "cancelled",
                reason: Some(reason),
                ..base
            },
            AttemptOutcome::Expired { reason } => Self {
                status: "expired",
                reason: Some(reason),
                ..base
            },
            AttemptOutcome::Deferred { planned_at, reason } => Self {
                status: "pending",
                reason: Some(reason),
                planned_at: Some(planned_at),
                ..base
            },
            AttemptOutcome::Postponed { error } => Self {
                status: "pending",
                error,
                ..base
            },
        }
    }
}

/// Columns of a claimed reminder joined with its participant; `attempts`
/// counts the attempt being made.
pub(super) const CLAIMED_COLUMNS: &str = "r.id, r.participant_id, r.kelurahan_code, r.contribution_month, r.rule, \
     r.channel, r.planned_at, r.expires_at, r.attempts + 1 AS attempts, p.nik, p.kpj, p.name, p.phone, p.email, \
     p.monthly_amount, p.paid_through, p.opted_out";

/// Ready reminders of channel `$2` at `$1` (now): pending, and past their
/// planned time or, after a transient failure, past their retry wait. The
/// expression and the `status` condition are those of the `reminders_ready`
/// partial index, so the claim walks it in [`READY_ORDER`] with LIMIT.
pub(super) const READY: &str = "status = 'pending' AND channel = $2 AND COALESCE(next_attempt_at, planned_at) <= $1";

/// The order claims take ready reminders in: the index's own.
pub(super) const READY_ORDER: &str = "channel, COALESCE(next_attempt_at, planned_at), id";

/// Why a released claim went back to pending (kept as its last error).
pub(super) const RELEASED: &str = "claim released: its dispatcher stopped heartbeating";

/// The assignments that record an outcome row `t` on a reminder at `NOW`
/// (the same text on both backends; `NOW` is replaced by the parameter).
/// A receipt may have made the reminder final while it was being sent (its
/// id travels in the callback URL): then the status stays, and only the
/// send's facts (gateway, message id, encoding) are added. Attempts are
/// counted here, when the outcome is known, never at the claim.
pub(super) const OUTCOME_SET: &str = "status = CASE WHEN reminders.status IN ('sending', 'pending') THEN t.status \
         ELSE reminders.status END, \
     reason = COALESCE(t.reason, reminders.reason), \
     last_error = COALESCE(t.error, reminders.last_error), \
     gateway = COALESCE(t.gateway, reminders.gateway), \
     provider_message_id = COALESCE(t.pid, reminders.provider_message_id), \
     encoding = COALESCE(t.enc, reminders.encoding), \
     segments = COALESCE(t.seg, reminders.segments), \
     attempts = reminders.attempts + t.tried, \
     sent_at = CASE WHEN t.status = 'sent' THEN NOW ELSE reminders.sent_at END, \
     final_at = CASE WHEN reminders.status IN ('sending', 'pending') AND t.status IN ('failed', 'cancelled', 'expired') \
         THEN NOW ELSE reminders.final_at END, \
     next_attempt_at = t.next_at, \
     planned_at = COALESCE(t.planned, reminders.planned_at), \
     lease_until = NULL, leased_by = NULL, updated_at = NOW";

/// Which reminders an outcome row `t` may be written on: those still
/// `sending` under `WORKER`'s claim; for a send, those a receipt already
/// made final during it (receipts never touch the claim); and for a send,
/// one whose claim was released while it was at the gateway (the database
/// did not hear this dispatcher's heartbeat for the lease period) and that
/// nobody has claimed since: the message went out, so it is recorded.
pub(super) const OUTCOME_WHERE: &str = "reminders.id = t.id AND ((reminders.leased_by = WORKER \
     AND (reminders.status = 'sending' OR (t.status = 'sent' AND reminders.status IN ('delivered', 'undelivered')))) \
     OR (t.status = 'sent' AND reminders.status = 'pending' AND reminders.leased_by IS NULL))";
