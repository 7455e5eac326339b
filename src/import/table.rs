//! An import file as rows of cells, before any value is interpreted: the
//! shape both readers (CSV and JSON) produce and every importer consumes.

use std::borrow::Cow;
use std::io;
use std::path::Path;

use super::ImportError;

/// Where each record read goes.
pub(crate) type Sink<'a> = dyn FnMut(RawRecord) -> io::Result<()> + 'a;

/// The column names of a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Header {
    /// Column names as written in the file, for the rejected-rows file.
    pub headers: Vec<String>,
    /// The same names normalised by [`normalise_column`], to match on.
    pub columns: Vec<String>,
}

/// A file read into rows of cells, one cell per column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawTable {
    /// Column names as written in the file, for the rejected-rows file.
    pub headers: Vec<String>,
    /// The same names normalised by [`normalise_column`], to match on.
    pub columns: Vec<String>,
    /// The data rows, blank ones left out.
    pub records: Vec<RawRecord>,
}

/// One data row (CSV) or record (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRecord {
    /// The line of the file the row starts on.
    pub line: usize,
    /// One cell per column of the table; an absent value is an empty text.
    pub cells: Vec<Cell>,
    /// Why the row as a whole cannot be read (a wrong number of fields, a
    /// JSON value that is not an object); its cells are then unreliable.
    pub defect: Option<String>,
}

/// One value as the file gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    /// Text, or a JSON number written out; may be empty.
    Text(String),
    /// A JSON `true` or `false`.
    Bool(bool),
    /// A JSON value no column accepts (an object or array), kept as JSON
    /// text for the rejected-rows file.
    Wrong { found: &'static str, json: String },
}

impl Cell {
    /// The value as it should be written back to a CSV file.
    pub fn original(&self) -> Cow<'_, str> {
        match self {
            Self::Text(s) => Cow::Borrowed(s),
            Self::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Self::Wrong { json, .. } => Cow::Borrowed(json),
        }
    }

    /// Whether the cell holds nothing but white space.
    pub(super) fn is_blank(&self) -> bool {
        matches!(self, Self::Text(s) if s.trim().is_empty())
    }
}

/// A NUL byte at byte `at` of `text`, refused with its line and column
/// (counted in characters from 1, as editors do). No text field may hold
/// one: PostgreSQL cannot store it and nothing that reads the data expects it.
pub(crate) fn nul_refused(path: &Path, text: &str, at: usize) -> ImportError {
    let (line, column) = line_and_column(text, at);
    ImportError::Malformed {
        path: path.to_path_buf(),
        line,
        reason: format!("column {column} holds a NUL byte (\\0); no field may contain one"),
    }
}

/// A NUL byte (or `\u0000` escape) found at `place` while reading, refused
/// as [`nul_refused`] words it.
pub(crate) fn nul_at(path: &Path, place: super::text::Place) -> ImportError {
    ImportError::Malformed {
        path: path.to_path_buf(),
        line: place.line,
        reason: format!(
            "column {} holds a NUL byte (\\0); no field may contain one",
            place.column
        ),
    }
}

/// The line and character column (both from 1) of byte `at` of `text`.
pub(crate) fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// A header name as matched: trimmed, lower case, runs of spaces, dashes and
/// underscores as one `_` (so `Paid Through` is `paid_through`).
pub(crate) fn normalise_column(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.trim().chars() {
        if c.is_whitespace() || c == '-' || c == '_' {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push('_');
        }
        gap = false;
        out.extend(c.to_lowercase());
    }
    out
}
