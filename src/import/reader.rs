//! Reading an import file into raw records: the text checks (UTF-8, BOM,
//! line endings, NUL), the CSV structure and the header names. No value is
//! interpreted here; that is the job of the importer for each kind of row.
//!
//! A file is read once, as a stream: its records go one at a time to a
//! spill file on disk ([`stage`]), so reading takes the same small amount
//! of memory whatever the file's size.

use std::io::{self, Read};
use std::path::Path;

use super::spill::{Spill, SpillWriter};
use super::table::{Cell, Header, RawRecord, Sink, normalise_column, nul_at};
use super::text::{Findings, TextReader};
use super::{ImportError, InputFormat};
use crate::report::table::spreadsheet_unescaped;

/// A file read and split into records, kept on disk.
#[derive(Debug)]
pub(crate) struct Staged {
    /// The file's columns.
    pub header: Header,
    /// The records, blank ones left out.
    pub spill: Spill,
}

impl Staged {
    /// `record` with one cell per column (a JSON record read before a later
    /// one named a new key has fewer).
    pub fn padded(&self, mut record: RawRecord) -> RawRecord {
        record
            .cells
            .resize(self.header.columns.len(), Cell::Text(String::new()));
        record
    }

    /// Every record of `path` in file order, padded, with its offset in
    /// the spill.
    pub fn rows<'a>(&'a self, path: &'a Path) -> impl Iterator<Item = Result<(u64, RawRecord), ImportError>> + 'a {
        self.spill.records().map(move |item| {
            let (offset, record) = item.map_err(read_error(path))?;
            Ok((offset, self.padded(record)))
        })
    }

    /// The record at `offset` of the spill, padded.
    pub fn record_at(&self, path: &Path, offset: u64) -> Result<RawRecord, ImportError> {
        let record = self.spill.read_at(offset).map_err(read_error(path))?;
        Ok(self.padded(record))
    }
}

/// An I/O failure reading `path` (or its spill file).
pub(crate) fn read_error(path: &Path) -> impl Fn(io::Error) -> ImportError + '_ {
    move |source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// The format of `path`, from `format` or its extension.
fn resolve_format(path: &Path, format: Option<InputFormat>) -> Result<InputFormat, ImportError> {
    format
        .or_else(|| InputFormat::from_path(path))
        .ok_or_else(|| ImportError::UnknownFormat {
            path: path.to_path_buf(),
        })
}

/// Reads `path` once by `format` (or by its extension) into a spill file.
/// A file over `max_bytes` is refused unread.
pub(crate) async fn stage(
    path: &Path,
    format: Option<InputFormat>,
    max_bytes: Option<u64>,
) -> Result<Staged, ImportError> {
    let format = resolve_format(path, format)?;
    refuse_too_large(path, max_bytes).await?;
    let owned = path.to_path_buf();
    let task = tokio::task::spawn_blocking(move || {
        let path = owned.as_path();
        let file = std::fs::File::open(path).map_err(read_error(path))?;
        let mut spill = SpillWriter::create(path).map_err(read_error(path))?;
        let header = read_records(path, file, format, &mut |record| spill.push(&record).map(drop))?;
        let spill = spill.finish().map_err(read_error(path))?;
        Ok(Staged { header, spill })
    });
    task.await
        .map_err(|e| read_error(path)(io::Error::other(e.to_string())))?
}

/// The whole text of `path`, checked as [`read_records`] checks it (for the
/// kelurahan list, reference data of a few megabytes). A file over
/// `max_bytes` is refused unread.
pub(crate) async fn read_text(path: &Path, max_bytes: Option<u64>) -> Result<String, ImportError> {
    refuse_too_large(path, max_bytes).await?;
    let bytes = tokio::fs::read(path).await.map_err(read_error(path))?;
    let mut reader = TextReader::new(bytes.as_slice(), false, false);
    let mut text = Vec::with_capacity(bytes.len());
    reader.read_to_end(&mut text).map_err(read_error(path))?;
    reader.drain().map_err(read_error(path))?;
    if let Some(error) = text_error(path, &reader.findings().borrow()) {
        return Err(error);
    }
    String::from_utf8(text).map_err(|e| read_error(path)(io::Error::new(io::ErrorKind::InvalidData, e)))
}

/// Refuses `path` unread when it is larger than `max_bytes`.
async fn refuse_too_large(path: &Path, max_bytes: Option<u64>) -> Result<(), ImportError> {
    let Some(limit) = max_bytes else {
        return Ok(());
    };
    let bytes = tokio::fs::metadata(path).await.map_err(read_error(path))?.len();
    if bytes > limit {
        return Err(ImportError::TooLarge {
            path: path.to_path_buf(),
            bytes,
            limit,
        });
    }
    Ok(())
}

