//! Matching a file's columns to the ones an importer knows, and reading one
//! row's values while collecting every problem with it.

use std::collections::HashMap;
use std::fmt::Display;
use std::path::Path;

use super::reader::{Staged, stage};
use super::table::{Cell, Header, RawRecord, RawTable};
use super::{ImportError, ImportOptions, RowError};

/// Where each known column is in the file.
#[derive(Debug)]
pub(crate) struct Columns {
    /// Column name (normalised) → its index in the table's cells.
    positions: HashMap<&'static str, usize>,
}

impl Columns {
    /// [`resolve`](Self::resolve) for a table held in memory.
    pub fn of_table(
        path: &Path,
        table: &RawTable,
        known: &[&'static str],
        required: &[&[&'static str]],
    ) -> Result<(Self, Vec<String>), ImportError> {
        let header = Header {
            headers: table.headers.clone(),
            columns: table.columns.clone(),
        };
        Self::resolve(path, &header, !table.records.is_empty(), known, required)
    }

    /// Finds the `known` columns in a file's `header`. Each group in `required` needs
    /// at least one of its columns (`[["nik", "kpj"]]`: one of the two).
    /// Returns a warning naming any columns that will be ignored. A table
    /// with no columns and no rows (`[]` in JSON) is accepted as empty.
    pub fn resolve(
        path: &Path,
        header: &Header,
        has_records: bool,
        known: &[&'static str],
        required: &[&[&'static str]],
    ) -> Result<(Self, Vec<String>), ImportError> {
        let mut positions = HashMap::new();
        let mut ignored = Vec::new();
        for (i, column) in header.columns.iter().enumerate() {
            match known.iter().find(|k| **k == column.as_str()) {
                Some(&name) => {
                    if let Some(first) = positions.insert(name, i) {
                        return Err(ImportError::Malformed {
                            path: path.to_path_buf(),
                            line: 1,
                            reason: format!("column {name} appears twice (columns {} and {})", first + 1, i + 1),
                        });
                    }
                }
                None if column.is_empty() => ignored.push(format!("(unnamed column {})", i + 1)),
                None => ignored.push(header.headers[i].trim().to_string()),
            }
        }
        let empty = header.columns.is_empty() && !has_records;
        let missing: Vec<String> = required
            .iter()
            .filter(|group| !empty && !group.iter().any(|c| positions.contains_key(c)))
            .map(|group| group.join(" or "))
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::MissingColumn {
                path: path.to_path_buf(),
                columns: missing,
            });
        }
        let warnings = if ignored.is_empty() {
            Vec::new()
        } else {
            vec![format!("ignored unknown column(s): {}", ignored.join(", "))]
        };
        Ok((Self { positions }, warnings))
    }
}

/// Reads one row's values by column name; every problem found is kept, so a
/// row with three bad values reports three errors.
pub(crate) struct RowReader<'a> {
    /// The row being read.
    record: &'a RawRecord,
    /// Where the columns are.
    columns: &'a Columns,
    /// The problems found so far.
    errors: Vec<RowError>,
}

impl<'a> RowReader<'a> {
    /// A reader for `record`. A row that cannot be read as a whole (wrong
    /// number of fields, not an object) reports only that, since its values
    /// may sit under the wrong columns.
    pub fn new(record: &'a RawRecord, columns: &'a Columns) -> Self {
        let errors = match &record.defect {
            Some(defect) => vec![RowError::new(record.line, None, defect.clone())],
            None => Vec::new(),
        };
        Self {
            record,
            columns,
            errors,
        }
    }

    /// The line the row starts on.
    pub fn line(&self) -> usize {
        self.record.line
    }

    /// Records a problem.
    pub fn error(&mut self, column: Option<&str>, reason: impl Into<String>) {
        self.errors.push(RowError::new(self.record.line, column, reason));
    }

    /// The problems found; empty when the row is good.
    pub fn into_errors(self) -> Vec<RowError> {
        self.errors
    }

    /// The trimmed text in `column`, `None` when blank or absent. A value of
    /// the wrong JSON type is a problem (and `None`).
    pub fn text(&mut self, column: &'static str) -> Option<&'a str> {
        if self.record.defect.is_some() {
            return None;
        }
        let i = *self.columns.positions.get(column)?;
        match self.record.cells.get(i)? {
            Cell::Text(s) => Some(s.trim()).filter(|s| !s.is_empty()),
            Cell::Bool(_) => {
                self.error(Some(column), "expected text or a number, found a boolean");
                None
            }
            Cell::Wrong { found, .. } => {
                self.error(Some(column), format!("expected text or a number, found {found}"));
                None
            }
        }
    }

    /// Whether `column` is absent or blank (a value of any JSON type counts
    /// as given); records nothing. False for a defective row, whose cells
    /// say nothing reliable.
    pub fn is_blank(&self, column: &str) -> bool {
        if self.record.defect.is_some() {
            return false;
        }
        let cell = self
            .columns
            .positions
            .get(column)
            .and_then(|&i| self.record.cells.get(i));
        match cell {
            None => true,
            Some(Cell::Text(s)) => s.trim().is_empty(),
            Some(_) => false,
        }
    }

    /// Like [`text`](Self::text), but a blank value is a problem.
    pub fn required(&mut self, column: &'static str) -> Option<&'a str> {
        let errors = self.errors.len();
        let value = self.text(column);
        if value.is_none() && errors == self.errors.len() && self.record.defect.is_none() {
            self.error(Some(column), "missing required value");
        }
        value
    }

    /// The optional value in `column` parsed by `parse`; a parse failure is a
    /// problem.
    pub fn parse<T, E: Display>(
        &mut self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let raw = self.text(column)?;
        self.check(column, parse(raw))
    }

    /// The required value in `column` parsed by `parse`.
    pub fn parse_required<T, E: Display>(
        &mut self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let raw = self.required(column)?;
        self.check(column, parse(raw))
    }

    /// A yes/no value: JSON `true`/`false`, or text `parse_flag` accepts.
    pub fn flag(&mut self, column: &'static str) -> Option<bool> {
        let i = *self.columns.positions.get(column)?;
        if let Some(Cell::Bool(b)) = self.record.cells.get(i) {
            return (self.record.defect.is_none()).then_some(*b);
        }
        self.parse(column, super::values::parse_flag)
    }

    fn check<T, E: Display>(&mut self, column: &'static str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.error(Some(column), e.to_string());
                None
            }
        }
    }
}

/// [`stage`]d by the import's options, with the file's `known` columns and
/// the warnings about the columns ignored (see [`Columns::resolve`]).
pub(crate) async fn stage_table(
    path: &Path,
    options: &ImportOptions,
    known: &[&'static str],
    required: &[&[&'static str]],
) -> Result<(Staged, Columns, Vec<String>), ImportError> {
    let staged = stage(path, options.format, options.max_file_bytes).await?;
    let has_records = staged.spill.count() > 0;
    let (columns, warnings) = Columns::resolve(path, &staged.header, has_records, known, required)?;
    Ok((staged, columns, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::reader::parse_csv;

    const KNOWN: &[&str] = &["nik", "kpj", "name", "opted_out"];

    fn table(text: &str) -> RawTable {
        parse_csv(Path::new("t.csv"), text).unwrap()
    }

    #[test]
    fn missing_groups_and_ignored_columns() {
        let t = table("Name,Hobby,,x\nSiti,,,\n");
        let err = Columns::of_table(Path::new("t.csv"), &t, KNOWN, &[&["nik", "kpj"], &["name"]]).unwrap_err();
        assert_eq!(err.to_string(), "t.csv lacks the required column(s) nik or kpj");
        let (_, warnings) = Columns::of_table(Path::new("t.csv"), &t, KNOWN, &[&["name"]]).unwrap();
        assert_eq!(warnings, ["ignored unknown column(s): Hobby, (unnamed column 3), x"]);
    }

    #[test]
    fn a_known_column_twice_is_malformed() {
        let t = table("nik,NIK\n1,2\n");
        let err = Columns::of_table(Path::new("t.csv"), &t, KNOWN, &[]).unwrap_err();
        assert!(err.to_string().contains("column nik appears twice"), "{err}");
    }

    #[test]
    fn reader_collects_every_problem() {
        let t = table("nik,name,opted_out\n,  ,maybe\n");
        let (cols, _) = Columns::of_table(Path::new("t.csv"), &t, KNOWN, &[]).unwrap();
        let mut row = RowReader::new(&t.records[0], &cols);
        assert_eq!(row.required("nik"), None);
        assert_eq!(row.required("name"), None);
        assert_eq!(row.flag("opted_out"), None);
        assert_eq!(row.text("kpj"), None);
        let errors: Vec<String> = row.into_errors().iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(errors[0], "line 2, column nik: missing required value");
        assert!(
            errors[2].starts_with("line 2, column opted_out: \"maybe\""),
            "{errors:?}"
        );
    }
}
