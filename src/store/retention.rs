//! Retention: reminders and their history past a given age are deleted,
//! and what reports read of them is kept as monthly totals first, so a
//! report of a retired month gives the figures it gave before.
//!
//! A participant's contribution month is retired as a whole (every reminder
//! row of it, with its receipts and status history) or not at all: a month
//! with a reminder still pending or being sent waits for the next run.
//! Payments are never deleted; one credited to a retired reminder keeps its
//! amount and days to pay and loses only the link, which lives on in
//! `retired_conversions`. Status history and receipts older than the cutoff
//! go by their own age (on PostgreSQL a month's history is one partition,
//! dropped whole).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::holdout::EffectRow;
use super::{OutcomeCounts, OutcomeFilter, StoreError};
use crate::domain::calendar::local_midnight;
use crate::domain::{ContributionMonth, RegionTimeZone};

/// Report totals of retired reminders: one WIB month (by send, or by last
/// change for those never sent), kelurahan, rule and channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredOutcome {
    /// The WIB month's first instant (Unix seconds).
    pub month_start: i64,
    /// The next WIB month's first instant.
    pub month_end: i64,
    /// Its kelurahan, rule and channel, and how many were sent, delivered, failed.
    pub counts: OutcomeCounts,
}

/// Retired reminders a payment was credited to, by WIB month of their send,
/// kelurahan, rule, channel and whole days to their first credited payment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct RetiredConversion {
    /// The WIB month's first instant (Unix seconds).
    pub month_start: i64,
    /// The next WIB month's first instant.
    pub month_end: i64,
    /// The kelurahan code.
    pub kelurahan_code: String,
    /// The rule's name.
    pub rule: String,
    /// `sms` or `email`.
    pub channel: String,
    /// Whole days from the send to the first credited payment.
    pub days_to_pay: i32,
    /// How many reminders.
    pub reminders: i64,
    /// Rupiah credited to them together.
    pub amount: i64,
}

/// The holdout comparison of a retired contribution month in one kelurahan.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct RetiredEffect {
    /// The contribution month (index).
    pub contribution_month: i32,
    /// The kelurahan code.
    pub kelurahan_code: String,
    /// Participants reminded.
    pub reminded: i64,
    /// Of them, paid by the due date.
    pub reminded_paid: i64,
    /// Of them, paid by 30 days after the due date.
    pub reminded_paid_30: i64,
    /// Participants held out.
    pub held_out: i64,
    /// Of them, paid by the due date.
    pub held_out_paid: i64,
    /// Of them, paid by 30 days after the due date.
    pub held_out_paid_30: i64,
}

/// A reminder about to be retired, as its totals need it.
#[derive(Debug, Clone, sqlx_macros::FromRow)]
pub struct RetiringReminder {
    pub id: i64,
    pub kelurahan_code: String,
    pub rule: String,
    pub channel: String,
    pub status: String,
    pub sent_at: Option<i64>,
    pub updated_at: i64,
}

/// A payment credited to a reminder about to be retired.
#[derive(Debug, Clone, sqlx_macros::FromRow)]
pub struct RetiringPayment {
    pub reminder_id: i64,
    pub days_to_pay: Option<i32>,
    pub amount: i64,
}

/// Turns the effect rows of the participant-months being retired into
/// their per-kelurahan, per-month comparison (the effect report's own
/// judgement, which needs the schedules' due dates and time zones).
pub type EffectJudge<'a> = &'a (dyn Fn(&[EffectRow]) -> Vec<RetiredEffect> + Send + Sync);

/// Which participants one retirement transaction covers, and the first
/// contribution month it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetirementBatch {
    /// The first participant id of the range.
    pub first_participant: i64,
    /// The last participant id of the range, included.
    pub last_participant: i64,
    /// Contribution months before this one (index) are retired.
    pub before_month: i32,
}

