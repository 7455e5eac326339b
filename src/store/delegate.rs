//! The role impls that are the same on both backends: each method calls
//! the function of the same name in the backend's own modules (`reminders`,
//! `dispatch`, `receipts`, `digest`, …). Written once here and expanded in
//! each backend's `mod.rs`, where those module names resolve to the
//! backend's own SQL.

/// Implements `Reminders`, `Delivery` and `Digests` for `$store` by
/// delegating to the calling module's backend functions.
macro_rules! delegate_roles {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl Reminders for $store {
            fn parallel_inserts(&self) -> usize {
                Maintenance::backend(self).parallel_writes()
            }

            async fn insert_reminders(
                &self,
                batch: &RuleOccurrences,
                now: DateTime<Utc>,
            ) -> Result<InsertedReminders, StoreError> {
                reminders::insert(&self.pool, batch, None, now).await
            }

            async fn insert_reminders_of(
                &self,
                batch: &RuleOccurrences,
                ids: &[i64],
                now: DateTime<Utc>,
            ) -> Result<InsertedReminders, StoreError> {
                reminders::insert(&self.pool, batch, Some(ids), now).await
            }

            async fn participant_write_mark(&self) -> Result<WriteMark, StoreError> {
                common_sql::participant_write_mark(&self.pool).await
            }

            async fn reminder_deletions(&self) -> Result<i64, StoreError> {
                common_sql::reminder_deletions(&self.pool).await
            }

            async fn participants_written_since(
                &self,
                mark: &WriteMark,
                limit: u32,
            ) -> Result<Option<Vec<WrittenParticipant>>, StoreError> {
                common_sql::participants_written_since(&self.pool, mark, limit).await
            }

            async fn preview_reminders(&self, batch: &RuleOccurrences) -> Result<Vec<PreviewCount>, StoreError> {
                reminders::preview(&self.pool, batch).await
            }

            async fn preview_participants(
                &self,
                batch: &RuleOccurrences,
                limit: i64,
            ) -> Result<Vec<ParticipantRecord>, StoreError> {
                reminders::preview_participants(&self.pool, batch, limit).await
            }

            async fn supersede_same_day(
                &self,
                from_send_date: i32,
                rule_order: &[String],
                now: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                reminders::supersede(&self.pool, from_send_date, rule_order, now).await
            }

            async fn cancel_removed_rules(&self, rules: &[String], now: DateTime<Utc>) -> Result<u64, StoreError> {
                reminders::cancel_removed(&self.pool, rules, now).await
            }

            async fn unsent_reminder_groups(
                &self,
                rules: &[String],
                recent_send_date: i32,
            ) -> Result<Vec<UnsentGroup>, StoreError> {
                reminders::unsent_groups(&self.pool, rules, recent_send_date).await
            }

            async fn apply_replan(&self, replan: &Replan, now: DateTime<Utc>) -> Result<ReplanCounts, StoreError> {
                reminders::apply_replan(&self.pool, replan, now).await
            }

            async fn record_scan(&self, totals: &ScanTotals, plan_fingerprints: &str) -> Result<(), StoreError> {
                reminders::record_scan(&self.pool, totals, plan_fingerprints).await
            }

            async fn last_scan_started_at(&self) -> Result<Option<i64>, StoreError> {
                common_sql::last_scan_started_at(&self.pool).await
            }

            async fn last_plan_fingerprints(&self) -> Result<Option<String>, StoreError> {
                reminders::last_plan_fingerprints(&self.pool).await
            }

            async fn list_reminders(&self, nik: Option<&str>, limit: i64) -> Result<Vec<ReminderRecord>, StoreError> {
                reminders::list_reminders(&self.pool, nik, limit).await
            }

            async fn reminder_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
                reminders::reminder_counts(&self.pool).await
            }

            async fn holdout_candidates(&self) -> Result<Vec<crate::domain::holdout::Candidate>, StoreError> {
                holdout_sql::candidates(&self.pool).await
            }

            async fn replace_holdout(&self, members: &[(i64, String)], now: DateTime<Utc>) -> Result<bool, StoreError> {
                holdout_sql::replace_members(&self.pool, members, now.timestamp()).await
            }
        }

        #[async_trait::async_trait]
        impl Delivery for $store {
            async fn claim_due(
                &self,
                now: DateTime<Utc>,
                channel: Channel,
                limit: u32,
                worker: &str,
            ) -> Result<Vec<ClaimedReminder>, StoreError> {
                dispatch::claim(self, now, channel, limit, worker).await
            }

            async fn register_dispatcher(&self, name: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
                common_sql::register_dispatcher(&self.pool, name, now).await
            }

            async fn heartbeat_dispatcher(&self, name: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
                common_sql::heartbeat_dispatcher(&self.pool, name, now).await
            }

            async fn release_stale_claims(
                &self,
                me: &str,
                stale_before: i64,
                now: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                dispatch::release_stale(self, me, stale_before, now).await
            }

            async fn deregister_dispatcher(&self, name: &str) -> Result<(), StoreError> {
                common_sql::deregister_dispatcher(&self.pool, name).await
            }

            async fn finish_attempts(
                &self,
                worker: &str,
                outcomes: &[(i64, AttemptOutcome)],
                now: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                dispatch::finish(self, worker, outcomes, now).await
            }

            async fn record_receipt(
                &self,
                gateway: &str,
                receipt: &NewReceipt<'_>,
                now: DateTime<Utc>,
            ) -> Result<ReceiptOutcome, StoreError> {
                receipts::record(&self.pool, gateway, receipt, now).await
            }

            async fn apply_waiting_receipts(&self, reminder_id: i64, now: DateTime<Utc>) -> Result<u64, StoreError> {
                receipts::apply_waiting(&self.pool, reminder_id, now).await
            }

            async fn time_out_unconfirmed(&self, sent_before: i64, now: DateTime<Utc>) -> Result<u64, StoreError> {
                receipts::time_out(&self.pool, sent_before, now).await
            }
        }

        #[async_trait::async_trait]
        impl Digests for $store {
            async fn digest_participants_behind(
                &self,
                kelurahan_code: &str,
                paid_through_before: i32,
            ) -> Result<Vec<BehindParticipant>, StoreError> {
                digest::behind(&self.pool, kelurahan_code, paid_through_before).await
            }

            async fn digests_of_week(&self, week: &str) -> Result<Vec<DigestRecord>, StoreError> {
                digest::of_week(&self.pool, week).await
            }

            async fn claim_digest(
                &self,
                claim: &DigestClaim<'_>,
                now: DateTime<Utc>,
            ) -> Result<Option<i32>, StoreError> {
                digest::claim(&self.pool, claim, now).await
            }

            async fn finish_digest(
                &self,
                kelurahan_code: &str,
                week: &str,
                worker: &str,
                outcome: &DigestOutcome,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                digest::finish(&self.pool, kelurahan_code, week, worker, outcome, now).await
            }

            async fn last_sent_digest(
                &self,
                kelurahan_code: &str,
                before_week: &str,
            ) -> Result<Option<DigestRecord>, StoreError> {
                digest::last_sent(&self.pool, kelurahan_code, before_week).await
            }
        }
    };
}

pub(crate) use delegate_roles;
