//! The weekly coordinator digest: for each kelurahan with
//! coordinators, one e-mail a week listing the BPU participants 1, 2 and 3+
//! months behind (name, masked phone, months, amount due) with the
//! kelurahan's active ratio and its change since the previous digest.
//!
//! - [`compose`]: the e-mail itself, pure.
//! - [`crate::store::digests`]: what the store keeps per (kelurahan, ISO week).
//! - [`send_due`]: finds the digests due, claims each in the database,
//!   composes, sends and records it.
//! - [`DigestLoop`]: the daemon task that calls [`send_due`] every minute.
//!
//! Exactly once per kelurahan and week, across restarts and instances: the
//! week is the ISO week of the cron occurrence in the digest time zone, and
//! the row (kelurahan, week) is claimed atomically before sending. A claim
//! lasts [`LEASE_SECS`]; an instance that dies between the relay's
//! acceptance and recording it loses its claim when the lease runs out, and
//! the digest may then go out a second time: the one window where "once" is
//! at least once, as with any SMTP sender.
//!
//! All coordinators of a kelurahan receive one e-mail together (all in
//! `To`), so the relay accepts or refuses the kelurahan's digest as a whole
//! and a retry never sends it to a coordinator twice.

pub mod compose;
pub mod contacts;
mod daemon_loop;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

pub use crate::store::digests::{BehindParticipant, DigestClaim, DigestOutcome, DigestRecord};
pub use compose::{ActiveRatio, ComposedDigest, DigestContent, DigestEntry, PreviousDigest, compose, entries};
pub use daemon_loop::DigestLoop;

use crate::channels::{EmailSender, OutboundDigest, SendError};
use crate::domain::{ContributionMonth, DueDateRules, KelurahanCode, StandingRules};
use crate::schedule::{KelurahanOverride, Schedules};
use crate::store::{Kelurahan, Store, StoreError, digests};

/// How long a claim holds before another instance may take the digest over.
pub const LEASE_SECS: u64 = 15 * 60;

/// The first wait after a failed digest; it doubles per attempt.
pub const RETRY_BASE_SECS: i64 = 60;

/// The longest wait between attempts.
pub const RETRY_MAX_SECS: i64 = 30 * 60;

/// What [`send_due`] works with.
#[derive(Clone, Copy)]
pub struct DigestContext<'a> {
    /// The database.
    pub store: &'a dyn Store,
    /// The current schedules: `[digest]` and the coordinators.
    pub schedules: &'a Schedules,
    /// The SMTP relay.
    pub email: &'a EmailSender,
    /// Due-date rules before each kelurahan's own holidays.
    pub due: &'a DueDateRules,
    /// When a participant is non-active.
    pub standing: &'a StandingRules,
    /// This instance's name, stored with its claims.
    pub worker: &'a str,
}

/// What one [`send_due`] call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestReport {
    /// The ISO week due, if any digest is due at all.
    pub week: Option<String>,
    /// Kelurahan whose digest this call sent.
    pub sent: Vec<String>,
    /// Kelurahan whose digest failed this time (retried later).
    pub failed: Vec<String>,
    /// Kelurahan whose digest was sent already, or is held by another instance, or waits for its retry time.
    pub skipped: Vec<String>,
}

/// Why a claimed digest was not sent.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    /// The database failed while composing.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The relay did not accept it.
    #[error("{0}")]
    Send(#[from] SendError),
}

/// Sends the digests due at `now`: when the digest cron has an occurrence
/// in the current ISO week at or before `now`, every kelurahan with
/// coordinators (and not disabled) whose digest of that week is not yet
/// sent is claimed, composed and sent. Failures are recorded with a retry
/// time; only a database error listing what is due ends the call early.
pub async fn send_due(ctx: &DigestContext<'_>, now: DateTime<Utc>) -> Result<DigestReport, StoreError> {
    let mut report = DigestReport::default();
    let Some(schedule) = ctx.schedules.digest() else {
        return Ok(report);
    };
    let Some(occurrence) = schedule.due_occurrence(now) else {
        return Ok(report);
    };
    let week = schedule.week_of(occurrence);
    report.week = Some(week.clone());
    let targets: Vec<&KelurahanOverride> = ctx
        .schedules
        .kelurahan_overrides()
        .values()
        .filter(|o| !o.coordinators.is_empty() && !o.disabled)
        .collect();
    if targets.is_empty() {
        return Ok(report);
    }
    let rows = ctx.store.digests_of_week(&week).await?;
    let known: HashMap<&str, &DigestRecord> = rows.iter().map(|r| (r.kelurahan_code.as_str(), r)).collect();
    let kelurahan: HashMap<String, Kelurahan> = ctx
        .store
        .list_kelurahan()
        .await?
        .into_iter()
        .map(|k| (k.code.to_string(), k))
        .collect();
    for target in targets {
        let code = target.code.as_str();
        if known.get(code).is_some_and(|r| !claimable(r, now)) {
            report.skipped.push(code.to_string());
            continue;
        }
        let Some(k) = kelurahan.get(code) else {
            tracing::warn!(kelurahan = code, "no digest: the kelurahan is not in the database");
            continue;
        };
        let claim = DigestClaim {
            kelurahan_code: code,
            week: &week,
            scheduled_at: occurrence.timestamp(),
            worker: ctx.worker,
            lease_secs: LEASE_SECS,
        };
        let attempts = match ctx.store.claim_digest(&claim, now).await {
            Ok(Some(attempts)) => attempts,
            Ok(None) => {
                report.skipped.push(code.to_string());
                continue;
            }
            Err(e) => {
                tracing::error!(kelurahan = code, %week, error = %e, "cannot claim the digest; the next tick tries again");
                report.failed.push(code.to_string());
                continue;
            }
        };
        let outcome = match attempt(ctx, target, k, &week, now).await {
            Ok(sent) => sent,
            Err(e) => {
                let retry_at = now.timestamp() + retry_delay(attempts);
                tracing::warn!(kelurahan = code, %week, attempts, error = %e, "digest not sent; it is retried later");
                DigestOutcome::Failed {
                    error: e.to_string(),
                    retry_at,
                }
            }
        };
        let sent = matches!(outcome, DigestOutcome::Sent { .. });
        match ctx.store.finish_digest(code, &week, ctx.worker, &outcome, now).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(kelurahan = code, %week, "the digest's claim ran out before it was recorded"),
            Err(e) => {
                tracing::error!(kelurahan = code, %week, error = %e, "cannot record the digest; its claim runs out")
            }
        }
        if sent {
            report.sent.push(code.to_string());
        } else {
            report.failed.push(code.to_string());
        }
    }
    Ok(report)
}