/// The first text problem the reader of `path` found: a byte that is not
/// UTF-8, else a NUL.
fn text_error(path: &Path, findings: &Findings) -> Option<ImportError> {
    if let Some((line, byte)) = findings.not_utf8 {
        return Some(ImportError::NotUtf8 {
            path: path.to_path_buf(),
            line,
            byte: usize::try_from(byte).unwrap_or(usize::MAX),
        });
    }
    findings.nul.map(|place| nul_at(path, place))
}

/// Reads a whole file held in memory into a table (tests).
#[cfg(test)]
pub(crate) fn read_table(
    path: &Path,
    bytes: &[u8],
    format: InputFormat,
) -> Result<super::table::RawTable, ImportError> {
    let mut records = Vec::new();
    let header = read_records(path, bytes, format, &mut |record| {
        records.push(record);
        Ok(())
    })?;
    for record in &mut records {
        record.cells.resize(header.columns.len(), Cell::Text(String::new()));
    }
    Ok(super::table::RawTable {
        headers: header.headers,
        columns: header.columns,
        records,
    })
}

/// Splits CSV text into a table (see [`read_records`]; tests).
#[cfg(test)]
pub(crate) fn parse_csv(path: &Path, text: &str) -> Result<super::table::RawTable, ImportError> {
    read_table(path, text.as_bytes(), InputFormat::Csv)
}

/// Reads `input` (the bytes of `path`) by `format`, handing each record to
/// `sink` in file order; returns the columns. The text checks come first:
/// a byte that is not UTF-8 or a NUL anywhere in the file is reported
/// before any structural problem.
pub(crate) fn read_records(
    path: &Path,
    input: impl Read,
    format: InputFormat,
    sink: &mut Sink<'_>,
) -> Result<Header, ImportError> {
    let json = format == InputFormat::Json;
    let mut text = TextReader::new(input, !json, json);
    let findings = text.findings();
    let result = match format {
        InputFormat::Csv => csv_records(path, &mut text, &findings, sink),
        InputFormat::Json => super::json::json_records(path, &mut text, &findings, sink),
    };
    if let Err(ImportError::Read { .. }) = &result {
        return result;
    }
    text.drain().map_err(read_error(path))?;
    let f = findings.borrow();
    if let Some(error) = text_error(path, &f) {
        return Err(error);
    }
    let malformed = |line: usize, reason: &str| ImportError::Malformed {
        path: path.to_path_buf(),
        line,
        reason: reason.into(),
    };
    match (format, f.first_content) {
        (InputFormat::Csv, None) => Err(malformed(
            1,
            "the file is empty; expected a header line naming the columns",
        )),
        (InputFormat::Json, None) => Err(malformed(1, "the file is empty; expected a JSON array of objects")),
        (InputFormat::Json, Some((first, line))) if first != '[' => Err(malformed(
            line,
            "expected a JSON array of objects, like [{\"nik\": …}, …]",
        )),
        (InputFormat::Json, _) => match f.escaped_nul {
            Some(place) => Err(nul_at(path, place)),
            None => result,
        },
        (InputFormat::Csv, _) => result,
    }
}

/// Splits CSV text into records. Quoted fields may hold commas, quotes and
/// line breaks; a `'` written before a formula character (by the
/// rejected-rows file or a report) is removed; rows whose cells are all
/// blank (as spreadsheets leave at the end) are skipped.
fn csv_records<R: Read>(
    path: &Path,
    text: &mut TextReader<R>,
    findings: &std::cell::RefCell<Findings>,
    sink: &mut Sink<'_>,
) -> Result<Header, ImportError> {
    let malformed = |line: usize, reason: String| ImportError::Malformed {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| malformed(1, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let columns: Vec<String> = headers.iter().map(|h| normalise_column(h)).collect();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::default();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(findings, p.byte()));
                return Err(malformed(line, e.to_string()));
            }
        }
        let line = lines.line_at(findings, record.position().map_or(0, csv::Position::byte));
        let mut cells: Vec<Cell> = record
            .iter()
            .map(|f| Cell::Text(spreadsheet_unescaped(f).to_string()))
            .collect();
        if cells.iter().all(Cell::is_blank) {
            continue;
        }
        let defect = (cells.len() != headers.len()).then(|| {
            format!(
                "the row has {} fields but the header has {} columns (check for an unquoted comma)",
                cells.len(),
                headers.len()
            )
        });
        cells.resize(headers.len(), Cell::Text(String::new()));
        sink(RawRecord { line, cells, defect }).map_err(read_error(path))?;
    }
    Ok(Header { headers, columns })
}

