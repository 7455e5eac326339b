//! Database errors are classified by the backend that raised them.

use pengingat::store::StoreError;

/// PostgreSQL's SQLSTATE 22021 (a NUL byte in text) is a database error
/// naming the problem, not SQLite's "busy" (5), which its number masked
/// with 0xff would be.
#[tokio::test]
async fn a_postgres_error_is_not_read_as_sqlite_busy() {
    crate::prerequisites::require();
    let pool = sqlx::PgPool::connect(&crate::helpers::postgres_admin_url())
        .await
        .unwrap();
    let error = sqlx::query("SELECT $1::text")
        .bind("a\0b")
        .execute(&pool)
        .await
        .unwrap_err();
    pool.close().await;
    let code = match &error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    };
    assert_eq!(code.as_deref(), Some("22021"), "{error}");
    let error = StoreError::from(error);
    assert!(!matches!(error, StoreError::Busy), "{error}");
    assert!(error.to_string().contains("0x00"), "{error}");
}