/// Whether a stored digest row may be claimed at `now` (worth trying: the
/// claim itself decides).
fn claimable(r: &DigestRecord, now: DateTime<Utc>) -> bool {
    let now = now.timestamp();
    match r.status.as_str() {
        digests::STATUS_FAILED => r.next_attempt_at.unwrap_or(0) <= now,
        digests::STATUS_SENDING => r.lease_until.unwrap_or(0) <= now,
        _ => false,
    }
}

/// Seconds to wait after the `attempts`th failed attempt: 1, 2, 4 … minutes, at most 30.
pub fn retry_delay(attempts: i32) -> i64 {
    let doublings = attempts.clamp(1, 16) - 1;
    (RETRY_BASE_SECS << doublings).min(RETRY_MAX_SECS)
}

/// Composes and sends one claimed digest.
async fn attempt(
    ctx: &DigestContext<'_>,
    target: &KelurahanOverride,
    k: &Kelurahan,
    week: &str,
    now: DateTime<Utc>,
) -> Result<DigestOutcome, AttemptError> {
    let content = gather(ctx, &target.code, k, week, now).await?;
    let composed = compose(&content);
    let message = OutboundDigest {
        kelurahan_code: k.code.to_string(),
        week: week.to_string(),
        to: target
            .coordinators
            .iter()
            .map(|c| (c.name.clone(), c.email.as_str().to_string()))
            .collect(),
        subject: composed.subject,
        text: composed.text,
        html: Some(composed.html),
    };
    let accepted = ctx.email.send_digest(&message).await?;
    tracing::info!(
        kelurahan = %k.code,
        %week,
        behind = content.entries.len(),
        recipients = message.to.len(),
        message_id = %accepted.message_id,
        "digest sent"
    );
    Ok(DigestOutcome::Sent {
        bpu: content.ratio.bpu,
        active: content.ratio.active,
        behind: content.entries.len() as i64,
        recipients: message.to.len() as i32,
        message_id: accepted.message_id,
    })
}

/// Reads what the digest of one kelurahan says at `now`.
pub async fn gather(
    ctx: &DigestContext<'_>,
    code: &KelurahanCode,
    k: &Kelurahan,
    week: &str,
    now: DateTime<Utc>,
) -> Result<DigestContent, StoreError> {
    let tz = k.time_zone.tz();
    let due = ctx.schedules.due_date_rules_for(code, ctx.due);
    let last_past_due = due.last_month_past_due(now, tz);
    let rows = ctx
        .store
        .digest_participants_behind(code.as_str(), last_past_due.index())
        .await?;
    let mut ratio = ActiveRatio { bpu: 0, active: 0 };
    for bucket in ctx.store.paid_through_histogram(Some(code.as_str())).await? {
        if bucket.kelurahan_code != code.as_str() {
            continue;
        }
        ratio.bpu += bucket.participants;
        let standing = ctx
            .standing
            .standing(ContributionMonth::from_index(bucket.paid_through), last_past_due);
        if standing.active {
            ratio.active += bucket.participants;
        }
    }
    let contact_list =
        crate::report::contacts::contact_list(ctx.store, std::slice::from_ref(k), Some(code.as_str())).await?;
    let contact_list: Vec<_> = contact_list
        .into_iter()
        .filter(|e| e.kelurahan_code == code.as_str())
        .collect();
    let previous = ctx.store.last_sent_digest(code.as_str(), week).await?.and_then(|r| {
        let (bpu, active) = r.sent_counts()?;
        Some(PreviousDigest {
            week: r.week,
            ratio: ActiveRatio { bpu, active },
        })
    });
    Ok(DigestContent {
        kelurahan_code: code.to_string(),
        kelurahan_name: k.name.clone(),
        week: week.to_string(),
        as_of: now.with_timezone(&tz).naive_local(),
        zone: k.time_zone.abbreviation().to_string(),
        coordinators: ctx
            .schedules
            .coordinators_for(code)
            .iter()
            .map(|c| c.name.clone())
            .collect(),
        entries: entries(&rows, last_past_due, ctx.standing),
        ratio,
        previous,
        contacts: contacts::lines(&contact_list),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_half_an_hour() {
        assert_eq!(retry_delay(1), 60);
        assert_eq!(retry_delay(2), 120);
        assert_eq!(retry_delay(5), 960);
        assert_eq!(retry_delay(6), 1800);
        assert_eq!(retry_delay(40), 1800);
        assert_eq!(retry_delay(0), 60);
    }
}
