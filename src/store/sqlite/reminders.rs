//! Reminder SQL for SQLite. Occurrences travel as one JSON parameter read
//! with `json_each` (SQLite has no array parameters); `CROSS JOIN` keeps the
//! small occurrence list as the outer loop so every lookup uses the
//! participants' (kelurahan, segment, paid_through) index.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::SqlitePool;

use super::json_list;
use crate::store::reminders::{
    CANCEL_REMOVED_SQL_TAIL, InsertPass, InsertedReminders, PreviewCount, RuleOccurrences, channel_condition,
};
use crate::store::{ParticipantRecord, StoreError};

/// A re-plan's groups, from the JSON array bound to `$1`.
const GROUPS: &str = "(SELECT json_extract(value, '$.r') AS r, json_extract(value, '$.k') AS k, \
     json_extract(value, '$.m') AS m, json_extract(value, '$.c') AS c, json_extract(value, '$.st') AS st, \
     json_extract(value, '$.od') AS od, json_extract(value, '$.sd') AS sd, json_extract(value, '$.pa') AS pa, \
     json_extract(value, '$.nod') AS nod, json_extract(value, '$.nsd') AS nsd, json_extract(value, '$.npa') AS npa, \
     json_extract(value, '$.nea') AS nea, json_extract(value, '$.note') AS note FROM json_each($1)) AS g";

crate::store::reminders::reminder_plan_queries!(
    SqlitePool,
    super::begin_write,
    lock_rows: false,
    ranks: "SELECT value, key FROM json_each($3)",
    groups: GROUPS,
    rules_in: "rule IN (SELECT value FROM json_each($1))",
    kept_in: "p.funding IN (SELECT value FROM json_each($2))"
);

/// The occurrences of one insert pass as a JSON array.
fn occurrences_json(batch: &RuleOccurrences, pass: InsertPass) -> String {
    let rows: Vec<serde_json::Value> = batch
        .occurrences
        .iter()
        .filter(|o| pass.takes(o))
        .map(|o| {
            json!({"k": o.kelurahan_code, "m": o.contribution_month, "o": o.occurrence_date, "d": o.send_date,
                   "p": o.planned_at, "e": o.expires_at, "s": o.skip_reason})
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// `FROM … WHERE …` shared by the insert and the previews.
fn matching_participants(batch: &RuleOccurrences) -> String {
    format!(
        "FROM (SELECT json_extract(value, '$.k') AS k, json_extract(value, '$.m') AS m, \
                      json_extract(value, '$.o') AS o, json_extract(value, '$.d') AS d, \
                      json_extract(value, '$.p') AS p, json_extract(value, '$.e') AS e, \
                      json_extract(value, '$.s') AS s FROM json_each($1)) occ \
         CROSS JOIN participants p ON p.kelurahan_code = occ.k AND p.segment = 'bpu' AND p.paid_through = occ.m - 1 \
         WHERE p.opted_out = 0 AND {} AND ($2 IS NULL OR p.funding IN (SELECT value FROM json_each($2)))",
        channel_condition(batch.channel)
    )
}

fn funding_json(batch: &RuleOccurrences) -> Option<String> {
    batch.funding.as_ref().map(|f| json_list(f))
}

pub(super) async fn insert(
    pool: &SqlitePool,
    batch: &RuleOccurrences,
    now: DateTime<Utc>,
) -> Result<InsertedReminders, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    let mut counts = InsertedReminders::default();
    for pass in InsertPass::of(batch) {
        let occurrences = occurrences_json(batch, pass);
        if occurrences == "[]" {
            continue;
        }
        let sql = format!(
            "INSERT INTO reminders (participant_id, kelurahan_code, contribution_month, rule, rule_offset, channel, \
             slot, status, reason, occurrence_date, send_date, planned_at, expires_at, created_at, updated_at) \
             SELECT p.id, p.kelurahan_code, occ.m, $3, $4, $5, 1, $6, {}, occ.o, occ.d, occ.p, {}, $7, $7 {}{} \
             ON CONFLICT (participant_id, contribution_month, rule, channel, slot) DO NOTHING",
            pass.reason_sql(),
            pass.expires_sql(),
            matching_participants(batch),
            pass.condition(batch.holdout),
        );
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(occurrences)
            .bind(funding_json(batch))
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
         AND r.contribution_month = occ.m AND r.rule = $3 AND r.channel = $4 AND r.slot = 1)",
        matching_participants(batch),
        InsertPass::Pending.condition(batch.holdout),
    )
}

pub(super) async fn preview(pool: &SqlitePool, batch: &RuleOccurrences) -> Result<Vec<PreviewCount>, StoreError> {
    let sql = format!(
        "SELECT occ.k AS kelurahan_code, occ.m AS contribution_month, COUNT(*) AS participants {} \
         GROUP BY occ.k, occ.m ORDER BY occ.k, occ.m",
        not_yet_reminded(batch)
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(occurrences_json(batch, InsertPass::Pending))
        .bind(funding_json(batch))
        .bind(&batch.rule)
        .bind(batch.channel.as_str())
        .fetch_all(pool)
        .await?)
}

pub(super) async fn preview_participants(
    pool: &SqlitePool,
    batch: &RuleOccurrences,
    limit: i64,
) -> Result<Vec<ParticipantRecord>, StoreError> {
    let sql = format!(
        "SELECT p.id, p.nik, p.kpj, p.name, p.phone, p.email, p.kelurahan_code, p.segment, p.funding, \
         p.monthly_amount, p.start_month, p.paid_through, p.preferred_channel, p.opted_out {} ORDER BY p.id LIMIT $5",
        not_yet_reminded(batch)
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(occurrences_json(batch, InsertPass::Pending))
        .bind(funding_json(batch))
        .bind(&batch.rule)
        .bind(batch.channel.as_str())
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

pub(super) async fn cancel_removed(pool: &SqlitePool, rules: &[String], now: DateTime<Utc>) -> Result<u64, StoreError> {
    let sql = format!("UPDATE reminders {CANCEL_REMOVED_SQL_TAIL} (SELECT value FROM json_each($1))");
    // One statement is atomic on its own, and waits on the busy timeout.
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json_list(rules))
        .bind(now.timestamp())
        .execute(pool)
        .await?
        .rows_affected())
}