/// The participant-months a batch retires: `$1`..=`$2` the participant
/// range, `$3` the first month kept; none with a reminder still pending or
/// being sent.
pub(crate) const RETIRING: &str = "r.participant_id BETWEEN $1 AND $2 AND r.contribution_month < $3 \
     AND NOT EXISTS (SELECT 1 FROM reminders o WHERE o.participant_id = r.participant_id \
     AND o.contribution_month = r.contribution_month AND o.status IN ('pending', 'sending'))";

/// The retiring reminders (locked by the caller's dialect).
pub(crate) fn retiring_reminders_sql() -> String {
    format!(
        "SELECT r.id, r.kelurahan_code, r.rule, r.channel, r.status, r.sent_at, r.updated_at \
         FROM reminders r WHERE {RETIRING}"
    )
}

/// The payments credited to retiring reminders.
pub(crate) fn retiring_payments_sql() -> String {
    format!(
        "SELECT p.reminder_id, p.days_to_pay, p.amount FROM payments p \
         WHERE p.reminder_id IN (SELECT r.id FROM reminders r WHERE {RETIRING}) \
         ORDER BY p.reminder_id, p.paid_at"
    )
}

/// The statements, in order, that unlink and delete the retiring reminders
/// (children first: the foreign keys are checked on SQLite).
pub(crate) fn retire_statements() -> Vec<String> {
    let ids = format!("(SELECT r.id FROM reminders r WHERE {RETIRING})");
    vec![
        format!("UPDATE payments SET reminder_id = NULL WHERE reminder_id IN {ids}"),
        format!("UPDATE payment_credit_changes SET from_reminder_id = NULL WHERE from_reminder_id IN {ids}"),
        format!("UPDATE payment_credit_changes SET to_reminder_id = NULL WHERE to_reminder_id IN {ids}"),
        format!("DELETE FROM receipts WHERE reminder_id IN {ids}"),
        format!("DELETE FROM reminder_events WHERE reminder_id IN {ids}"),
        format!("DELETE FROM reminders WHERE id IN {ids}"),
    ]
}

/// Counts a batch's deletion, so that every daemon's scan knows its memory
/// of existing reminders is out of date (`scan::memo`).
pub(crate) const COUNT_DELETION_SQL: &str = "UPDATE reminder_deletions SET generation = generation + 1";

/// Adds a batch's totals to what earlier runs kept: each is the INSERT's
/// head and its conflict clause.
pub(crate) const OUTCOME_TOTALS: (&str, &str) = (
    "INSERT INTO retired_outcomes (month_start, month_end, kelurahan_code, rule, channel, sent, delivered, failed) ",
    " ON CONFLICT (month_start, kelurahan_code, rule, channel) DO UPDATE SET \
     sent = retired_outcomes.sent + excluded.sent, delivered = retired_outcomes.delivered + excluded.delivered, \
     failed = retired_outcomes.failed + excluded.failed",
);
pub(crate) const CONVERSION_TOTALS: (&str, &str) = (
    "INSERT INTO retired_conversions \
     (month_start, month_end, kelurahan_code, rule, channel, days_to_pay, reminders, amount) ",
    " ON CONFLICT (month_start, kelurahan_code, rule, channel, days_to_pay) \
     DO UPDATE SET reminders = retired_conversions.reminders + excluded.reminders, \
     amount = retired_conversions.amount + excluded.amount",
);
pub(crate) const EFFECT_TOTALS: (&str, &str) = (
    "INSERT INTO retired_effect (contribution_month, kelurahan_code, reminded, reminded_paid, reminded_paid_30, \
     held_out, held_out_paid, held_out_paid_30) ",
    " ON CONFLICT (contribution_month, kelurahan_code) DO UPDATE SET \
     reminded = retired_effect.reminded + excluded.reminded, \
     reminded_paid = retired_effect.reminded_paid + excluded.reminded_paid, \
     reminded_paid_30 = retired_effect.reminded_paid_30 + excluded.reminded_paid_30, \
     held_out = retired_effect.held_out + excluded.held_out, \
     held_out_paid = retired_effect.held_out_paid + excluded.held_out_paid, \
     held_out_paid_30 = retired_effect.held_out_paid_30 + excluded.held_out_paid_30",
);

