//! Reminder SQL for SQLite. Occurrences travel as one JSON parameter read
//! with `json_each` (SQLite has no array parameters); `CROSS JOIN` keeps the
//! small occurrence list as the outer loop so every lookup uses the
//! participants' (kelurahan, segment, paid_through) index.

use serde_json::json;

use super::json_list;
use crate::store::reminders::channel_condition;

/// A re-plan's groups, from the JSON array bound to `$1`.
const GROUPS: &str = "(SELECT json_extract(value, '$.r') AS r, json_extract(value, '$.k') AS k, \
     json_extract(value, '$.m') AS m, json_extract(value, '$.c') AS c, json_extract(value, '$.st') AS st, \
     json_extract(value, '$.od') AS od, json_extract(value, '$.sd') AS sd, json_extract(value, '$.pa') AS pa, \
     json_extract(value, '$.nod') AS nod, json_extract(value, '$.nsd') AS nsd, json_extract(value, '$.npa') AS npa, \
     json_extract(value, '$.nea') AS nea, json_extract(value, '$.note') AS note FROM json_each($1)) AS g";

crate::store::reminders::reminder_plan_queries!(
    sqlx::Sqlite,
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
            json!({"k": &*o.kelurahan_code, "m": o.contribution_month, "o": o.occurrence_date, "d": o.send_date,
                   "p": o.planned_at, "e": o.expires_at, "s": o.skip_reason.as_deref()})
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// `FROM … WHERE …` shared by the insert and the previews. `LIMIT -1`
/// keeps SQLite from flattening the occurrences into the join (a subquery
/// with a limit is not flattened into a join): each occurrence's JSON is
/// then read once, not once per matching participant, which halves the
/// cost of an insert of 400,000 rows.
fn matching_participants(batch: &RuleOccurrences) -> String {
    format!(
        "FROM (SELECT json_extract(value, '$.k') AS k, json_extract(value, '$.m') AS m, \
                      json_extract(value, '$.o') AS o, json_extract(value, '$.d') AS d, \
                      json_extract(value, '$.p') AS p, json_extract(value, '$.e') AS e, \
                      json_extract(value, '$.s') AS s FROM json_each($1) LIMIT -1) occ \
         CROSS JOIN participants p ON p.kelurahan_code = occ.k AND p.segment = 'bpu' AND p.paid_through = occ.m - 1 \
         WHERE p.opted_out = 0 AND {} AND ($2 IS NULL OR p.funding IN (SELECT value FROM json_each($2)))",
        channel_condition(batch.channel)
    )
}

fn funding_json(batch: &RuleOccurrences) -> Option<String> {
    batch.funding.as_ref().map(|f| json_list(f))
}

/// The occurrences' JSON array and the funding filter.
const OCCURRENCE_PARAMS: u8 = 2;

/// Binds the occurrences of `pass` to `$1` and the funding filter to `$2`.
fn bind_occurrences<'q>(statement: Query<'q>, batch: &RuleOccurrences, pass: InsertPass) -> Query<'q> {
    statement.bind(occurrences_json(batch, pass)).bind(funding_json(batch))
}

crate::store::occurrence_sql::occurrence_queries!(sqlx::Sqlite);
