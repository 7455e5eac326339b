//! The role traits [`Store`] is made of: each names one part of the
//! database, so a function's signature says which part it touches.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::domain::{Channel, ExternalRef, NewParticipant, NewPayment, Nik, PhoneNumber};

/// Everything a backend provides, as one object: the daemon, the CLI and
/// the HTTP handlers hold an `Arc<dyn Store>` and lend each part only the
/// role it works with (`&dyn Payments`, `&dyn Reminders`, …). Writes that
/// span several rows are one transaction: they happen entirely or not at all.
pub trait Store:
    Maintenance + Participants + Payments + Reminders + Delivery + Reports + Digests + Snapshots + Retention
{
}

impl<T> Store for T where
    T: Maintenance
        + Participants
        + Payments
        + Reminders
        + Delivery
        + Reports
        + Digests
        + Snapshots
        + Retention
        + ?Sized
{
}

/// The database itself: its backend, schema, health, statistics and identity.
#[async_trait]
pub trait Maintenance: Send + Sync + std::fmt::Debug {
    fn backend(&self) -> Backend;

    /// Applies pending migrations; a no-op when there are none.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Refreshes the planner statistics of `tables` (`ANALYZE`) after a bulk
    /// load: without them the scan's statements are planned for empty tables
    /// until autovacuum (PostgreSQL) or nobody (SQLite) catches up.
    async fn analyze(&self, tables: &[BulkTable]) -> Result<(), StoreError>;

    /// This database's deployment id, made at its first migration: part of
    /// every SMS's idempotency key.
    async fn deployment_id(&self) -> Result<String, StoreError>;
}

/// Kelurahan and participants: imports, lookups and opt-out.
#[async_trait]
pub trait Participants: Send + Sync + std::fmt::Debug {
    /// Inserts or updates kelurahan by code, in one transaction.
    async fn upsert_kelurahan(&self, rows: &[Kelurahan]) -> Result<UpsertCounts, StoreError>;

    /// Every kelurahan, ordered by code.
    async fn list_kelurahan(&self) -> Result<Vec<Kelurahan>, StoreError>;

    /// Inserts or updates participants by NIK, in one transaction, batched.
    /// A row equal to what is stored is left alone (re-importing a file
    /// changes nothing); the paid-through month never moves backwards,
    /// because payments recorded since the file was made are newer facts, and
    /// an opt-out (a participant's own STOP) is never undone by a file: only
    /// `participant opt-in` or the participant's DAFTAR lifts it.
    async fn upsert_participants(
        &self,
        rows: &[NewParticipant],
        now: DateTime<Utc>,
        progress: &dyn Progress,
    ) -> Result<UpsertCounts, StoreError>;

    /// Opens the write transaction an import runs in, chunk by chunk; see
    /// [`ImportTx`].
    async fn begin_import(&self) -> Result<Box<dyn ImportTx>, StoreError>;

    /// The stored participants among `niks`.
    async fn participants_by_nik(&self, niks: &[Nik]) -> Result<Vec<ParticipantRecord>, StoreError>;

    /// The stored participants among `kpjs`.
    async fn participants_by_kpj(&self, kpjs: &[String]) -> Result<Vec<ParticipantRecord>, StoreError>;

    /// Opts the participant with `nik` out (cancelling their pending
    /// reminders, reason "opted out") or back in, in one transaction.
    /// `None` when no participant has that NIK.
    async fn set_opt_out_by_nik(
        &self,
        nik: &Nik,
        opted_out: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<OptOutChange>, StoreError>;

    /// Opts out every participant with this phone number (an SMS "STOP"),
    /// cancelling their pending reminders, in one transaction.
    async fn opt_out_by_phone(&self, phone: &PhoneNumber, now: DateTime<Utc>) -> Result<Vec<OptOutChange>, StoreError>;

    /// Opts every participant with this phone number back in (an SMS "DAFTAR").
    async fn opt_in_by_phone(&self, phone: &PhoneNumber, now: DateTime<Utc>) -> Result<Vec<OptOutChange>, StoreError>;
}

/// One write transaction that an import of any size runs in, a chunk of
/// rows at a time, so the rows never need to be in memory together: the
/// lookups its checks make see the transaction's own writes, and nothing is
/// visible to others until [`commit`](Self::commit). Dropping it without
/// committing rolls everything back. On SQLite it holds the write lock
/// (`BEGIN IMMEDIATE`) until then.
#[async_trait]
pub trait ImportTx: Send {
    /// The participants among `niks`, as the transaction sees them.
    async fn participants_by_nik(&mut self, niks: &[Nik]) -> Result<Vec<ParticipantRecord>, StoreError>;

