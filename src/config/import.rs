//! `[import]`: limits of `pengingat import participants` and
//! `pengingat import payments` (the payments inbox has its own size limit,
//! `payments.inbox_max_file_mb`).

use serde::Deserialize;

/// `[import]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportSettings {
    /// A file over this many MiB is refused before it is read, naming its
    /// size and this limit. An import's memory does not grow with the
    /// file's size; the limit bounds the disk its spill copy takes and the
    /// time it holds the database's write lock. Default 4096 (4 GiB: a
    /// national participants file of some 20 million rows).
    pub max_file_mb: u64,
    /// Rows checked against the database, or written, at a time. Default
    /// 5,000.
    pub chunk_rows: usize,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            max_file_mb: 4096,
            chunk_rows: crate::import::DEFAULT_CHUNK_ROWS,
        }
    }
}

impl ImportSettings {
    /// The largest file an import reads, in bytes.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_mb.saturating_mul(1024 * 1024)
    }
}
