//! The scan's statements, written once: inserting one rule's reminders for
//! every matching participant, previewing them, and cancelling the
//! reminders of removed rules. The occurrences are a list each backend binds
//! its own way (column arrays `UNNEST`ed on PostgreSQL, one JSON array read
//! with `json_each` on SQLite); the statements take that list and the
//! funding filter as their first parameters and number the rest after them.

/// Expands, over the database type `$db`, `insert`, `preview`,
/// `preview_participants` and `cancel_removed`. The invoking module
/// provides the occurrences' side: `OCCURRENCE_PARAMS` (how many
/// parameters they take), `matching_participants` (the `FROM … WHERE …`
/// over them) and `bind_occurrences` (binds them and the funding filter).
macro_rules! occurrence_queries {
    ($db:ty) => {
        use chrono::{DateTime, Utc};

        use crate::store::common::Dialect;
        use crate::store::reminders::{CANCEL_REMOVED_SQL, InsertPass, InsertedReminders, PreviewCount, RuleOccurrences};
        use crate::store::{ParticipantRecord, StoreError};

        /// A statement of this backend with its parameters bound.
        type Query<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>;

        /// The placeholder of the `i`-th parameter after the occurrences' own.
        fn param(i: u8) -> String {
            format!("${}", OCCURRENCE_PARAMS + 1 + i)
        }

        /// The scan's statement for one pass: one rule's reminders for every
        /// matching participant, or (`only`) for those among a bound id list.
        fn insert_sql(batch: &RuleOccurrences, pass: InsertPass, only: bool) -> String {
            let only = if only {
                format!(" AND {}", <$db as Dialect>::in_id_list("p.id", OCCURRENCE_PARAMS + 6))
            } else {
                String::new()
            };
            format!(
                "INSERT INTO reminders (participant_id, kelurahan_code, contribution_month, rule, rule_offset, channel, \
                 slot, status, reason, occurrence_date, send_date, planned_at, expires_at, created_at, updated_at) \
                 SELECT p.id, p.kelurahan_code, occ.m, {rule}, {offset}, {channel}, 1, {status}, {reason}, occ.o, occ.d, \
                 occ.p, {expires}, {now}, {now} {matching}{condition}{only} \
                 ON CONFLICT (participant_id, contribution_month, rule, channel, slot) DO NOTHING",
                rule = param(0),
                offset = param(1),
                channel = param(2),
                status = param(3),
                now = param(4),
                reason = pass.reason_sql(),
                expires = pass.expires_sql(),
                matching = matching_participants(batch),
                condition = pass.condition(batch.holdout),
            )
        }

        /// `statement` (the insert of `pass`) with every parameter bound.
        fn bind_insert<'q>(
            statement: Query<'q>,
            batch: &'q RuleOccurrences,
            pass: InsertPass,
            only: Option<&[i64]>,
            now: DateTime<Utc>,
        ) -> Query<'q> {
            let statement = bind_occurrences(statement, batch, pass)
                .bind(&batch.rule)
                .bind(batch.rule_offset)
                .bind(batch.channel.as_str())
                .bind(pass.status())
                .bind(now.timestamp());
            match only {
                Some(ids) => statement.bind(<$db as Dialect>::id_list(ids)),
                None => statement,
            }
        }

        /// Inserts one rule's reminders, pass by pass, in one write
        /// transaction: for every matching participant, or only for the
        /// participants `only` names.
        pub(super) async fn insert(
            pool: &sqlx::Pool<$db>,
            batch: &RuleOccurrences,
            only: Option<&[i64]>,
            now: DateTime<Utc>,
        ) -> Result<InsertedReminders, StoreError> {
            let mut tx = <$db as Dialect>::begin_write(pool).await?;
            let mut counts = InsertedReminders::default();
            for pass in InsertPass::of(batch) {
                if !batch.occurrences.iter().any(|o| pass.takes(o)) {
                    continue;
                }
                let statement = sqlx::query(sqlx::AssertSqlSafe(insert_sql(batch, pass, only.is_some())));
                let n = bind_insert(statement, batch, pass, only, now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if pass.creates() {
                    counts.created += n;
                } else {
                    counts.skipped += n;
                }
            }
            tx.commit().await?;
            Ok(counts)
        }

        /// Participants not yet holding this rule's reminder for the month.
        fn not_yet_reminded(batch: &RuleOccurrences) -> String {
            format!(
                "{}{} AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.participant_id = p.id \
                 AND r.contribution_month = occ.m AND r.rule = {} AND r.channel = {} AND r.slot = 1)",
                matching_participants(batch),
                InsertPass::Pending.condition(batch.holdout),
                param(0),
                param(1),
            )
        }

        /// `sql` over [`not_yet_reminded`] with the occurrences, rule and channel bound.
        fn preview_query(sql: String, batch: &RuleOccurrences) -> Query<'_> {
            bind_occurrences(sqlx::query(sqlx::AssertSqlSafe(sql)), batch, InsertPass::Pending)
                .bind(&batch.rule)
                .bind(batch.channel.as_str())
        }

        pub(super) async fn preview(
            pool: &sqlx::Pool<$db>,
            batch: &RuleOccurrences,
        ) -> Result<Vec<PreviewCount>, StoreError> {
            let sql = format!(
                "SELECT occ.k AS kelurahan_code, occ.m AS contribution_month, COUNT(*) AS participants {} \
                 GROUP BY occ.k, occ.m ORDER BY occ.k, occ.m",
                not_yet_reminded(batch)
            );
            Ok(preview_query(sql, batch)
                .try_map(|row: <$db as sqlx::Database>::Row| sqlx::FromRow::from_row(&row))
                .fetch_all(pool)
                .await?)
        }

        pub(super) async fn preview_participants(
            pool: &sqlx::Pool<$db>,
            batch: &RuleOccurrences,
            limit: i64,
        ) -> Result<Vec<ParticipantRecord>, StoreError> {
            let sql = format!(
                "SELECT p.id, p.nik, p.kpj, p.name, p.phone, p.email, p.kelurahan_code, p.segment, p.funding, \
                 p.monthly_amount, p.start_month, p.paid_through, p.preferred_channel, p.opted_out {} \
                 ORDER BY p.id LIMIT {}",
                not_yet_reminded(batch),
                param(2),
            );
            Ok(preview_query(sql, batch)
                .bind(limit)
                .try_map(|row: <$db as sqlx::Database>::Row| sqlx::FromRow::from_row(&row))
                .fetch_all(pool)
                .await?)
        }

        /// Cancels the pending reminders of rules not in `rules`, in one
        /// statement (atomic on its own).
        pub(super) async fn cancel_removed(
            pool: &sqlx::Pool<$db>,
            rules: &[String],
            now: DateTime<Utc>,
        ) -> Result<u64, StoreError> {
            let sql = CANCEL_REMOVED_SQL.replace("{rules}", &<$db as Dialect>::in_text_list("rule", 1));
            Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(<$db as Dialect>::text_list(rules))
                .bind(now.timestamp())
                .execute(pool)
                .await?
                .rows_affected())
        }
    };
}

pub(crate) use occurrence_queries;
