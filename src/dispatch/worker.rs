//! One dispatcher: what it needs, how one reminder is attempted, and the
//! stepped form (claim a batch per channel, attempt each with bounded
//! concurrency, record the batch's outcomes in one statement) used by
//! `pengingat demo` and tests. The daemon runs the pipelined form (the
//! runner module).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::{RwLock, watch};
use tokio_util::sync::CancellationToken;

use super::recheck::{SendContext, Verdict, recheck};
use crate::channels::sms::providers::normalise_provider_id;
use crate::channels::{
    Availability, EmailSender, GatewayPool, OutboundEmail, OutboundSms, RetryPolicy, SendError, SmsEncoding,
};
use crate::clock::Clock;
use crate::config::delivery::{DeliverySettings, Preset};
use crate::domain::{Channel, DueDateRules, KelurahanCode, StandingRules};
use crate::message::{MessageContext, reminder_vars};
use crate::metrics::Metrics;
use crate::schedule::Schedules;
use crate::store::{AttemptOutcome, ClaimedReminder, Kelurahan, Store, StoreError};

/// What a dispatcher needs.
pub struct Dispatcher {
    /// The database.
    pub store: Arc<dyn Store>,
    /// SMS gateways; `None` when none is configured (SMS reminders wait and retry).
    pub sms: Option<Arc<GatewayPool>>,
    /// The SMTP relay; `None` when e-mail is off.
    pub email: Option<Arc<EmailSender>>,
    /// The current schedules (templates, windows, disabled kelurahan).
    pub schedules: watch::Receiver<Arc<Schedules>>,
    /// National due-date rules.
    pub due: DueDateRules,
    pub standing: StandingRules,
    /// Batch size, concurrency, lease, heartbeat, stop deadline.
    pub settings: DeliverySettings,
    /// When to try again after a transient failure.
    pub retry: RetryPolicy,
    pub clock: Arc<dyn Clock>,
    /// This dispatcher's name in the registry and on its claims.
    pub worker: String,
    /// Each gateway's wire format, by name, to store its message ids the way
    /// its receipts will look them up.
    pub presets: HashMap<String, Preset>,
    /// Kelurahan names and time zones, loaded on first need.
    pub kelurahan: RwLock<HashMap<String, Kelurahan>>,
    /// Counts attempts per channel and outcome for /metrics.
    pub metrics: Arc<Metrics>,
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: u64,
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub expired: u64,
    pub deferred: u64,
    pub postponed: u64,
}

impl BatchReport {
    /// Adds another report's counts.
    pub fn add(&mut self, other: &BatchReport) {
        self.claimed += other.claimed;
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.cancelled += other.cancelled;
        self.expired += other.expired;
        self.deferred += other.deferred;
        self.postponed += other.postponed;
    }

    pub(super) fn count(&mut self, outcome: &AttemptOutcome) {
        match outcome {
            AttemptOutcome::Sent { .. } => self.sent += 1,
            AttemptOutcome::Retry { .. } => self.retried += 1,
            AttemptOutcome::Failed { .. } => self.failed += 1,
            AttemptOutcome::Cancelled { .. } => self.cancelled += 1,
            AttemptOutcome::Expired { .. } => self.expired += 1,
            AttemptOutcome::Deferred { .. } => self.deferred += 1,
            AttemptOutcome::Postponed { .. } => self.postponed += 1,
        }
    }
}

/// The channels a dispatcher claims for, in the order it claims them.
pub(super) const CHANNELS: [Channel; 2] = [Channel::Sms, Channel::Email];

impl Dispatcher {
    /// Claims one batch per channel that can send now and works it off.
    /// Each step registers the dispatcher anew, which is its heartbeat: a
    /// daemon on the same database leaves its claims alone.
    pub async fn dispatch_once(&self) -> Result<BatchReport, StoreError> {
        let never = CancellationToken::new();
        let mut report = BatchReport::default();
        self.store.register_dispatcher(&self.worker, self.clock.now()).await?;
        for channel in CHANNELS {
            let limit = self.claim_limit(channel);
            if limit == 0 {
                continue;
            }
            let claimed = self
                .store
                .claim_due(self.clock.now(), channel, limit, &self.worker)
                .await?;
            report.claimed += claimed.len() as u64;
            if claimed.is_empty() {
                continue;
            }
            self.load_kelurahan_if_needed(&claimed).await?;
            let schedules = self.schedules.borrow().clone();
            let kelurahan = self.kelurahan.read().await;
            let outcomes: Vec<(i64, AttemptOutcome)> = futures::stream::iter(claimed)
                .map(|r| self.attempt(r, &schedules, &kelurahan, &never))
                .buffer_unordered(self.settings.concurrency.max(1) as usize)
                .collect()
                .await;
            drop(kelurahan);
            for (_, outcome) in &outcomes {
                report.count(outcome);
            }
            self.store
                .finish_attempts(&self.worker, &outcomes, self.clock.now())
                .await?;
        }
        Ok(report)
    }

