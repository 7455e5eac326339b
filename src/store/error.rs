//! The storage boundary's error type.

use thiserror::Error;

/// Why a storage operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database could not be reached or opened at all; the message names
    /// the (password-redacted) URL so the operator can see which one.
    #[error("cannot connect to the database at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// SQLite allows one writer; another process (an import, the daemon)
    /// held the write lock for longer than the busy timeout. Nothing was
    /// written; retrying later is safe.
    #[error("the database is busy: another process is writing to it; nothing was changed, try again")]
    Busy,
    /// A migration could not be applied; the schema is left as it was.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Payments were refused in strict mode; nothing was written.
    #[error("{0} payment(s) could not be recorded; nothing was changed")]
    PaymentsRejected(usize),
    /// Any other database error; the transaction was rolled back.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_busy(&e) { Self::Busy } else { Self::Database(e) }
    }
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), including extended codes.
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
        _ => false,
    }
}
