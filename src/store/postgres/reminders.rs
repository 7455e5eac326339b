//! Reminder SQL for PostgreSQL. Occurrences travel as column arrays and are
//! `UNNEST`ed, so one rule's whole scan is one statement.

use sqlx::PgPool;

use crate::store::reminders::channel_condition;

/// A re-plan's groups, from the JSON array bound to `$1`.
const GROUPS: &str = "jsonb_to_recordset($1::text::jsonb) AS g(r text, k text, m int, c text, st text, od int, \
     sd int, pa bigint, nod int, nsd int, npa bigint, nea bigint, note text)";

crate::store::reminders::reminder_plan_queries!(
    sqlx::Postgres,
    lock_rows: true,
    ranks: "SELECT rule, pos FROM jsonb_array_elements_text($3::text::jsonb) WITH ORDINALITY AS t(rule, pos)",
    groups: GROUPS,
    rules_in: "rule IN (SELECT jsonb_array_elements_text($1::text::jsonb))",
    kept_in: "p.funding IN (SELECT jsonb_array_elements_text($2::text::jsonb))"
);

/// The occurrence columns, bound as $1..$7.
struct Columns<'a> {
    kelurahan: Vec<&'a str>,
    month: Vec<i32>,
    occurrence_date: Vec<i32>,
    send_date: Vec<i32>,
    planned_at: Vec<i64>,
    expires_at: Vec<Option<i64>>,
    skip_reason: Vec<Option<&'a str>>,
}

impl<'a> Columns<'a> {
    fn of(batch: &'a RuleOccurrences, pass: InsertPass) -> Self {
        let occ: Vec<_> = batch.occurrences.iter().filter(|o| pass.takes(o)).collect();
        Self {
            kelurahan: occ.iter().map(|o| &*o.kelurahan_code).collect(),
            month: occ.iter().map(|o| o.contribution_month).collect(),
            occurrence_date: occ.iter().map(|o| o.occurrence_date).collect(),
            send_date: occ.iter().map(|o| o.send_date).collect(),
            planned_at: occ.iter().map(|o| o.planned_at).collect(),
            expires_at: occ.iter().map(|o| o.expires_at).collect(),
            skip_reason: occ.iter().map(|o| o.skip_reason.as_deref()).collect(),
        }
    }
}

/// `FROM … WHERE …` shared by the insert and the previews ($1-$8 bound by [`bind_occurrences`]).
fn matching_participants(batch: &RuleOccurrences) -> String {
    format!(
        "FROM UNNEST($1::text[], $2::int[], $3::int[], $4::int[], $5::bigint[], $6::bigint[], $7::text[]) \
           AS occ(k, m, o, d, p, e, s) \
         JOIN participants p ON p.kelurahan_code = occ.k AND p.segment = 'bpu' AND p.paid_through = occ.m - 1 \
         WHERE NOT p.opted_out AND {} AND ($8::text[] IS NULL OR p.funding = ANY($8))",
        channel_condition(batch.channel)
    )
}

/// The occurrence columns and the funding filter.
const OCCURRENCE_PARAMS: u8 = 8;

/// Binds the occurrence columns of `pass` to `$1`-`$7` and the funding filter to `$8`.
fn bind_occurrences<'q>(statement: Query<'q>, batch: &RuleOccurrences, pass: InsertPass) -> Query<'q> {
    let c = Columns::of(batch, pass);
    statement
        .bind(c.kelurahan)
        .bind(c.month)
        .bind(c.occurrence_date)
        .bind(c.send_date)
        .bind(c.planned_at)
        .bind(c.expires_at)
        .bind(c.skip_reason)
        .bind(batch.funding.clone())
}

crate::store::occurrence_sql::occurrence_queries!(sqlx::Postgres);

/// The plan PostgreSQL chooses for the scan's insert of `batch`'s pending
/// reminders (`EXPLAIN`, one line per row); the statement is not run.
pub(super) async fn explain_insert(
    pool: &PgPool,
    batch: &RuleOccurrences,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let sql = format!("EXPLAIN {}", insert_sql(batch, InsertPass::Pending, false));
    let statement = sqlx::query(sqlx::AssertSqlSafe(sql));
    let rows: Vec<(String,)> = bind_insert(statement, batch, InsertPass::Pending, None, now)
        .try_map(|row: sqlx::postgres::PgRow| sqlx::FromRow::from_row(&row))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|(line,)| line).collect::<Vec<_>>().join("\n"))
}
