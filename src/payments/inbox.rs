//! The payments inbox: a folder another system drops payment files into
//! (CSV or JSON, the columns of `pengingat import payments`). Each file is
//! imported whole or not at all, then moved to `done/`, or to `rejected/`
//! with a `<name>.reasons.txt` that lists every problem. A file over
//! `payments.inbox_max_file_mb` is rejected unread.
//!
//! A file is never imported twice, even across restarts and renames: its
//! SHA-256 is recorded in the database before it is moved, so a crash
//! between the two only leaves the move to do. (Payments are idempotent by
//! external reference as well, so even a lost ledger row would record
//! nothing twice.) Files still being written are skipped by name: writers
//! use a name starting with `.` or ending in `.tmp` or `.part`, and rename.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::import::{ImportError, ImportOptions, import_payments};
use crate::store::{InboxFileRecord, NoProgress, PaymentSource, Store, StoreError};

/// Where processed files go, beside the inbox's files.
pub const DONE: &str = "done";
/// Where refused files go, with their reasons.
pub const REJECTED: &str = "rejected";

/// Why a look into the inbox failed as a whole.
#[derive(Debug, Error)]
pub enum InboxError {
    /// The folder (or its `done/`, `rejected/`) cannot be read or written:
    /// nothing can be processed until the operator fixes it.
    #[error("payments inbox {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The database did not answer: the file stays where it is and the next
    /// look tries again.
    #[error("payments inbox: {0}")]
    Store(#[from] StoreError),
}

/// What one look into the inbox did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxReport {
    /// Files imported now.
    pub imported: Vec<String>,
    /// Files refused now.
    pub rejected: Vec<String>,
    /// Files seen before (same content) and only moved now.
    pub already_seen: Vec<String>,
}

/// Imports every complete file in `dir`, oldest name first.
pub async fn process_inbox(store: &dyn Store, dir: &Path, options: &ImportOptions) -> Result<InboxReport, InboxError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InboxError::Io { path, source }
    };
    for sub in [DONE, REJECTED] {
        tokio::fs::create_dir_all(dir.join(sub))
            .await
            .map_err(io(&dir.join(sub)))?;
    }
    let mut report = InboxReport::default();
    for path in waiting_files(dir).await.map_err(io(dir))? {
        process_file(store, dir, &path, options, &mut report).await?;
    }
    Ok(report)
}

/// The complete files waiting in `dir`, by name.
async fn waiting_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries = tokio::fs::read_dir(dir).await?;
    let mut files = Vec::new();
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().to_string();
        let in_progress = name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".part");
        if entry.file_type().await?.is_file() && !in_progress {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

async fn process_file(
    store: &dyn Store,
    dir: &Path,
    path: &Path,
    options: &ImportOptions,
    report: &mut InboxReport,
) -> Result<(), InboxError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let sha256 = file_sha256(path).await.map_err(|source| InboxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if let Some(seen) = store.inbox_file_seen(&sha256).await? {
        tracing::info!(file = %name, first_seen_as = %seen.file_name, "inbox file imported before; moving it only");
        move_to(dir, path, &name, &seen.outcome).await?;
        report.already_seen.push(name);
        return Ok(());
    }
    let options = ImportOptions {
        payment_source: PaymentSource::Inbox,
        skip_invalid: false,
        ..options.clone()
    };
    let (outcome, rows, detail) = match import_payments(store, path, &options, &NoProgress).await {
        Ok(imported) => (DONE, imported.rows as i64, None),
        Err(ImportError::Store(e)) => return Err(e.into()),
        Err(e) => (REJECTED, 0, Some(e.to_string())),
    };
    if let Some(reasons) = &detail {
        let file = dir.join(REJECTED).join(format!("{name}.reasons.txt"));
        tokio::fs::write(&file, format!("{reasons}\n"))
            .await
            .map_err(|source| InboxError::Io { path: file, source })?;
        tracing::warn!(file = %name, "inbox file rejected; reasons written beside it");
    } else {
        tracing::info!(file = %name, rows, "inbox file imported");
    }
    let record = InboxFileRecord {
        sha256,
        file_name: name.clone(),
        outcome: outcome.to_string(),
        row_count: rows,
        detail,
    };
    store.record_inbox_file(&record, options.now).await?;
    move_to(dir, path, &name, outcome).await?;
    if outcome == DONE {
        report.imported.push(name);
    } else {
        report.rejected.push(name);
    }
    Ok(())
}

/// Moves the file into `dir/<sub>/`, never over another file of that name.
async fn move_to(dir: &Path, path: &Path, name: &str, sub: &str) -> Result<(), InboxError> {
    let mut target = dir.join(sub).join(name);
    let mut n = 1;
    while tokio::fs::try_exists(&target).await.unwrap_or(false) {
        target = dir.join(sub).join(format!("{name}.{n}"));
        n += 1;
    }
    tokio::fs::rename(path, &target)
        .await
        .map_err(|source| InboxError::Io { path: target, source })
}

/// The file's SHA-256, read in pieces: a file too large to import is
/// still recognised, without holding it in memory.
async fn file_sha256(path: &Path) -> std::io::Result<String> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
