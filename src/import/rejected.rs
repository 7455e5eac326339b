//! The import policy for bad rows, and the rejected-rows file.
//!
//! By default any bad row refuses the whole file, listing every problem.
//! With `skip_invalid`, the bad rows go to `<input stem>.rejected.csv` next
//! to the input: the original columns plus `line` and `reason`, always CSV
//! (also for JSON input), UTF-8 with a BOM so spreadsheet programs show
//! Indonesian names correctly. A cell a spreadsheet would run as a formula
//! is written with a `'` in front (OWASP's CSV injection guidance), which
//! the CSV reader removes again. An operator fixes that file and imports
//! it again; its `line` and `reason` columns are then ignored with a warning.

use std::path::{Path, PathBuf};

use super::table::RawTable;
use super::{ImportError, RowError};
use crate::report::table::spreadsheet_safe;

/// A bad row: the index of its record in the table, and its problems.
pub(crate) type Rejection = (usize, Vec<RowError>);

/// Applies the policy to the rejected rows: `Ok(None)` when there are none,
/// [`ImportError::Invalid`] unless `skip_invalid`, otherwise the path of the
/// rejected-rows file just written.
pub(crate) async fn settle(
    path: &Path,
    table: &RawTable,
    rejected: &mut [Rejection],
    skip_invalid: bool,
) -> Result<Option<PathBuf>, ImportError> {
    if rejected.is_empty() {
        return Ok(None);
    }
    rejected.sort_by_key(|(index, _)| table.records[*index].line);
    if !skip_invalid {
        return Err(ImportError::Invalid {
            path: path.to_path_buf(),
            errors: flatten(rejected),
        });
    }
    write_rejected(path, table, rejected).await.map(Some)
}

/// Every problem of every rejected row, in file order.
pub(crate) fn flatten(rejected: &[Rejection]) -> Vec<RowError> {
    rejected.iter().flat_map(|(_, errors)| errors.iter().cloned()).collect()
}

/// `<dir>/<stem>.rejected.csv` for `<dir>/<stem>.<ext>`.
pub(crate) fn rejected_path(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map_or_else(|| "import".into(), |s| s.to_string_lossy());
    input.with_file_name(format!("{stem}.rejected.csv"))
}

/// Writes the rejected rows (through a temporary file, so a reader never
/// sees half a file) and returns the file's path.
pub(crate) async fn write_rejected(
    input: &Path,
    table: &RawTable,
    rejected: &[Rejection],
) -> Result<PathBuf, ImportError> {
    let out = rejected_path(input);
    let write_error = |source| ImportError::WriteRejected {
        path: out.clone(),
        source,
    };
    let bytes = render(table, rejected).map_err(write_error)?;
    let temporary = out.with_extension("csv.tmp");
    tokio::fs::write(&temporary, bytes).await.map_err(write_error)?;
    tokio::fs::rename(&temporary, &out).await.map_err(write_error)?;
    Ok(out)
}

/// Removes a rejected-rows file written for an import that then failed.
pub(crate) async fn discard(file: Option<&Path>) {
    if let Some(file) = file {
        // Best effort: a leftover file is misleading but harmless.
        let _ = tokio::fs::remove_file(file).await;
    }
}

/// The file's bytes. Original `line` or `reason` columns (from importing a
/// rejected-rows file again) are replaced by the new ones.
fn render(table: &RawTable, rejected: &[Rejection]) -> std::io::Result<Vec<u8>> {
    let keep: Vec<usize> = (0..table.columns.len())
        .filter(|&i| !matches!(table.columns[i].as_str(), "line" | "reason"))
        .collect();
    let mut writer = csv::WriterBuilder::new().from_writer(b"\xef\xbb\xbf".to_vec());
    let mut header: Vec<&str> = keep.iter().map(|&i| table.headers[i].as_str()).collect();
    header.extend(["line", "reason"]);
    writer.write_record(&header).map_err(std::io::Error::other)?;
    for (index, errors) in rejected {
        let record = &table.records[*index];
        let mut fields: Vec<String> = keep
            .iter()
            .map(|&i| {
                record
                    .cells
                    .get(i)
                    .map(|c| spreadsheet_safe(&c.original()).into_owned())
                    .unwrap_or_default()
            })
            .collect();
        fields.push(record.line.to_string());
        fields.push(spreadsheet_safe(&reasons(errors)).into_owned());
        writer.write_record(&fields).map_err(std::io::Error::other)?;
    }
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// One row's problems in one cell: `phone: …; email: …`.
fn reasons(errors: &[RowError]) -> String {
    errors
        .iter()
        .map(|e| match &e.column {
            Some(column) => format!("{column}: {}", e.reason),
            None => e.reason.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::reader::parse_csv;

    #[test]
    fn rejected_file_sits_next_to_the_input() {
        assert_eq!(
            rejected_path(Path::new("/data/peserta juli.CSV")),
            Path::new("/data/peserta juli.rejected.csv")
        );
        assert_eq!(rejected_path(Path::new("p.json")), Path::new("p.rejected.csv"));
    }

    #[test]
    fn renders_original_columns_line_and_reasons() {
        let table = parse_csv(Path::new("p.csv"), "NIK,Name,line,reason\n1,\"A, B\",9,old\n2,C,,\n").unwrap();
        let rejected = vec![(
            0,
            vec![
                RowError::new(2, Some("nik"), "NIK must be 16 digits"),
                RowError::new(2, None, "bad row"),
            ],
        )];
        let bytes = render(&table, &rejected).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "\u{feff}NIK,Name,line,reason\n1,\"A, B\",2,nik: NIK must be 16 digits; bad row\n"
        );
    }
}
