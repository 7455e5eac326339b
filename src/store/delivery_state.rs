//! Delivery receipts and opt-out: what the store is handed and hands back,
//! and the pure transition rule both backends apply under a row lock.
//!
//! The rule follows GOV.UK Notify: statuses only move forward; once a
//! reminder is final, later receipts (repeated, late or contradicting) are
//! kept and logged but change nothing; a receipt that arrives while the
//! reminder is still `sending` (the send's record not yet written,
//! notifications-api PR 2916) is applied like any other, and the
//! dispatcher's later "record sent" leaves a final status alone.

use std::fmt;
use std::str::FromStr;

use crate::domain::{Nik, PhoneNumber, ReminderStatus};

/// A delivery receipt's state, normalised across gateways. Stored in `receipts.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptState {
    /// The gateway took the message (Jasmin level-1 `ESME_ROK`, Twilio `queued`).
    Accepted,
    /// Handed to the SMSC or operator (Kannel 8, Jasmin `ACCEPTD`, Twilio `sent`).
    Sent,
    /// Queued at the SMSC (Kannel 4, Infobip `PENDING`).
    Buffered,
    /// On the handset.
    Delivered,
    /// Permanently not delivered.
    Undelivered,
    /// Its validity ran out at the operator.
    Expired,
    /// A state the gateway reports that means nothing final (Jasmin `UNKNOWN`).
    Unknown,
}

impl ReceiptState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Sent => "sent",
            Self::Buffered => "buffered",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Expired => "expired",
            Self::Unknown => "unknown",
        }
    }

    /// Whether the receipt settles the message's fate.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Undelivered | Self::Expired)
    }
}

impl fmt::Display for ReceiptState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReceiptState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Accepted,
            Self::Sent,
            Self::Buffered,
            Self::Delivered,
            Self::Undelivered,
            Self::Expired,
            Self::Unknown,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| format!("unknown receipt state {s:?}"))
    }
}

/// One receipt to record, as parsed from a gateway's callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewReceipt<'a> {
    /// Our reminder id, when the gateway echoes it (Kannel `dlr-url`,
    /// Infobip `callbackData`, the webhook's id); it decides the match.
    pub reminder_id: Option<i64>,
    /// The gateway's message id, already normalised (see
    /// `channels::sms::providers::normalise_provider_id`); matched against the reminder's
    /// `provider_message_id` when there is no reminder id.
    pub provider_message_id: Option<&'a str>,
    /// What the receipt says.
    pub state: ReceiptState,
    /// The gateway's own words on a failure (Kannel's `%A`: `stat:EXPIRED
    /// err:022`, `NACK/0x00000045/…`), added to the reason of a reminder it
    /// settles as undelivered.
    pub detail: Option<&'a str>,
    /// The receipt as received (secrets removed), kept for audit.
    pub raw: &'a str,
}

/// Why a receipt changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoredBecause {
    /// The reminder is final already: the receipt is a repeat, late, or
    /// contradicts the first final receipt, which stands.
    Final(ReminderStatus),
    /// The reminder was never handed to a gateway (pending, or pending
    /// again after a failed attempt, and the receipt is not a delivery).
    NotSent(ReminderStatus),
    /// No reminder has the receipt's reminder id; a reminder exists before
    /// its send, so this receipt can never match.
    NoSuchReminder,
    /// The reminder went out through another gateway.
    OtherGateway,
}

impl fmt::Display for IgnoredBecause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Final(status) => write!(f, "the reminder is final already ({status})"),
            Self::NotSent(status) => write!(f, "the reminder was not sent ({status})"),
            Self::NoSuchReminder => f.write_str("no reminder has this id"),
            Self::OtherGateway => f.write_str("the reminder was sent through another gateway"),
        }
    }
}

