//! Importing data files: participants and payments from CSV (as spreadsheets
//! export it) or JSON, and the Kemendagri kelurahan list.
//!
//! Every import follows one policy ("nothing half-applied"):
//!
//! 1. the file is read once, as a stream, into a spill file on disk, and
//!    every row is checked, collecting *every* problem with its line, column
//!    and reason;
//! 2. by default a file with any bad row changes nothing and the import fails
//!    with [`ImportError::Invalid`] listing all of them;
//! 3. with [`ImportOptions::skip_invalid`] the good rows are imported and the
//!    bad ones are written next to the input as `<stem>.rejected.csv`;
//! 4. the good rows go to the store in one transaction, a chunk of
//!    [`ImportOptions::chunk_rows`] rows at a time; re-importing the same
//!    file changes nothing.
//!
//! Lookups the checks need (the kelurahan list, stored participants and
//! payments) are made in bulk, a chunk at a time, never per row, so 100,000
//! rows take seconds.
//!
//! # Memory
//!
//! A file import holds at most one chunk of rows, never the file's text:
//! its memory does not grow with the file's size, only by a fixed amount
//! per row (16 bytes, and 16 more for a payment row that repeats another; see
//! `participants` and `payments_file`)
//! plus the problems of the rows it rejects, which it must list. The
//! kelurahan list (reference data of a few megabytes) is read whole.

mod columns;
mod json;
mod kelurahan;
mod participants;
mod payments;
mod payments_file;
mod reader;
mod rejected;
mod runs;
mod spill;
mod table;
mod text;
mod values;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::domain::ContributionMonth;
use crate::store::{PaymentSource, StoreError, UpsertCounts};

pub(crate) use json::parse_json;
pub use kelurahan::import_kelurahan;
pub use participants::import_participants;
pub use payments::PaymentRowResult;
pub(crate) use payments::apply_payment_table;
pub use payments_file::import_payments;

/// The format of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Comma-separated values with a header line (UTF-8, with or without BOM).
    Csv,
    /// A JSON array of objects whose keys are the column names.
    Json,
}

impl InputFormat {
    /// The format named by the file's extension (`.csv`, `.json`, in any
    /// case), or `None` for any other extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

impl std::str::FromStr for InputFormat {
    type Err = String;

    /// `csv` or `json`, in any case, for a command-line option.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "json" => Ok(Self::Json),
            other => Err(format!("unknown import format {other:?}; expected csv or json")),
        }
    }
}

/// July 2015: BPJS Ketenagakerjaan took over from PT Jamsostek and began
/// running its programmes, the BPU one included, on 1 July 2015 (Law 24 of
/// 2011 on BPJS, art. 62 and 64; Government Regulations 44 and 46 of 2015
/// on JKK/JKM and JHT). No BPJS Ketenagakerjaan contribution is owed for an
/// earlier month, so an earlier `paid_through` is a mistake in the file.
pub const BPU_PROGRAMME_START: ContributionMonth = ContributionMonth::from_index(2015 * 12 + 6);

/// Rows per chunk of a file import, unless set otherwise: large enough that
/// the store's lookups and writes run in big batches, small enough that a
/// chunk's rows take a few megabytes.
pub const DEFAULT_CHUNK_ROWS: usize = 5_000;

/// How an import treats bad rows and what it takes as "now".
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Import the good rows and write the bad ones to `<stem>.rejected.csv`
    /// instead of refusing the whole file. Default false.
    pub skip_invalid: bool,
    /// The instant the import happens (injected, so defaults such as "the
    /// current month" and "a payment in the future" are testable).
    pub now: DateTime<Utc>,
    /// How many months after the current month a participant's
    /// `paid_through` may lie; BPU pay at most 12 months ahead.
    /// Default 12.
    pub max_paid_ahead_months: u32,
    /// The earliest `paid_through` a participant row may give; an earlier
    /// month is a typo or a wrong column, not a participant. Default
    /// [`BPU_PROGRAMME_START`].
    pub earliest_paid_through: ContributionMonth,
    /// Files larger than this many bytes are refused before they are read
    /// (the payments inbox sets it, so a huge file cannot exhaust the
    /// daemon's memory). Default none.
    pub max_file_bytes: Option<u64>,
    /// The file's format; `None` takes it from the extension.
    pub format: Option<InputFormat>,
    /// How many rows a file import checks against the store, or writes, at
    /// a time (`[import]` `chunk_rows`): the rows of one chunk are the only
    /// ones held in memory whole. Default [`DEFAULT_CHUNK_ROWS`].
    pub chunk_rows: usize,
    /// Payments only: where the file came from (recorded with each payment).
    pub payment_source: PaymentSource,
    /// Payments only: the attribution window in seconds (`[payments]`
    /// `attribution_days`). Default 14 days.
    pub attribution_secs: i64,
}

impl ImportOptions {
    /// The defaults at the instant `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            skip_invalid: false,
            now,
            max_paid_ahead_months: 12,
            earliest_paid_through: BPU_PROGRAMME_START,
            max_file_bytes: None,
            format: None,
            chunk_rows: DEFAULT_CHUNK_ROWS,
            payment_source: PaymentSource::Import,
            attribution_secs: 14 * 86_400,
        }
    }
}

/// One problem with one row of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file where the row (or JSON record) starts, counting from 1.
    pub line: usize,
    /// The column the problem is in, when it is in one.
    pub column: Option<String>,
    /// What is wrong, for the operator.
    pub reason: String,
    /// The row reuses a payment's external reference for a different
    /// payment: a conflict with stored data rather than a malformed row
    /// (the payments API answers it with 409).
    pub conflict: bool,
}

