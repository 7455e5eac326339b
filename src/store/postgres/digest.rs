//! The coordinator digest on PostgreSQL: the participants behind in one
//! kelurahan, and the per-(kelurahan, week) claim. The claim is one
//! INSERT … ON CONFLICT DO UPDATE … WHERE: of two instances claiming at once,
//! the second waits for the first's row and finds it taken.

crate::store::digest_sql::digest_queries!(sqlx::PgPool);
