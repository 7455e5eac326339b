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

/// Connections the server closed (a restart, an administrator's
/// `pg_terminate_backend`) are replaced: the store answers again after at
/// most a few failed statements, without being reopened. Pooled
/// connections used within the last second are not pinged before use, so
/// the first statements may fail; a connection idle longer is pinged and
/// replaced when it does not answer.
#[tokio::test]
async fn connections_the_server_closed_are_replaced() {
    let db = crate::helpers::postgres_db().await;
    let reads = (0..4).map(|_| db.store.list_kelurahan());
    for read in futures::future::join_all(reads).await {
        read.expect("read before the connections are closed");
    }
    let name = db.url.rsplit('/').next().expect("database name").to_string();
    let admin = sqlx::PgPool::connect(&crate::helpers::postgres_admin_url())
        .await
        .unwrap();
    let closed: Vec<bool> =
        sqlx::query_scalar("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(&name)
            .fetch_all(&admin)
            .await
            .unwrap();
    admin.close().await;
    assert!(
        !closed.is_empty() && closed.iter().all(|c| *c),
        "no connection of {name} to close"
    );
    let mut failed = Vec::new();
    for _ in 0..50 {
        match db.store.list_kelurahan().await {
            Ok(_) => break,
            Err(e) => failed.push(e.to_string()),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(failed.len() < 50, "the store never answered again: {failed:?}");
    db.cleanup().await;
}