/// What recording a receipt did. Stored in `receipts.outcome` as
/// [`ReceiptOutcome::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// The reminder moved to `status`.
    Applied { reminder_id: i64, status: ReminderStatus },
    /// An intermediate state (accepted, sent, buffered) of a reminder not
    /// yet final: kept, nothing to change.
    Noted { reminder_id: i64 },
    /// Kept and logged, nothing changed.
    Ignored {
        reminder_id: Option<i64>,
        because: IgnoredBecause,
    },
    /// No send is recorded with this gateway message id yet: kept, and
    /// applied by `apply_waiting_receipts` once the send is recorded.
    Waiting,
}

impl ReceiptOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Applied { .. } => "applied",
            Self::Noted { .. } => "noted",
            Self::Ignored { .. } => "ignored",
            Self::Waiting => "waiting",
        }
    }

    /// The matched reminder, if any.
    pub fn reminder_id(&self) -> Option<i64> {
        match *self {
            Self::Applied { reminder_id, .. } | Self::Noted { reminder_id } => Some(reminder_id),
            Self::Ignored { reminder_id, .. } => reminder_id,
            Self::Waiting => None,
        }
    }
}

/// What opting a participant out (or back in) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOutChange {
    /// The participant.
    pub participant_id: i64,
    /// Their NIK, for the operator (mask it before logging).
    pub nik: String,
    /// The flag as it is now.
    pub opted_out: bool,
    /// Whether the flag changed (false: it was set that way already).
    pub changed: bool,
    /// Pending reminders cancelled with the reason "opted out".
    pub cancelled_reminders: u64,
}

/// The reason recorded on reminders cancelled by an opt-out.
pub const OPTED_OUT_REASON: &str = "opted out";

/// The reason recorded when an operator reports the message expired.
pub const EXPIRED_REASON: &str = "expired at the operator";

/// The reason recorded when the network reports it undelivered.
pub const UNDELIVERED_REASON: &str = "not delivered to the handset (delivery receipt)";

/// The reason a reminder left `sent` without a final receipt gets.
pub fn timeout_reason(hours: i64) -> String {
    format!("no final delivery receipt within {hours} hours")
}

/// The reminder columns a receipt decision needs.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub(crate) struct ReminderForReceipt {
    pub id: i64,
    pub status: String,
    pub gateway: Option<String>,
    pub provider_message_id: Option<String>,
    pub attempts: i32,
}

/// What to do with one receipt for one reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Move the reminder to `to` with `reason`, and set `final_at`.
    Change {
        to: ReminderStatus,
        reason: Option<&'static str>,
    },
    /// Keep the receipt; the reminder stays as it is.
    Note,
    /// Keep and log the receipt; nothing changes.
    Ignore(IgnoredBecause),
}

/// The transition rule: statuses only move forward, and only a final
/// receipt moves them. `attempts` tells a reminder waiting for a retry
/// (pending, tried before) from one never tried.
pub(crate) fn decide(current: ReminderStatus, attempts: i32, state: ReceiptState) -> Decision {
    use ReminderStatus as S;
    match current {
        S::Sending | S::Sent => match state {
            ReceiptState::Delivered => Decision::Change {
                to: S::Delivered,
                reason: None,
            },
            ReceiptState::Undelivered => Decision::Change {
                to: S::Undelivered,
                reason: Some(UNDELIVERED_REASON),
            },
            ReceiptState::Expired => Decision::Change {
                to: S::Undelivered,
                reason: Some(EXPIRED_REASON),
            },
            ReceiptState::Accepted | ReceiptState::Sent | ReceiptState::Buffered | ReceiptState::Unknown => {
                Decision::Note
            }
        },
        // A send that timed out on our side may still have reached the
        // handset; its delivery receipt settles it, and the retry that would
        // have sent it twice finds the reminder final.
        S::Pending if attempts > 0 && state == ReceiptState::Delivered => Decision::Change {
            to: S::Delivered,
            reason: None,
        },
        S::Pending => Decision::Ignore(IgnoredBecause::NotSent(current)),
        _ => Decision::Ignore(IgnoredBecause::Final(current)),
    }
}

