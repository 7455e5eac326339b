//! The coordinator digest on SQLite: the participants behind in one
//! kelurahan, and the per-(kelurahan, week) claim. Each write is a single
//! statement, so SQLite's one writer makes the claim atomic.

crate::store::digest_sql::digest_queries!(sqlx::SqlitePool);