/// Retired conversions of the WIB months wholly inside the filter's period.
pub(crate) const RETIRED_CONVERSIONS_SQL: &str = "SELECT month_start, month_end, kelurahan_code, rule, channel, \
     days_to_pay, reminders, amount FROM retired_conversions \
     WHERE month_start >= $1 AND month_end <= $2 AND kelurahan_code LIKE $3 || '%' \
     ORDER BY month_start, kelurahan_code, rule, channel, days_to_pay";

/// Every retired effect line.
pub(crate) const RETIRED_EFFECT_SQL: &str = "SELECT contribution_month, kelurahan_code, reminded, reminded_paid, \
     reminded_paid_30, held_out, held_out_paid, held_out_paid_30 FROM retired_effect \
     ORDER BY kelurahan_code, contribution_month";

/// The WIB month holding `instant`: its first instant and the next month's.
pub fn wib_month_of(instant: i64) -> (i64, i64) {
    let wib = RegionTimeZone::Wib.tz();
    let date = DateTime::<Utc>::from_timestamp(instant, 0)
        .unwrap_or_default()
        .with_timezone(&wib)
        .date_naive();
    let month = ContributionMonth::of_date(date);
    (
        local_midnight(month.first_day(), wib).timestamp(),
        local_midnight(month.next().first_day(), wib).timestamp(),
    )
}

/// The statuses a report counts, as `report` reads them.
fn counted(status: &str) -> bool {
    matches!(
        status,
        "sent" | "delivered" | "undelivered" | "unknown" | "failed" | "expired"
    )
}

/// The report totals of retiring reminders, one per month, kelurahan,
/// rule and channel (what `OUTCOME_COUNTS_SQL` would have counted).
pub fn outcome_totals(reminders: &[RetiringReminder]) -> Vec<RetiredOutcome> {
    let mut totals: BTreeMap<(i64, &str, &str, &str), RetiredOutcome> = BTreeMap::new();
    for r in reminders.iter().filter(|r| counted(&r.status)) {
        let (month_start, month_end) = wib_month_of(r.sent_at.unwrap_or(r.updated_at));
        let t = totals
            .entry((month_start, &r.kelurahan_code, &r.rule, &r.channel))
            .or_insert_with(|| RetiredOutcome {
                month_start,
                month_end,
                counts: OutcomeCounts {
                    kelurahan_code: r.kelurahan_code.clone(),
                    rule: r.rule.clone(),
                    channel: r.channel.clone(),
                    sent: 0,
                    delivered: 0,
                    failed: 0,
                },
            });
        let c = &mut t.counts;
        c.sent += i64::from(r.sent_at.is_some());
        c.delivered += i64::from(r.status == "delivered");
        c.failed += i64::from(matches!(r.status.as_str(), "failed" | "undelivered" | "expired"));
    }
    totals.into_values().collect()
}