/// A status change a receipt makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transition {
    /// The status the reminder has now (the update is guarded by it).
    pub from: String,
    /// The status it moves to.
    pub to: ReminderStatus,
    /// The reason recorded with it.
    pub reason: Option<String>,
}

impl Transition {
    /// The same move with the gateway's `detail` added to its reason.
    pub(crate) fn with_detail(mut self, detail: Option<&str>) -> Self {
        if let (Some(reason), Some(detail)) = (&self.reason, detail) {
            self.reason = Some(format!("{reason}; SMSC: {detail}"));
        }
        self
    }

    /// Whether the move takes away the credit the reminder may hold for a
    /// payment: from a status that counts for attribution to one that does
    /// not (a late "undelivered").
    pub(crate) fn withdraws_credit(&self) -> bool {
        self.from.parse().is_ok_and(counts_for_attribution) && !counts_for_attribution(self.to)
    }

    /// The reason kept with the payments' credit moved off `reminder_id`.
    pub(crate) fn credit_reason(&self, reminder_id: i64) -> String {
        format!(
            "reminder {reminder_id} became {} after a payment was credited to it (delivery receipt)",
            self.to
        )
    }
}

/// Whether a reminder in `status` may be credited with a payment: it reached
/// its gateway and was not reported undelivered (see
/// `shared::CREDITABLE_STATUSES`, the same list in SQL).
pub fn counts_for_attribution(status: ReminderStatus) -> bool {
    matches!(
        status,
        ReminderStatus::Sent | ReminderStatus::Delivered | ReminderStatus::Unknown
    )
}

/// What one receipt does to the reminder it was matched with (`found`,
/// locked by the caller). `waitable`: the receipt names no reminder id but a
/// gateway message id, so with no match it waits for the send's record.
pub(crate) fn plan_receipt(
    found: Option<&ReminderForReceipt>,
    waitable: bool,
    gateway: &str,
    state: ReceiptState,
) -> (ReceiptOutcome, Option<Transition>) {
    let Some(reminder) = found else {
        let outcome = if waitable {
            ReceiptOutcome::Waiting
        } else {
            ReceiptOutcome::Ignored {
                reminder_id: None,
                because: IgnoredBecause::NoSuchReminder,
            }
        };
        return (outcome, None);
    };
    let reminder_id = Some(reminder.id);
    if !gateway_matches(reminder.gateway.as_deref(), gateway) {
        let because = IgnoredBecause::OtherGateway;
        return (ReceiptOutcome::Ignored { reminder_id, because }, None);
    }
    // Statuses are only ever written from `ReminderStatus`; an unreadable
    // one is treated as final so nothing overwrites it.
    let current = reminder.status.parse().unwrap_or(ReminderStatus::Unknown);
    match decide(current, reminder.attempts, state) {
        Decision::Change { to, reason } => (
            ReceiptOutcome::Applied {
                reminder_id: reminder.id,
                status: to,
            },
            Some(Transition {
                from: reminder.status.clone(),
                to,
                reason: reason.map(str::to_string),
            }),
        ),
        Decision::Note => (
            ReceiptOutcome::Noted {
                reminder_id: reminder.id,
            },
            None,
        ),
        Decision::Ignore(because) => (ReceiptOutcome::Ignored { reminder_id, because }, None),
    }
}

/// Whether a reminder recorded as sent through `recorded` may take a receipt
/// from `gateway`. A reminder still `sending` may have no gateway yet.
pub(crate) fn gateway_matches(recorded: Option<&str>, gateway: &str) -> bool {
    recorded.is_none_or(|g| g == gateway)
}

/// Logs what a receipt did; ignored receipts at info level, as GOV.UK
/// Notify logs its "duplicate update" warnings, so an operator can see late
/// and contradicting receipts.
pub(crate) fn log_outcome(gateway: &str, state: ReceiptState, outcome: &ReceiptOutcome) {
    match outcome {
        ReceiptOutcome::Ignored { reminder_id, because } => {
            tracing::info!(gateway, receipt = %state, reminder_id = ?reminder_id, %because, "delivery receipt ignored");
        }
        other => {
            tracing::debug!(gateway, receipt = %state, reminder_id = ?other.reminder_id(), outcome = other.as_str(), "delivery receipt recorded");
        }
    }
}

