//! What the store keeps and returns for the weekly coordinator digest: the
//! participants behind in one kelurahan, and one row per (kelurahan, ISO
//! week) that is claimed before sending and marked sent after the relay
//! accepted.

use serde::Serialize;

/// A digest being sent: claimed under a lease.
pub const STATUS_SENDING: &str = "sending";
/// A digest the relay accepted (terminal).
pub const STATUS_SENT: &str = "sent";
/// A digest whose sending failed; claimable again from `next_attempt_at`.
pub const STATUS_FAILED: &str = "failed";

/// A BPU participant of one kelurahan paid through an earlier month than
/// asked: someone a digest may list.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct BehindParticipant {
    /// The stored participant id (for a stable order).
    pub id: i64,
    /// The participant's name.
    pub name: String,
    /// E.164 phone number, if any (only ever shown masked).
    pub phone: Option<String>,
    /// `self`, `collective` or `budget`.
    pub funding: String,
    /// The month paid through, as a month index.
    pub paid_through: i32,
    /// The monthly contribution, in rupiah.
    pub monthly_amount: i64,
    /// Whether the participant opted out of reminders (still listed: still behind).
    pub opted_out: bool,
}

/// A claim on the digest of one kelurahan and week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestClaim<'a> {
    /// The kelurahan code, dotted.
    pub kelurahan_code: &'a str,
    /// The ISO week key, `2025-W29`.
    pub week: &'a str,
    /// The cron occurrence the digest answers (Unix seconds).
    pub scheduled_at: i64,
    /// Who claims it (a daemon instance's worker name).
    pub worker: &'a str,
    /// How long the claim holds; a crashed instance's claim runs out then.
    pub lease_secs: u64,
}

/// How one attempt at a digest ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestOutcome {
    /// The relay accepted it.
    Sent {
        /// BPU participants of the kelurahan when it was composed.
        bpu: i64,
        /// How many of them were active.
        active: i64,
        /// How many participants it listed as behind.
        behind: i64,
        /// How many coordinator addresses it went to.
        recipients: i32,
        /// The Message-ID it was sent with.
        message_id: String,
    },
    /// It could not be composed or sent; it may be claimed again from `retry_at`.
    Failed {
        /// Why, for operators (no personal data).
        error: String,
        /// When to try again (Unix seconds).
        retry_at: i64,
    },
}

/// One digest row as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx_macros::FromRow)]
pub struct DigestRecord {
    /// The kelurahan code, dotted.
    pub kelurahan_code: String,
    /// The ISO week key, `2025-W29`.
    pub week: String,
    /// `sending`, `sent` or `failed`.
    pub status: String,
    /// The cron occurrence it answers (Unix seconds).
    pub scheduled_at: i64,
    /// Claims so far.
    pub attempts: i32,
    /// The worker holding (or last holding) the claim.
    pub claimed_by: Option<String>,
    /// When the current claim runs out (Unix seconds).
    pub lease_until: Option<i64>,
    /// When a failed digest may be claimed again (Unix seconds).
    pub next_attempt_at: Option<i64>,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// BPU participants when sent.
    pub bpu: Option<i64>,
    /// Active participants when sent.
    pub active: Option<i64>,
    /// Participants listed as behind when sent.
    pub behind: Option<i64>,
    /// Coordinator addresses it went to.
    pub recipients: Option<i32>,
    /// The Message-ID it was sent with.
    pub message_id: Option<String>,
    /// When it was first claimed (Unix seconds).
    pub created_at: i64,
    /// When it last changed (Unix seconds).
    pub updated_at: i64,
    /// When the relay accepted it (Unix seconds).
    pub sent_at: Option<i64>,
}

impl DigestRecord {
    /// Whether the relay accepted it.
    pub fn is_sent(&self) -> bool {
        self.status == STATUS_SENT
    }

    /// BPU and active participants it carried, when it was sent.
    pub fn sent_counts(&self) -> Option<(i64, i64)> {
        match (self.is_sent(), self.bpu, self.active) {
            (true, Some(bpu), Some(active)) => Some((bpu, active)),
            _ => None,
        }
    }
}

/// The columns of [`DigestRecord`], for both backends' SELECTs.
pub const DIGEST_COLUMNS: &str = "kelurahan_code, week, status, scheduled_at, attempts, claimed_by, lease_until, \
     next_attempt_at, last_error, bpu, active, behind, recipients, message_id, created_at, updated_at, sent_at";