    /// How many reminders of `channel` one claim may take now: none while
    /// the channel cannot send (no gateway, every breaker open, every
    /// gateway or the relay out of service for a configuration error), one
    /// while only a probe can go out, else what the gateways' rate limits
    /// send within the lease, at most `batch_size`.
    pub(super) fn claim_limit(&self, channel: Channel) -> u32 {
        let batch = self.settings.batch_size.max(1);
        match channel {
            Channel::Sms => match self.sms.as_ref().map(|pool| pool.availability()) {
                Some(Availability::Open { per_second }) => {
                    let within_lease = per_second * self.settings.lease_secs.max(1) as f64;
                    (within_lease.floor() as u32).clamp(1, batch)
                }
                Some(Availability::ProbeOnly) => 1,
                Some(Availability::Unavailable) | None => 0,
            },
            Channel::Email => {
                if self.email.as_ref().is_some_and(|sender| sender.in_service()) {
                    batch
                } else {
                    0
                }
            }
        }
    }

    /// Dispatches until nothing is due, with `batches_in_flight` batches
    /// worked on at once; returns what they did together.
    pub async fn drain(&self) -> Result<BatchReport, StoreError> {
        let lanes = (0..self.settings.batches_in_flight.max(1)).map(|_| async {
            let mut total = BatchReport::default();
            loop {
                let r = self.dispatch_once().await?;
                total.add(&r);
                // Deferred, retried or postponed reminders stay pending for
                // later: a batch of nothing else would claim them again at once.
                if r.claimed == 0 || r.sent + r.failed + r.cancelled + r.expired == 0 {
                    return Ok::<_, StoreError>(total);
                }
            }
        });
        let mut total = BatchReport::default();
        for lane in futures::future::try_join_all(lanes).await? {
            total.add(&lane);
        }
        Ok(total)
    }

    /// Reminders sent longer ago than `receipt_timeout_hours` without a
    /// final receipt become `unknown`, a terminal state (as GOV.UK Notify's
    /// three-day time-out does).
    pub async fn time_out_unconfirmed(&self) {
        let now = self.clock.now();
        let before = now.timestamp() - self.settings.receipt_timeout_hours as i64 * 3600;
        match self.store.time_out_unconfirmed(before, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(reminders = n, "no final receipt in time: status unknown"),
            Err(e) => tracing::warn!(error = %e, "cannot time out unconfirmed reminders"),
        }
    }

    pub(super) async fn load_kelurahan_if_needed(&self, claimed: &[ClaimedReminder]) -> Result<(), StoreError> {
        let missing = {
            let known = self.kelurahan.read().await;
            claimed.iter().any(|r| !known.contains_key(&r.kelurahan_code))
        };
        if missing {
            let all = self.store.list_kelurahan().await?;
            let mut known = self.kelurahan.write().await;
            *known = all.into_iter().map(|k| (k.code.to_string(), k)).collect();
        }
        Ok(())
    }

    /// One reminder: re-check, render, send. Once `stop` is cancelled a
    /// reminder not yet handed to a gateway is postponed, not sent.
    pub(super) async fn attempt(
        &self,
        r: ClaimedReminder,
        schedules: &Schedules,
        kelurahan: &HashMap<String, Kelurahan>,
        stop: &CancellationToken,
    ) -> (i64, AttemptOutcome) {
        let outcome = if stop.is_cancelled() {
            AttemptOutcome::Postponed { error: None }
        } else {
            self.attempt_outcome(&r, schedules, kelurahan, stop).await
        };
        self.metrics.record_attempt(r.channel.as_str(), outcome.name());
        (r.id, outcome)
    }