/// Inserts one receipt row.
pub(crate) const INSERT_RECEIPT_SQL: &str = "INSERT INTO receipts (gateway, provider_message_id, reminder_id, status, \
     raw, received_at, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// The reminder a receipt names by id.
pub(crate) const REMINDER_BY_ID_SQL: &str =
    "SELECT id, status, gateway, provider_message_id, attempts FROM reminders WHERE id = $1";

/// The reminder a receipt names by the gateway's message id.
pub(crate) const REMINDER_BY_PROVIDER_SQL: &str = "SELECT id, status, gateway, provider_message_id, attempts \
     FROM reminders WHERE gateway = $1 AND provider_message_id = $2 ORDER BY id DESC LIMIT 1";

/// Moves a reminder on; guarded by its current status (the row is locked,
/// so the guard only documents the expectation).
pub(crate) const APPLY_RECEIPT_SQL: &str = "UPDATE reminders SET status = $2, reason = $3, final_at = $4, \
     updated_at = $4 WHERE id = $1 AND status = $5";

/// Receipts kept waiting for one (gateway, message id), in received order.
pub(crate) const WAITING_RECEIPTS_SQL: &str = "SELECT id, status FROM receipts \
     WHERE reminder_id IS NULL AND outcome = 'waiting' AND gateway = $1 AND provider_message_id = $2 ORDER BY id";

/// Attaches a waiting receipt to its reminder.
pub(crate) const MATCH_RECEIPT_SQL: &str = "UPDATE receipts SET reminder_id = $2, outcome = $3 WHERE id = $1";

/// Reminders sent before `$1` with no final receipt become `unknown`.
pub(crate) const TIME_OUT_SQL: &str = "UPDATE reminders SET status = 'unknown', reason = $2, final_at = $3, \
     updated_at = $3 WHERE status = 'sent' AND sent_at < $1";

/// Sets or clears the opt-out flag; `opted_out_at` keeps the first opt-out.
pub(crate) const SET_OPT_OUT_SQL: &str = "UPDATE participants SET opted_out = $2, \
     opted_out_at = CASE WHEN $2 THEN COALESCE(opted_out_at, $3) ELSE NULL END, updated_at = $3 WHERE id = $1";

/// Cancels the pending reminders of an opted-out participant.
pub(crate) const CANCEL_OPTED_OUT_SQL: &str = "UPDATE reminders SET status = 'cancelled', reason = $2, updated_at = $3 WHERE participant_id = $1 AND status = 'pending'";

/// A participant whose opt-out is changing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub(crate) struct OptOutTarget {
    pub id: i64,
    pub nik: String,
    pub opted_out: bool,
}

/// Participants by NIK, for an opt-out.
pub(crate) const OPT_OUT_BY_NIK_SQL: &str = "SELECT id, nik, opted_out FROM participants WHERE nik = $1";

/// Participants by E.164 phone (several may share one), for an opt-out.
pub(crate) const OPT_OUT_BY_PHONE_SQL: &str =
    "SELECT id, nik, opted_out FROM participants WHERE phone = $1 ORDER BY id";

/// Whose opt-out changes: the participant with a NIK, or every participant
/// with a phone number.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OptOutBy<'a> {
    Nik(&'a Nik),
    Phone(&'a PhoneNumber),
}

impl OptOutBy<'_> {
    /// The query that finds the participants, and the key bound to its `$1`.
    pub(crate) fn query(&self) -> (&'static str, &str) {
        match self {
            Self::Nik(nik) => (OPT_OUT_BY_NIK_SQL, nik.as_str()),
            Self::Phone(phone) => (OPT_OUT_BY_PHONE_SQL, phone.as_str()),
        }
    }
}

#[cfg(test)]
#[path = "delivery_state_tests.rs"]
mod tests;
