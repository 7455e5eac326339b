//! Reminder SQL for PostgreSQL. Occurrences travel as column arrays and are
//! `UNNEST`ed, so one rule's whole scan is one statement.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::store::reminders::{
    CANCEL_REMOVED_SQL_TAIL, InsertPass, InsertedReminders, PreviewCount, RuleOccurrences, channel_condition,
};
use crate::store::{ParticipantRecord, StoreError};

/// A re-plan's groups, from the JSON array bound to `$1`.
const GROUPS: &str = "jsonb_to_recordset($1::text::jsonb) AS g(r text, k text, m int, c text, st text, od int, \
     sd int, pa bigint, nod int, nsd int, npa bigint, nea bigint, note text)";

crate::store::reminders::reminder_plan_queries!(
    PgPool,
    begin,
    lock_rows: true,
    ranks: "SELECT rule, pos FROM jsonb_array_elements_text($3::text::jsonb) WITH ORDINALITY AS t(rule, pos)",
    groups: GROUPS,
    rules_in: "rule IN (SELECT jsonb_array_elements_text($1::text::jsonb))",
    kept_in: "p.funding IN (SELECT jsonb_array_elements_text($2::text::jsonb))"
);

/// A transaction (READ COMMITTED) for a re-plan: its statements each touch
/// only rows still in the state they were read in, and the rows a move
/// changes are locked first.
async fn begin(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
    Ok(pool.begin().await?)
}

/// The occurrence columns, bound as $1..$7.
struct Columns {
    kelurahan: Vec<String>,
    month: Vec<i32>,
    occurrence_date: Vec<i32>,
    send_date: Vec<i32>,
    planned_at: Vec<i64>,
    expires_at: Vec<Option<i64>>,
    skip_reason: Vec<Option<String>>,
}

impl Columns {
    fn of(batch: &RuleOccurrences, pass: InsertPass) -> Self {
        let occ: Vec<_> = batch.occurrences.iter().filter(|o| pass.takes(o)).collect();
        Self {
            kelurahan: occ.iter().map(|o| o.kelurahan_code.clone()).collect(),
            month: occ.iter().map(|o| o.contribution_month).collect(),
            occurrence_date: occ.iter().map(|o| o.occurrence_date).collect(),
            send_date: occ.iter().map(|o| o.send_date).collect(),
            planned_at: occ.iter().map(|o| o.planned_at).collect(),
            expires_at: occ.iter().map(|o| o.expires_at).collect(),
            skip_reason: occ.iter().map(|o| o.skip_reason.clone()).collect(),
        }
    }

    fn bind<'q>(
        self,
        q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
        funding: Option<Vec<String>>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        q.bind(self.kelurahan)
            .bind(self.month)
            .bind(self.occurrence_date)
            .bind(self.send_date)
            .bind(self.planned_at)
            .bind(self.expires_at)
            .bind(self.skip_reason)
            .bind(funding)
    }
}

/// `FROM … WHERE …` shared by the insert and the previews ($1-$8 bound by [`Columns::bind`]).
fn matching_participants(batch: &RuleOccurrences) -> String {
    format!(
        "FROM UNNEST($1::text[], $2::int[], $3::int[], $4::int[], $5::bigint[], $6::bigint[], $7::text[]) \
           AS occ(k, m, o, d, p, e, s) \
         JOIN participants p ON p.kelurahan_code = occ.k AND p.segment = 'bpu' AND p.paid_through = occ.m - 1 \
         WHERE NOT p.opted_out AND {} AND ($8::text[] IS NULL OR p.funding = ANY($8))",
        channel_condition(batch.channel)
    )
}

/// The scan's statement for one pass: one rule's reminders for every matching participant.
fn insert_sql(batch: &RuleOccurrences, pass: InsertPass) -> String {
    format!(
        "INSERT INTO reminders (participant_id, kelurahan_code, contribution_month, rule, rule_offset, channel, \
         slot, status, reason, occurrence_date, send_date, planned_at, expires_at, created_at, updated_at) \
         SELECT p.id, p.kelurahan_code, occ.m, $9, $10, $11, 1, $12, {}, occ.o, occ.d, occ.p, {}, $13, $13 {}{} \
         ON CONFLICT (participant_id, contribution_month, rule, channel, slot) DO NOTHING",
        pass.reason_sql(),
        pass.expires_sql(),
        matching_participants(batch),
        pass.condition(batch.holdout),
    )
}