/// The conversions of retiring reminders: per reminder the days to its
/// first credited payment and the sum credited, then counted per month,
/// kelurahan, rule, channel and days. `payments` come ordered by reminder.
pub fn conversion_totals(reminders: &[RetiringReminder], payments: &[RetiringPayment]) -> Vec<RetiredConversion> {
    let by_id: BTreeMap<i64, &RetiringReminder> = reminders.iter().map(|r| (r.id, r)).collect();
    let mut per_reminder: BTreeMap<i64, (i32, i64)> = BTreeMap::new();
    for p in payments {
        let Some(days) = p.days_to_pay else { continue };
        let e = per_reminder.entry(p.reminder_id).or_insert((days, 0));
        e.0 = e.0.min(days);
        e.1 += p.amount;
    }
    let mut totals: BTreeMap<(i64, &str, &str, &str, i32), RetiredConversion> = BTreeMap::new();
    for (id, (days, amount)) in per_reminder {
        let Some(r) = by_id.get(&id) else { continue };
        let Some(sent_at) = r.sent_at else { continue };
        let (month_start, month_end) = wib_month_of(sent_at);
        let t = totals
            .entry((month_start, &r.kelurahan_code, &r.rule, &r.channel, days))
            .or_insert_with(|| RetiredConversion {
                month_start,
                month_end,
                kelurahan_code: r.kelurahan_code.clone(),
                rule: r.rule.clone(),
                channel: r.channel.clone(),
                days_to_pay: days,
                reminders: 0,
                amount: 0,
            });
        t.reminders += 1;
        t.amount += amount;
    }
    totals.into_values().collect()
}

/// What one run of retention did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetiredCounts {
    /// Reminders deleted (their totals kept).
    pub reminders: u64,
}

/// Retention: what the daemon's monthly housekeeping and `pengingat
/// retention` run.
#[async_trait::async_trait]
pub trait Retention: Send + Sync + std::fmt::Debug {
    /// Makes the history tables ready for rows of the months starting at
    /// each of `month_starts` (Unix seconds, UTC): on PostgreSQL, their
    /// partitions; nothing on SQLite.
    async fn prepare_history(&self, month_starts: &[i64]) -> Result<(), StoreError>;

    /// The lowest and highest participant id; `None` without participants.
    async fn participant_id_range(&self) -> Result<Option<(i64, i64)>, StoreError>;

    /// Retires, in one transaction, the contribution months before
    /// `batch.before_month` of the participants in its range: adds their
    /// report totals (and the effect of the holdout `rules`, as `judge`
    /// tallies it) to the retired tables, then deletes the reminders with
    /// their receipts and status history.
    async fn retire_reminders(
        &self,
        batch: RetirementBatch,
        rules: &[String],
        judge: EffectJudge<'_>,
    ) -> Result<RetiredCounts, StoreError>;

    /// Drops status history and receipts from before `cutoff` (Unix seconds).
    async fn drop_history_before(&self, cutoff: i64) -> Result<(), StoreError>;

    /// The retired conversions of the WIB months wholly inside `filter`'s period.
    async fn retired_conversions(&self, filter: &OutcomeFilter) -> Result<Vec<RetiredConversion>, StoreError>;

    /// Every retired effect line.
    async fn retired_effect(&self) -> Result<Vec<RetiredEffect>, StoreError>;
}

