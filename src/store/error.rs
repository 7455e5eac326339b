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

impl StoreError {
    /// A failed connection to `url`, named with its password redacted.
    pub(crate) fn connect(url: &str, source: sqlx::Error) -> Self {
        Self::Connect {
            url: super::redact_url(url),
            source,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_busy(&e) { Self::Busy } else { Self::Database(e) }
    }
}

/// Whether `e` is SQLite's "another writer holds the lock; nothing was
/// written". Only SQLite's errors are read this way: PostgreSQL's codes are
/// five-character SQLSTATEs, some of which (22021, a NUL byte in text)
/// would look like SQLite's 5 if read as numbers. A PostgreSQL lock timeout
/// stays a database error that says so.
fn is_busy(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else { return false };
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() && db.code().is_some_and(|code| sqlite_busy(&code))
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), including extended codes
/// (SQLite's "Result and Error Codes": the low 8 bits are the primary code).
fn sqlite_busy(code: &str) -> bool {
    code.parse::<i64>().is_ok_and(|code| matches!(code & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes_are_read_by_their_low_byte() {
        assert!(sqlite_busy("5"));
        assert!(sqlite_busy("517"), "SQLITE_BUSY_SNAPSHOT");
        assert!(sqlite_busy("262"), "SQLITE_LOCKED_SHAREDCACHE");
        assert!(!sqlite_busy("19"), "SQLITE_CONSTRAINT");
        // Why PostgreSQL's codes must never be read this way.
        assert!(
            sqlite_busy("22021"),
            "PostgreSQL's 22021 (a NUL byte in text) read as a number"
        );
    }
}