    /// The participants among `kpjs`, as the transaction sees them.
    async fn participants_by_kpj(&mut self, kpjs: &[String]) -> Result<Vec<ParticipantRecord>, StoreError>;

    /// The payments among `refs`, as the transaction sees them.
    async fn payments_by_ref(&mut self, refs: &[ExternalRef]) -> Result<Vec<StoredPayment>, StoreError>;

    /// [`Participants::upsert_participants`] inside the transaction.
    async fn upsert_participants(
        &mut self,
        rows: &[NewParticipant],
        now: DateTime<Utc>,
        progress: &dyn Progress,
    ) -> Result<UpsertCounts, StoreError>;

    /// [`Payments::record_payments`] inside the transaction; with
    /// `batch.strict` a refused row fails the call, and the transaction must
    /// then be dropped.
    async fn record_payments(
        &mut self,
        rows: &[NewPayment],
        batch: &PaymentBatch,
        progress: &dyn Progress,
    ) -> Result<Vec<PaymentOutcome>, StoreError>;

    /// Makes every write of the import visible at once.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Payments and the payments inbox ledger.
#[async_trait]
pub trait Payments: Send + Sync + std::fmt::Debug {
    /// The stored payments among `refs`, to tell a re-import from a reused reference.
    async fn payments_by_ref(&self, refs: &[ExternalRef]) -> Result<Vec<StoredPayment>, StoreError>;

    /// Records payments in one transaction: each new one advances its
    /// participant's paid-through month, cancels the participant's pending
    /// reminders for months it now covers (reason "paid"), and is credited to
    /// the latest reminder sent to the participant within the attribution
    /// window. With `batch.strict`, any outcome other than recorded or
    /// duplicate rolls the whole call back.
    async fn record_payments(
        &self,
        rows: &[NewPayment],
        batch: &PaymentBatch,
        progress: &dyn Progress,
    ) -> Result<Vec<PaymentOutcome>, StoreError>;

    /// Whether an inbox file with this content hash was processed already.
    async fn inbox_file_seen(&self, sha256: &str) -> Result<Option<InboxFileRecord>, StoreError>;

    /// Remembers a processed inbox file; a second record of the same hash is
    /// ignored (two daemons racing on one inbox).
    async fn record_inbox_file(&self, file: &InboxFileRecord, now: DateTime<Utc>) -> Result<(), StoreError>;
}

/// Reminder planning (the scan, previews, re-plans), the scan history and listings.
#[async_trait]
pub trait Reminders: Send + Sync + std::fmt::Debug {
    /// How many of a scan's insert statements may run at once: one on
    /// SQLite (one writer), more where the database runs writers side by
    /// side, each on its own core.
    fn parallel_inserts(&self) -> usize;

    /// Creates the reminders of one rule's occurrences in one statement;
    /// existing ones (same participant, month, rule, channel) are left alone,
    /// so running a scan twice, or on two instances, creates nothing twice.
    async fn insert_reminders(
        &self,
        batch: &RuleOccurrences,
        now: DateTime<Utc>,
    ) -> Result<InsertedReminders, StoreError>;

