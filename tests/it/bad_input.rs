//! Bad input on every surface, one named case each: import files, the
//! payments API, delivery receipts, inbound SMS, the TOML configuration and
//! the command line. Every case asserts that the error names the problem
//! (what and where) and that the database is exactly as it was: every row
//! of every table compared before and after.

mod api;
mod cli;
mod imports;
mod toml;

use crate::helpers::*;
use pengingat::store::Backend;

/// One refused input: its name, and the words the error must hold.
pub struct Case {
    pub name: &'static str,
    pub needles: Vec<String>,
}

/// The words, owned.
pub fn words(needles: &[&str]) -> Vec<String> {
    needles.iter().map(|n| n.to_string()).collect()
}

/// Every row of every table (migrations' bookkeeping aside), as text, in a
/// stable order.
pub async fn snapshot(db: &TestDb) -> Vec<String> {
    let mut rows = Vec::new();
    match db.store.backend() {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            for (table,) in tables {
                let columns: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{table}')"
                )))
                .fetch_all(&pool)
                .await
                .unwrap();
                let row = columns
                    .iter()
                    .map(|(c,)| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                let sql = format!("SELECT '{table}: ' || {row} AS r FROM \"{table}\" ORDER BY r");
                let found: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&pool).await.unwrap();
                rows.extend(found.into_iter().map(|(r,)| r));
            }
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' \
                 AND tablename NOT LIKE '_sqlx%' ORDER BY tablename",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            for (table,) in tables {
                let sql = format!("SELECT '{table}: ' || t::text AS r FROM \"{table}\" t ORDER BY r");
                let found: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&pool).await.unwrap();
                rows.extend(found.into_iter().map(|(r,)| r));
            }
            pool.close().await;
        }
    }
    rows
}

/// What `error` fails to name of `case`, if anything.
pub fn unnamed(case: &Case, error: &str) -> Option<String> {
    let missing: Vec<&str> = case
        .needles
        .iter()
        .map(String::as_str)
        .filter(|needle| !error.contains(needle))
        .collect();
    (!missing.is_empty()).then(|| format!("case {:?}: the error does not name {missing:?}:\n{error}", case.name))
}

/// How the database differs from `before`, if it does.
pub async fn changed(case: &Case, db: &TestDb, before: &[String]) -> Option<String> {
    let after = snapshot(db).await;
    (after != before).then(|| format!("case {:?} changed the database:\n{}", case.name, diff(before, &after)))
}

fn diff(before: &[String], after: &[String]) -> String {
    let gone = before.iter().filter(|r| !after.contains(r)).map(|r| format!("- {r}"));
    let new = after.iter().filter(|r| !before.contains(r)).map(|r| format!("+ {r}"));
    gone.chain(new).collect::<Vec<_>>().join("\n")
}

/// Asserts the number of cases a table holds, so none is lost silently.
pub fn assert_count(cases: &[Case], at_least: usize) {
    assert!(cases.len() >= at_least, "{} cases", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
}