/// Line numbers from byte offsets of the checked text, counted forward from
/// the line breaks the text reader logged. The csv crate's own line numbers
/// skip blank lines before a record, so they drift from what an editor shows.
#[derive(Debug)]
struct LineCounter {
    /// The line the offsets counted so far end on.
    line: usize,
}

impl Default for LineCounter {
    fn default() -> Self {
        Self { line: 1 }
    }
}

impl LineCounter {
    /// The line of the first non-blank line at or after `byte`; offsets must
    /// not go backwards.
    fn line_at(&mut self, findings: &std::cell::RefCell<Findings>, byte: u64) -> usize {
        let mut f = findings.borrow_mut();
        while f.newlines.front().is_some_and(|nl| *nl < byte) {
            f.newlines.pop_front();
            self.line += 1;
        }
        let mut byte = byte;
        while f.newlines.front() == Some(&byte) {
            f.newlines.pop_front();
            self.line += 1;
            byte += 1;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(cells: &[Cell]) -> Vec<String> {
        cells.iter().map(|c| c.original().into_owned()).collect()
    }

    #[test]
    fn bom_crlf_and_quoted_commas() {
        let raw =
            "\u{feff} NIK ,Nama Lengkap,Paid-Through\r\n1,\"Siregar, Budi\",2025-06\r\n2,\"Ani \"\"Ucok\"\"\",\r\n"
                .as_bytes()
                .to_vec();
        let table = read_table(Path::new("x.csv"), &raw, InputFormat::Csv).unwrap();
        assert_eq!(table.headers[0], " NIK ");
        assert_eq!(table.columns, ["nik", "nama_lengkap", "paid_through"]);
        assert_eq!(table.records.len(), 2);
        assert_eq!(table.records[0].line, 2);
        assert_eq!(values(&table.records[0].cells), ["1", "Siregar, Budi", "2025-06"]);
        assert_eq!(table.records[1].line, 3);
        assert_eq!(values(&table.records[1].cells), ["2", "Ani \"Ucok\"", ""]);
    }

    #[test]
    fn line_numbers_follow_multi_line_fields_and_skip_blank_rows() {
        let t = "a,b\n1,\"two\nlines\"\n,\n\n3,4\n";
        let table = parse_csv(Path::new("x.csv"), t).unwrap();
        let lines: Vec<usize> = table.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 6]);
        let table = parse_csv(Path::new("x.csv"), "a,b\n\n\n3,4\n5,6\n").unwrap();
        let lines: Vec<usize> = table.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [4, 5]);
    }

    #[test]
    fn a_row_with_the_wrong_number_of_fields_is_a_defect() {
        let table = parse_csv(Path::new("x.csv"), "a,b\n1,2,3\n4\n").unwrap();
        assert!(table.records[0].defect.as_deref().unwrap().contains("3 fields"));
        assert_eq!(table.records[0].cells.len(), 2);
        assert!(table.records[1].defect.is_some());
    }

    #[test]
    fn empty_file_is_malformed() {
        let err = parse_csv(Path::new("x.csv"), " \n").unwrap_err();
        assert!(matches!(err, ImportError::Malformed { line: 1, .. }), "{err}");
    }

    #[test]
    fn latin1_is_refused_with_line_and_offset() {
        let err = read_table(Path::new("d/p.csv"), b"nik,name\n1,Jos\xe9\n", InputFormat::Csv).unwrap_err();
        match err {
            ImportError::NotUtf8 { line, byte, .. } => assert_eq!((line, byte), (2, 14)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_nul_byte_is_refused_with_line_and_column() {
        let err = read_table(Path::new("p.csv"), b"nik,name\n1,Jos\0e\n", InputFormat::Csv).unwrap_err();
        match &err {
            ImportError::Malformed { line, reason, .. } => {
                assert_eq!(*line, 2);
                assert!(reason.contains("column 6") && reason.contains("NUL"), "{reason}");
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn column_names_are_normalised() {
        assert_eq!(normalise_column("  Monthly  Amount "), "monthly_amount");
        assert_eq!(normalise_column("PAID_THROUGH"), "paid_through");
        assert_eq!(normalise_column("start - month"), "start_month");
        assert_eq!(normalise_column(""), "");
    }
}