impl RowError {
    pub(crate) fn new(line: usize, column: Option<&str>, reason: impl Into<String>) -> Self {
        Self {
            line,
            column: column.map(str::to_string),
            reason: reason.into(),
            conflict: false,
        }
    }

    /// A reused external reference.
    pub(crate) fn conflict(line: usize, reason: impl Into<String>) -> Self {
        Self {
            conflict: true,
            ..Self::new(line, Some("external_ref"), reason)
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {}: {}", self.line, column, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// What a payments import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaymentCounts {
    /// Payments recorded now.
    pub recorded: u64,
    /// Payments already recorded (same reference, participant and amount),
    /// or repeated identically inside the file; left alone.
    pub duplicates: u64,
    /// Recorded payments credited to a reminder sent within the window.
    pub credited: u64,
    /// Pending reminders the recorded payments made moot (cancelled, "paid").
    pub reminders_cancelled: u64,
}

/// What an import wrote, by kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportCounts {
    /// Participants inserted, updated or left unchanged (by NIK).
    Participants(UpsertCounts),
    /// Payments recorded or recognised as duplicates.
    Payments(PaymentCounts),
    /// Kelurahan inserted, updated or left unchanged (by code).
    Kelurahan(UpsertCounts),
}

/// The outcome of an import that went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows (or JSON records) read, blank rows not counted.
    pub rows: usize,
    /// What was written.
    pub counts: ImportCounts,
    /// Problems with the rows that were not imported (only with
    /// `skip_invalid`; otherwise any problem fails the import). A row may
    /// have several.
    pub rejected: Vec<RowError>,
    /// The `<stem>.rejected.csv` written next to the input, when rows were rejected.
    pub rejected_file: Option<PathBuf>,
    /// Things the operator should know that did not stop the import, such as
    /// columns that were ignored.
    pub warnings: Vec<String>,
}

/// Why an import did not happen. Every variant except `Store` is detected
/// before anything is written; a `Store` error rolls the transaction back.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The file is missing or cannot be read (permissions, a directory).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Neither the extension nor the options say whether it is CSV or JSON.
    #[error("cannot tell the format of {}: name it .csv or .json, or give the format", path.display())]
    UnknownFormat { path: PathBuf },
    /// The file is not UTF-8 (for example a spreadsheet saved as Latin-1 or
    /// UTF-16); `byte` is the offset of the first invalid byte.
    #[error(
        "{} is not UTF-8 text: invalid byte at line {line} (byte offset {byte}); save it as \"CSV UTF-8\"",
        path.display()
    )]
    NotUtf8 { path: PathBuf, line: usize, byte: usize },
    /// The file is larger than [`ImportOptions::max_file_bytes`]; it was not read.
    #[error(
        "{} is {bytes} bytes, more than the {limit} accepted; split it into smaller files",
        path.display()
    )]
    TooLarge { path: PathBuf, bytes: u64, limit: u64 },
    /// The file's structure is broken: a JSON syntax error, not an array, an
    /// empty file, a column named twice.
    #[error("{}, line {line}: {reason}", path.display())]
    Malformed { path: PathBuf, line: usize, reason: String },
    /// Required columns are absent from the header (for JSON: from every record).
    #[error("{} lacks the required column(s) {}", path.display(), columns.join(", "))]
    MissingColumn { path: PathBuf, columns: Vec<String> },
    /// Some rows are bad and `skip_invalid` is off: nothing was written.
    /// Lists every problem of every bad row.
    #[error("{}: {} problem(s) in the rows below; nothing was imported\n{}", path.display(), errors.len(), list(errors))]
    Invalid { path: PathBuf, errors: Vec<RowError> },
    /// The rejected-rows file could not be written; nothing was imported.
    #[error("cannot write the rejected rows to {}: {source}; nothing was imported", path.display())]
    WriteRejected {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The database refused or failed; its transaction was rolled back.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One row error per line, for [`ImportError::Invalid`].
fn list(errors: &[RowError]) -> String {
    errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension_in_any_case() {
        assert_eq!(InputFormat::from_path(Path::new("a/b.CSV")), Some(InputFormat::Csv));
        assert_eq!(InputFormat::from_path(Path::new("b.Json")), Some(InputFormat::Json));
        assert_eq!(InputFormat::from_path(Path::new("b.xlsx")), None);
        assert_eq!(InputFormat::from_path(Path::new("noext")), None);
        assert_eq!("JSON".parse::<InputFormat>(), Ok(InputFormat::Json));
    }

    #[test]
    fn row_errors_name_line_and_column() {
        let e = RowError::new(7, Some("phone"), "phone number is empty");
        assert_eq!(e.to_string(), "line 7, column phone: phone number is empty");
        assert_eq!(RowError::new(3, None, "bad").to_string(), "line 3: bad");
    }

    #[test]
    fn invalid_lists_every_problem() {
        let err = ImportError::Invalid {
            path: PathBuf::from("p.csv"),
            errors: vec![RowError::new(2, Some("nik"), "x"), RowError::new(5, None, "y")],
        };
        let text = err.to_string();
        assert!(text.starts_with("p.csv: 2 problem(s)"), "{text}");
        assert!(
            text.contains("line 2, column nik: x") && text.contains("line 5: y"),
            "{text}"
        );
    }
}