    /// [`Reminders::insert_reminders`] for the participants `ids` only.
    async fn insert_reminders_of(
        &self,
        batch: &RuleOccurrences,
        ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<InsertedReminders, StoreError>;

    /// A mark in the participants' write history, taken now: a scan that
    /// keeps it can later ask only for the participants written since.
    async fn participant_write_mark(&self) -> Result<WriteMark, StoreError>;

    /// How many batches of reminders have been deleted (by retention), ever:
    /// a scan that remembers which reminders exist checks it has not changed.
    async fn reminder_deletions(&self) -> Result<i64, StoreError>;

    /// The participants written since `mark`; `None` when there are more
    /// than `limit`.
    async fn participants_written_since(
        &self,
        mark: &WriteMark,
        limit: u32,
    ) -> Result<Option<Vec<WrittenParticipant>>, StoreError>;

    /// Counts the participants each occurrence would remind, writing nothing.
    async fn preview_reminders(&self, batch: &RuleOccurrences) -> Result<Vec<PreviewCount>, StoreError>;

    /// A few participants an occurrence would remind, for rendered samples.
    async fn preview_participants(
        &self,
        batch: &RuleOccurrences,
        limit: i64,
    ) -> Result<Vec<ParticipantRecord>, StoreError>;

    /// Marks pending reminders superseded when another reminder holds the
    /// same participant, channel and send date (on or after `from_send_date`)
    /// and is either already under way or more urgent: a later occurrence
    /// date, or the same date and a rule later in `rule_order` (the
    /// schedules' rules in file order). Returns how many.
    async fn supersede_same_day(
        &self,
        from_send_date: i32,
        rule_order: &[String],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Cancels the pending reminders of rules not in `rules` (removed from the schedules).
    async fn cancel_removed_rules(&self, rules: &[String], now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The not yet sent reminders of `rules`, grouped by rule, kelurahan,
    /// month, channel, status and plan: every pending one, and the
    /// superseded and skipped ones with a send date on or after
    /// `recent_send_date` that still hold their key.
    async fn unsent_reminder_groups(
        &self,
        rules: &[String],
        recent_send_date: i32,
    ) -> Result<Vec<UnsentGroup>, StoreError>;

    /// Writes a re-plan in one transaction: moved reminders get their new
    /// plan and a history entry; cancelled ones their reason; cancelled and
    /// released ones give up their key, so a later scan may plan them anew.
    /// Only reminders still pending (or still superseded or skipped, for a
    /// release) with the group's old plan are touched: one the dispatcher
    /// claimed meanwhile is left alone, and a sent one is never sent again.
    async fn apply_replan(&self, replan: &Replan, now: DateTime<Utc>) -> Result<ReplanCounts, StoreError>;

    /// Records a finished scan with the rule fingerprints (JSON) it planned under.
    async fn record_scan(&self, totals: &ScanTotals, plan_fingerprints: &str) -> Result<(), StoreError>;

    /// When the last recorded scan started (Unix seconds), if any.
    async fn last_scan_started_at(&self) -> Result<Option<i64>, StoreError>;

    /// The rule fingerprints (JSON) the last recorded scan planned under, if any.
    async fn last_plan_fingerprints(&self) -> Result<Option<String>, StoreError>;

    /// Reminders, newest first, optionally of one participant (by NIK) only.
    async fn list_reminders(&self, nik: Option<&str>, limit: i64) -> Result<Vec<ReminderRecord>, StoreError>;

    /// Reminders per rule and status.
    async fn reminder_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError>;

    /// Every BPU participant (id, NIK, kelurahan), for the holdout assignment.
    async fn holdout_candidates(&self) -> Result<Vec<crate::domain::holdout::Candidate>, StoreError>;

    /// Makes `members` (participant id, kelurahan code; ordered by id) the
    /// holdout group, in one transaction; writes nothing when it is already.
    /// Returns whether it changed.
    async fn replace_holdout(&self, members: &[(i64, String)], now: DateTime<Utc>) -> Result<bool, StoreError>;
}

/// Sending reminders: claims, the dispatcher registry and its heartbeat, attempts and receipts.
#[async_trait]
pub trait Delivery: Send + Sync + std::fmt::Debug {
    /// Claims up to `limit` ready reminders of `channel` for `worker`: each
    /// becomes `sending`, held by `worker` (a registered dispatcher whose
    /// heartbeat renews the claim). No attempt is counted here.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        channel: Channel,
        limit: u32,
        worker: &str,
    ) -> Result<Vec<ClaimedReminder>, StoreError>;

    /// Registers dispatcher `name` as alive at `now`.
    async fn register_dispatcher(&self, name: &str, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Dispatcher `name`'s heartbeat: renews all its claims at once.
    /// `false` when it had been taken for gone (its claims were released);
    /// it is registered again.
    async fn heartbeat_dispatcher(&self, name: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Gives the claims of dispatchers other than `me` whose last heartbeat
    /// is before `stale_before` (and of names not registered) back to
    /// pending, no attempt counted, and removes those registrations.
    /// Returns how many reminders were released.
    async fn release_stale_claims(&self, me: &str, stale_before: i64, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Removes dispatcher `name`'s registration (a clean stop).
    async fn deregister_dispatcher(&self, name: &str) -> Result<(), StoreError>;

    /// Records the outcomes of `worker`'s attempts in one statement, and
    /// counts an attempt for each real try. A reminder no longer `sending`
    /// under this worker's claim (a receipt came first, or the claim was
    /// released and another took it) is left alone, except that a send is
    /// still recorded on a released reminder nobody has claimed since.
    /// Returns how many were recorded.
    async fn finish_attempts(
        &self,
        worker: &str,
        outcomes: &[(i64, AttemptOutcome)],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Records one delivery receipt from `gateway` in one transaction: keeps
    /// it, finds its reminder (by reminder id, which must have gone out
    /// through `gateway`, else by `gateway` and message id), locks it and
    /// applies the forward-only transition of [`delivery_state`]. With no
    /// send recorded for its message id yet, the receipt waits
    /// ([`ReceiptOutcome::Waiting`]) for [`Delivery::apply_waiting_receipts`].
    /// A transition that takes a reminder out of the statuses that count for
    /// attribution (a late "undelivered") credits its payments again, to the
    /// latest reminder still counting in each payment's window or to none,
    /// in the same transaction, keeping each move in `payment_credit_changes`.
    async fn record_receipt(
        &self,
        gateway: &str,
        receipt: &NewReceipt<'_>,
        now: DateTime<Utc>,
    ) -> Result<ReceiptOutcome, StoreError>;

    /// Applies, in received order, the receipts waiting for the reminder's
    /// (gateway, provider message id); the dispatcher calls it right after
    /// recording a send. Returns how many receipts it matched.
    async fn apply_waiting_receipts(&self, reminder_id: i64, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Reminders still `sent` with `sent_at` before `sent_before` become
    /// `unknown` (terminal), with the reason naming the hours waited.
    async fn time_out_unconfirmed(&self, sent_before: i64, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// What reports are computed from: outcomes, credited payments and standing.
#[async_trait]
pub trait Reports: Send + Sync + std::fmt::Debug {
    /// Reminders that went out or failed to, per kelurahan, rule and channel,
    /// counted in the period of `filter` by when they were sent (or failed).
    async fn reminder_outcomes(&self, filter: &OutcomeFilter) -> Result<Vec<OutcomeCounts>, StoreError>;

    /// Payments credited to reminders of the period of `filter`.
    async fn attributed_payments(&self, filter: &OutcomeFilter) -> Result<Vec<AttributedPayment>, StoreError>;

    /// Payments of BPU participants made at or after `since` (Unix seconds),
    /// with each payer's current paid-through month: enough to work out
    /// what every participant's paid-through month was at an earlier date.
    async fn bpu_payments_since(&self, since: i64) -> Result<Vec<PaymentSince>, StoreError>;

    /// BPU participants per kelurahan and paid-through month, for kelurahan
    /// under `prefix` (all when `None`).
    async fn paid_through_histogram(&self, prefix: Option<&str>) -> Result<Vec<PaidThroughCount>, StoreError>;

    /// Per participant and contribution month, whether they were held out
    /// from `rules` or reminded by them, and when they first paid for the
    /// month: what the effect report is computed from.
    async fn effect_rows(&self, rules: &[String]) -> Result<Vec<holdout::EffectRow>, StoreError>;

    /// Participants per segment.
    async fn segment_counts(&self) -> Result<SegmentCounts, StoreError>;

    /// What the contact-verification list of kelurahan under `prefix` (all
    /// when `None`) is made from (see [`contacts::CONTACT_CHECK_SQL`]).
    async fn contact_check_rows(&self, prefix: Option<&str>) -> Result<Vec<ContactCheckRow>, StoreError>;
}

/// The weekly coordinator digest: who is behind, and the per-(kelurahan, week) claim.
#[async_trait]
pub trait Digests: Send + Sync + std::fmt::Debug {
    /// BPU participants of one kelurahan paid through a month before
    /// `paid_through_before` (a month index), opted-out ones included: who a
    /// coordinator digest may list as behind.
    async fn digest_participants_behind(
        &self,
        kelurahan_code: &str,
        paid_through_before: i32,
    ) -> Result<Vec<BehindParticipant>, StoreError>;

    /// Every digest row of one ISO week (`2025-W29`), by kelurahan code.
    async fn digests_of_week(&self, week: &str) -> Result<Vec<DigestRecord>, StoreError>;

    /// Claims the digest of one kelurahan and week in one statement: a new
    /// row, a failed one whose retry time has come, or one still `sending`
    /// whose lease ran out (a crashed instance) becomes `sending` under the
    /// claimer's lease and counts an attempt. The attempt count when the
    /// caller now holds it; `None` when it is sent, or another instance
    /// holds it, or its retry is not due.
    async fn claim_digest(&self, claim: &DigestClaim<'_>, now: DateTime<Utc>) -> Result<Option<i32>, StoreError>;

    /// Records how `worker`'s attempt at a claimed digest ended: `sent`
    /// with the active ratio it carried, or `failed` with a retry time.
    /// `false` (nothing changed) when `worker` no longer holds the claim.
    async fn finish_digest(
        &self,
        kelurahan_code: &str,
        week: &str,
        worker: &str,
        outcome: &DigestOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The latest digest of one kelurahan sent for a week before `before_week`, if any.
    async fn last_sent_digest(
        &self,
        kelurahan_code: &str,
        before_week: &str,
    ) -> Result<Option<DigestRecord>, StoreError>;
}