/// Expands, for store `$store` of database `$db` (whose `Dialect` begins
/// writes, locks rows and knows how its history is kept), the `Retention`
/// role.
macro_rules! retention_role {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::store::retention::Retention for $store {
            async fn prepare_history(&self, month_starts: &[i64]) -> Result<(), crate::store::StoreError> {
                use crate::store::common::Dialect;
                for sql in <$db as Dialect>::PREPARE_HISTORY {
                    for at in month_starts {
                        sqlx::query(*sql).bind(*at).execute(&self.pool).await?;
                    }
                }
                Ok(())
            }

            async fn participant_id_range(&self) -> Result<Option<(i64, i64)>, crate::store::StoreError> {
                let (lo, hi): (Option<i64>, Option<i64>) = sqlx::query_as("SELECT MIN(id), MAX(id) FROM participants")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(lo.zip(hi))
            }

            async fn retire_reminders(
                &self,
                batch: crate::store::retention::RetirementBatch,
                rules: &[String],
                judge: crate::store::retention::EffectJudge<'_>,
            ) -> Result<crate::store::retention::RetiredCounts, crate::store::StoreError> {
                use crate::store::common::{Dialect, for_update};
                use crate::store::retention as ret;
                let binds = (
                    batch.first_participant,
                    batch.last_participant,
                    batch.before_month,
                );
                let mut tx = <$db as Dialect>::begin_write(&self.pool).await?;
                let reminders: Vec<ret::RetiringReminder> =
                    sqlx::query_as(for_update::<$db>(&ret::retiring_reminders_sql()))
                        .bind(binds.0)
                        .bind(binds.1)
                        .bind(binds.2)
                        .fetch_all(&mut *tx)
                        .await?;
                if reminders.is_empty() {
                    return Ok(ret::RetiredCounts::default());
                }
                let payments: Vec<ret::RetiringPayment> =
                    sqlx::query_as(sqlx::AssertSqlSafe(ret::retiring_payments_sql()))
                        .bind(binds.0)
                        .bind(binds.1)
                        .bind(binds.2)
                        .fetch_all(&mut *tx)
                        .await?;
                let effect_rows: Vec<crate::store::holdout::EffectRow> = sqlx::query_as(sqlx::AssertSqlSafe(
                    crate::store::holdout::effect_rows_sql_where(rules, ret::RETIRING),
                ))
                .bind(binds.0)
                .bind(binds.1)
                .bind(binds.2)
                .fetch_all(&mut *tx)
                .await?;
                retire_totals(&mut tx, &reminders, &payments, &judge(&effect_rows)).await?;
                let mut deleted = 0;
                for sql in ret::retire_statements() {
                    deleted = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(binds.0)
                        .bind(binds.1)
                        .bind(binds.2)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                sqlx::query(ret::COUNT_DELETION_SQL).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(ret::RetiredCounts { reminders: deleted })
            }

            async fn drop_history_before(&self, cutoff: i64) -> Result<(), crate::store::StoreError> {
                use crate::store::common::Dialect;
                for sql in <$db as Dialect>::DROP_HISTORY_BEFORE {
                    sqlx::query(*sql).bind(cutoff).execute(&self.pool).await?;
                }
                Ok(())
            }

            async fn retired_conversions(
                &self,
                filter: &crate::store::OutcomeFilter,
            ) -> Result<Vec<crate::store::retention::RetiredConversion>, crate::store::StoreError> {
                // Whole WIB months inside the period.
                let (from, to, prefix) = filter.binds();
                Ok(sqlx::query_as(crate::store::retention::RETIRED_CONVERSIONS_SQL)
                    .bind(from)
                    .bind(to)
                    .bind(prefix)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn retired_effect(
                &self,
            ) -> Result<Vec<crate::store::retention::RetiredEffect>, crate::store::StoreError> {
                Ok(sqlx::query_as(crate::store::retention::RETIRED_EFFECT_SQL)
                    .fetch_all(&self.pool)
                    .await?)
            }
        }

        /// Adds the totals of a batch to the retired tables, in its transaction.
        async fn retire_totals(
            tx: &mut sqlx::Transaction<'static, $db>,
            reminders: &[crate::store::retention::RetiringReminder],
            payments: &[crate::store::retention::RetiringPayment],
            effect: &[crate::store::retention::RetiredEffect],
        ) -> Result<(), crate::store::StoreError> {
            use crate::store::retention as ret;
            let outcomes = ret::outcome_totals(reminders);
            add_totals(tx, ret::OUTCOME_TOTALS, &outcomes, |mut b, t| {
                let c = &t.counts;
                b.push_bind(t.month_start).push_bind(t.month_end);
                b.push_bind(c.kelurahan_code.clone())
                    .push_bind(c.rule.clone())
                    .push_bind(c.channel.clone());
                b.push_bind(c.sent).push_bind(c.delivered).push_bind(c.failed);
            })
            .await?;
            let conversions = ret::conversion_totals(reminders, payments);
            add_totals(tx, ret::CONVERSION_TOTALS, &conversions, |mut b, t| {
                b.push_bind(t.month_start).push_bind(t.month_end);
                b.push_bind(t.kelurahan_code.clone())
                    .push_bind(t.rule.clone())
                    .push_bind(t.channel.clone());
                b.push_bind(t.days_to_pay)
                    .push_bind(t.reminders)
                    .push_bind(t.amount);
            })
            .await?;
            add_totals(tx, ret::EFFECT_TOTALS, effect, |mut b, t| {
                b.push_bind(t.contribution_month)
                    .push_bind(t.kelurahan_code.clone());
                b.push_bind(t.reminded)
                    .push_bind(t.reminded_paid)
                    .push_bind(t.reminded_paid_30);
                b.push_bind(t.held_out)
                    .push_bind(t.held_out_paid)
                    .push_bind(t.held_out_paid_30);
            })
            .await?;
            Ok(())
        }

        /// Adds `rows` to a retired table: `(insert, conflict)` are the
        /// statement's head and its `ON CONFLICT` clause, `bind` binds a row.
        async fn add_totals<T>(
            tx: &mut sqlx::Transaction<'static, $db>,
            (insert, conflict): (&str, &str),
            rows: &[T],
            mut bind: impl FnMut(sqlx::query_builder::Separated<'_, $db, &'static str>, &T),
        ) -> Result<(), crate::store::StoreError> {
            for chunk in rows.chunks(500) {
                let mut q = sqlx::QueryBuilder::<$db>::new(insert);
                q.push_values(chunk, |b, t| bind(b, t));
                q.push(conflict);
                q.build().execute(&mut **tx).await?;
            }
            Ok(())
        }
    };
}

pub(crate) use retention_role;

#[cfg(test)]
mod tests {
    use super::*;

    fn reminder(id: i64, status: &str, sent_at: Option<i64>, updated_at: i64) -> RetiringReminder {
        RetiringReminder {
            id,
            kelurahan_code: "18.72.01.1001".into(),
            rule: "h-7".into(),
            channel: "sms".into(),
            status: status.into(),
            sent_at,
            updated_at,
        }
    }

    #[test]
    fn a_wib_month_starts_at_17_utc_the_day_before() {
        // 2025-01-31T17:30Z is 1 February 00:30 WIB.
        let (start, end) = wib_month_of(1_738_344_600);
        assert_eq!(start, 1_738_342_800); // 2025-01-31T17:00:00Z
        assert_eq!(end, 1_740_762_000); // 2025-02-28T17:00:00Z
    }

    #[test]
    fn totals_count_what_the_report_counts_by_send_month() {
        let jan = 1_736_899_200; // 2025-01-15
        let feb = 1_739_577_600; // 2025-02-15
        let rows = [
            reminder(1, "delivered", Some(jan), feb),
            reminder(2, "undelivered", Some(jan), jan),
            reminder(3, "expired", None, feb),
            reminder(4, "cancelled", None, jan),
            reminder(5, "skipped", None, jan),
        ];
        let totals = outcome_totals(&rows);
        assert_eq!(totals.len(), 2);
        let figures = |t: &RetiredOutcome| (t.counts.sent, t.counts.delivered, t.counts.failed);
        assert_eq!(figures(&totals[0]), (2, 1, 1));
        assert_eq!(figures(&totals[1]), (0, 0, 1));
        assert!(totals[0].month_start < totals[1].month_start);
    }

    #[test]
    fn a_conversion_takes_its_first_payment_days_and_every_amount() {
        let jan = 1_736_899_200;
        let rows = [
            reminder(1, "delivered", Some(jan), jan),
            reminder(2, "sent", Some(jan), jan),
        ];
        let pay = |reminder_id, days, amount| RetiringPayment {
            reminder_id,
            days_to_pay: Some(days),
            amount,
        };
        let totals = conversion_totals(&rows, &[pay(1, 3, 16_800), pay(1, 9, 16_800), pay(2, 3, 36_800)]);
        assert_eq!(totals.len(), 1);
        assert_eq!(
            (totals[0].days_to_pay, totals[0].reminders, totals[0].amount),
            (3, 2, 70_400)
        );
    }
}
