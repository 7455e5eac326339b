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

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::reader::Staged;
use super::table::{Header, RawRecord};
use super::{ImportCounts, ImportError, ImportReport, RowError};
use crate::report::table::spreadsheet_safe;

/// A bad row: the key of its record (its index in a table, or its offset
/// in a spill file), and its problems (at least one; all on its line).
pub(crate) type Rejection = (u64, Vec<RowError>);

/// Sorts rejections by line; rows on the same line (a JSON file written on
/// one line) keep the order they were found in.
pub(crate) fn sort_by_line(rejected: &mut [Rejection]) {
    rejected.sort_by_key(|(_, errors)| errors.first().map_or(0, |e| e.line));
}

/// Applies the policy to the rejected rows of `staged` (read from `path`):
/// `Ok(None)` when there are none, [`ImportError::Invalid`] unless
/// `skip_invalid`, otherwise the path of the rejected-rows file just written.
pub(crate) async fn settle(
    path: &Path,
    staged: &Staged,
    rejected: &mut [Rejection],
    skip_invalid: bool,
) -> Result<Option<PathBuf>, ImportError> {
    if rejected.is_empty() {
        return Ok(None);
    }
    sort_by_line(rejected);
    if !skip_invalid {
        return Err(ImportError::Invalid {
            path: path.to_path_buf(),
            errors: flatten(rejected),
        });
    }
    write_rejected(path, staged, rejected).await.map(Some)
}

/// Every problem of every rejected row, in the order given.
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

/// Writes the rejected rows, read back from the spill one at a time
/// (through a temporary file, so a reader never sees half a file), and
/// returns the file's path.
pub(crate) async fn write_rejected(
    input: &Path,
    staged: &Staged,
    rejected: &[Rejection],
) -> Result<PathBuf, ImportError> {
    let out = rejected_path(input);
    let temporary = out.with_extension("csv.tmp");
    let write_error = |source| ImportError::WriteRejected {
        path: out.clone(),
        source,
    };
    let file = std::fs::File::create(&temporary).map_err(write_error)?;
    let mut failed_read = None;
    let written = render(&staged.header, rejected, io::BufWriter::new(file), |key| {
        staged.record_at(input, key).map_err(|e| {
            let text = e.to_string();
            failed_read = Some(e);
            io::Error::other(text)
        })
    });
    if let Some(e) = failed_read {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    written.map_err(write_error)?;
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

/// `result`, with the rejected-rows `file` deleted when it is an error: the
/// rows it lists belong to an import that did not happen.
pub(crate) async fn or_discard<T>(result: Result<T, ImportError>, file: Option<&Path>) -> Result<T, ImportError> {
    if result.is_err() {
        discard(file).await;
    }
    result
}

/// The report of an import that went through, `rejected` being the rows
/// left out and `rejected_file` where they were written.
pub(crate) fn report(
    rows: usize,
    counts: ImportCounts,
    rejected: &[Rejection],
    rejected_file: Option<PathBuf>,
    warnings: Vec<String>,
) -> ImportReport {
    ImportReport {
        rows,
        counts,
        rejected: flatten(rejected),
        rejected_file,
        warnings,
    }
}

/// Writes the file: a BOM, the header, one line per rejected row (fetched
/// by its key). Original `line` or `reason` columns (from importing a
/// rejected-rows file again) are replaced by the new ones.
fn render<W: Write>(
    header: &Header,
    rejected: &[Rejection],
    mut out: W,
    mut fetch: impl FnMut(u64) -> io::Result<RawRecord>,
) -> io::Result<()> {
    let keep: Vec<usize> = (0..header.columns.len())
        .filter(|&i| !matches!(header.columns[i].as_str(), "line" | "reason"))
        .collect();
    out.write_all(b"\xef\xbb\xbf")?;
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    let mut names: Vec<&str> = keep.iter().map(|&i| header.headers[i].as_str()).collect();
    names.extend(["line", "reason"]);
    writer.write_record(&names).map_err(io::Error::other)?;
    for (key, errors) in rejected {
        let record = fetch(*key)?;
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
        writer.write_record(&fields).map_err(io::Error::other)?;
    }
    writer
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?
        .flush()
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
        let header = Header {
            headers: table.headers.clone(),
            columns: table.columns.clone(),
        };
        let mut bytes = Vec::new();
        render(
            &header,
            &rejected,
            &mut bytes,
            |i| Ok(table.records[i as usize].clone()),
        )
        .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "\u{feff}NIK,Name,line,reason\n1,\"A, B\",2,nik: NIK must be 16 digits; bad row\n"
        );
    }
}