    async fn attempt_outcome(
        &self,
        r: &ClaimedReminder,
        schedules: &Schedules,
        kelurahan: &HashMap<String, Kelurahan>,
        stop: &CancellationToken,
    ) -> AttemptOutcome {
        let now = self.clock.now();
        let channel = r.channel;
        let Some(k) = kelurahan.get(&r.kelurahan_code) else {
            return AttemptOutcome::Failed {
                reason: format!("unknown kelurahan {}", r.kelurahan_code),
            };
        };
        let code: &KelurahanCode = &k.code;
        let window = schedules.send_window_for(code);
        let ctx = SendContext {
            tz: k.time_zone.tz(),
            window: &window,
            disabled: schedules.is_disabled(code),
        };
        let to = match recheck(r, channel, &ctx, now) {
            Verdict::Send { to } => to,
            Verdict::Cancel(reason) => return AttemptOutcome::Cancelled { reason },
            Verdict::Expire(reason) => return AttemptOutcome::Expired { reason },
            Verdict::Defer { planned_at, reason } => {
                return AttemptOutcome::Deferred {
                    planned_at: planned_at.timestamp(),
                    reason,
                };
            }
        };
        let Some(rule) = schedules.rule(&r.rule) else {
            return AttemptOutcome::Cancelled {
                reason: format!("rule {} is no longer in the schedules", r.rule),
            };
        };
        let Some(template) = schedules.template_for(rule) else {
            return AttemptOutcome::Failed {
                reason: format!("rule {} has no template", r.rule),
            };
        };
        let due = schedules.due_date_rules_for(code, &self.due);
        let coordinator = schedules.coordinators_for(code).first().map(|c| c.name.as_str());
        let msg_ctx = MessageContext {
            kelurahan_name: &k.name,
            tz: k.time_zone.tz(),
            due: &due,
            standing: &self.standing,
            coordinator,
        };
        let vars = reminder_vars(r.into(), &msg_ctx, now);
        let result = match channel {
            Channel::Sms => match &self.sms {
                Some(pool) => {
                    let sms = OutboundSms {
                        reminder_id: r.id,
                        to,
                        text: template.render(&vars),
                    };
                    let Some(result) = pool.send_until(&sms, stop).await else {
                        return AttemptOutcome::Postponed { error: None };
                    };
                    result.map(|a| AttemptOutcome::Sent {
                        provider_message_id: a.message_id.as_deref().and_then(|id| self.normalise(&a.gateway, id)),
                        gateway: a.gateway,
                        encoding: Some(encoding_name(a.encoding).to_string()),
                        segments: Some(a.segments as i32),
                    })
                }
                None => Err(SendError::Unavailable {
                    reason: "no SMS gateway is configured".to_string(),
                }),
            },
            Channel::Email => match &self.email {
                Some(sender) => {
                    let rendered = template.render_email(&vars);
                    let email = OutboundEmail {
                        reminder_id: r.id,
                        to,
                        subject: rendered.subject,
                        text: rendered.text,
                        html: rendered.html,
                    };
                    sender.send(&email).await.map(|a| AttemptOutcome::Sent {
                        gateway: "smtp".to_string(),
                        provider_message_id: Some(a.message_id),
                        encoding: None,
                        segments: None,
                    })
                }
                None => Err(SendError::Unavailable {
                    reason: "e-mail is not enabled".to_string(),
                }),
            },
        };
        result.unwrap_or_else(|e| self.after_failure(r, e, now))
    }

    /// A gateway's message id as its receipts will carry it.
    fn normalise(&self, gateway: &str, id: &str) -> Option<String> {
        match self.presets.get(gateway) {
            Some(preset) => normalise_provider_id(*preset, id),
            None => Some(id.trim().to_string()),
        }
    }

    /// A failed attempt: retried later when transient and attempts remain.
    /// When no SMS gateway is in rotation any more (every breaker open) the
    /// failure is the gateways' outage, not the message's: the reminder is
    /// postponed without counting an attempt, and nothing more is claimed
    /// for SMS until a probe gets through.
    ///
    /// A configuration error (refused credentials, an untrusted
    /// certificate) is ours, not the message's either: while it leaves the
    /// channel with nothing in service, the reminder is postponed with the
    /// error (what to fix) and waits, unclaimed, for a restart with the
    /// configuration fixed. While another gateway is still in service (one
    /// whose `max_segments` is too low for this text, say) it is retried
    /// like a transient failure.
    fn after_failure(&self, r: &ClaimedReminder, e: SendError, now: DateTime<Utc>) -> AttemptOutcome {
        let attempts = r.attempts.max(1) as u32;
        let out_of_service = e.is_configuration() && self.claim_limit(r.channel) == 0;
        if out_of_service {
            return AttemptOutcome::Postponed {
                error: Some(e.to_string()),
            };
        }
        if !e.is_transient() && !e.is_configuration() {
            return AttemptOutcome::Failed { reason: e.to_string() };
        }
        let sms_outage = r.channel == Channel::Sms
            && self
                .sms
                .as_ref()
                .is_some_and(|pool| !matches!(pool.availability(), Availability::Open { .. }));
        if sms_outage || matches!(e, SendError::Unavailable { .. }) {
            return AttemptOutcome::Postponed {
                error: Some(e.to_string()),
            };
        }
        match self.retry.delay(attempts, e.retry_after(), rand::random::<f64>()) {
            Some(wait) => AttemptOutcome::Retry {
                error: e.to_string(),
                next_attempt_at: now.timestamp() + wait.as_secs().max(1) as i64,
            },
            None => AttemptOutcome::Failed {
                reason: format!("gave up after {attempts} attempts: {e}"),
            },
        }
    }
}

fn encoding_name(encoding: SmsEncoding) -> &'static str {
    match encoding {
        SmsEncoding::Gsm7 => "gsm7",
        SmsEncoding::Ucs2 => "ucs2",
    }
}

/// A dispatcher name for the registry: host and process, unique per daemon.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    format!("{}-{}-{:04x}", host.trim(), std::process::id(), rand::random::<u16>())
}