/// The plan PostgreSQL chooses for the scan's insert of `batch`'s pending
/// reminders (`EXPLAIN`, one line per row); the statement is not run.
pub(super) async fn explain_insert(
    pool: &PgPool,
    batch: &RuleOccurrences,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let sql = format!("EXPLAIN {}", insert_sql(batch, InsertPass::Pending));
    let rows: Vec<(String,)> = Columns::of(batch, InsertPass::Pending)
        .bind(sqlx::query(sqlx::AssertSqlSafe(sql)), batch.funding.clone())
        .bind(&batch.rule)
        .bind(batch.rule_offset)
        .bind(batch.channel.as_str())
        .bind("pending")
        .bind(now.timestamp())
        .try_map(|row: sqlx::postgres::PgRow| sqlx::FromRow::from_row(&row))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|(line,)| line).collect::<Vec<_>>().join("\n"))
}

pub(super) async fn insert(
    pool: &PgPool,
    batch: &RuleOccurrences,
    now: DateTime<Utc>,
) -> Result<InsertedReminders, StoreError> {
    let mut tx = pool.begin().await?;
    let mut counts = InsertedReminders::default();
    for pass in InsertPass::of(batch) {
        let columns = Columns::of(batch, pass);
        if columns.kelurahan.is_empty() {
            continue;
        }
        let n = columns
            .bind(
                sqlx::query(sqlx::AssertSqlSafe(insert_sql(batch, pass))),
                batch.funding.clone(),
            )
            .bind(&batch.rule)
            .bind(batch.rule_offset)
            .bind(batch.channel.as_str())
            .bind(pass.status())
            .bind(now.timestamp())
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
         AND r.contribution_month = occ.m AND r.rule = $9 AND r.channel = $10 AND r.slot = 1)",
        matching_participants(batch),
        InsertPass::Pending.condition(batch.holdout),
    )
}

pub(super) async fn preview(pool: &PgPool, batch: &RuleOccurrences) -> Result<Vec<PreviewCount>, StoreError> {
    let sql = format!(
        "SELECT occ.k AS kelurahan_code, occ.m AS contribution_month, COUNT(*) AS participants {} \
         GROUP BY occ.k, occ.m ORDER BY occ.k, occ.m",
        not_yet_reminded(batch)
    );
    Ok(Columns::of(batch, InsertPass::Pending)
        .bind(sqlx::query(sqlx::AssertSqlSafe(sql)), batch.funding.clone())
        .bind(&batch.rule)
        .bind(batch.channel.as_str())
        .try_map(|row: sqlx::postgres::PgRow| {
            use sqlx::Row;
            Ok(PreviewCount {
                kelurahan_code: row.try_get(0)?,
                contribution_month: row.try_get(1)?,
                participants: row.try_get(2)?,
            })
        })
        .fetch_all(pool)
        .await?)
}

pub(super) async fn preview_participants(
    pool: &PgPool,
    batch: &RuleOccurrences,
    limit: i64,
) -> Result<Vec<ParticipantRecord>, StoreError> {
    let sql = format!(
        "SELECT p.id, p.nik, p.kpj, p.name, p.phone, p.email, p.kelurahan_code, p.segment, p.funding, \
         p.monthly_amount, p.start_month, p.paid_through, p.preferred_channel, p.opted_out {} ORDER BY p.id LIMIT $11",
        not_yet_reminded(batch)
    );
    let rows = Columns::of(batch, InsertPass::Pending)
        .bind(sqlx::query(sqlx::AssertSqlSafe(sql)), batch.funding.clone())
        .bind(&batch.rule)
        .bind(batch.channel.as_str())
        .bind(limit)
        .fetch_all(pool)
        .await?;
    use sqlx::FromRow;
    Ok(rows.iter().map(ParticipantRecord::from_row).collect::<Result<_, _>>()?)
}

pub(super) async fn cancel_removed(pool: &PgPool, rules: &[String], now: DateTime<Utc>) -> Result<u64, StoreError> {
    let sql = format!("UPDATE reminders {CANCEL_REMOVED_SQL_TAIL} (SELECT UNNEST($1::text[]))");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(rules)
        .bind(now.timestamp())
        .execute(pool)
        .await?
        .rows_affected())
}
