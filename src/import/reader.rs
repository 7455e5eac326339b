//! Reading an import file into raw records: the text checks (UTF-8, BOM,
//! line endings), the CSV structure and the header names. No value is
//! interpreted here; that is the job of the importer for each kind of row.

use std::path::Path;

use super::table::{Cell, RawRecord, RawTable, normalise_column, nul_refused};
use super::{ImportError, InputFormat};
use crate::report::table::spreadsheet_unescaped;

/// Reads `path` once and splits it into rows by `format` (or by its extension).
pub(crate) async fn load_table(
    path: &Path,
    format: Option<InputFormat>,
    max_bytes: Option<u64>,
) -> Result<RawTable, ImportError> {
    let format = format
        .or_else(|| InputFormat::from_path(path))
        .ok_or_else(|| ImportError::UnknownFormat {
            path: path.to_path_buf(),
        })?;
    let text = read_text(path, max_bytes).await?;
    match format {
        InputFormat::Csv => parse_csv(path, &text),
        InputFormat::Json => super::json::parse_json(path, &text),
    }
}

/// The file's text: UTF-8 checked, BOM removed, CRLF turned into LF (the
/// csv crate numbers lines one too low after a CRLF header). A file over
/// `max_bytes` is refused unread.
pub(crate) async fn read_text(path: &Path, max_bytes: Option<u64>) -> Result<String, ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    };
    if let Some(limit) = max_bytes {
        let bytes = tokio::fs::metadata(path).await.map_err(read_error)?.len();
        if bytes > limit {
            return Err(ImportError::TooLarge {
                path: path.to_path_buf(),
                bytes,
                limit,
            });
        }
    }
    let bytes = tokio::fs::read(path).await.map_err(read_error)?;
    decode(path, bytes)
}

fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, ImportError> {
    match String::from_utf8(bytes) {
        Ok(text) => {
            let text = match text.strip_prefix('\u{feff}') {
                Some(rest) => rest.to_string(),
                None => text,
            };
            let text = if text.contains("\r\n") {
                text.replace("\r\n", "\n")
            } else {
                text
            };
            match text.find('\0') {
                Some(at) => Err(nul_refused(path, &text, at)),
                None => Ok(text),
            }
        }
        Err(e) => {
            let byte = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..byte].iter().filter(|b| **b == b'\n').count() + 1;
            Err(ImportError::NotUtf8 {
                path: path.to_path_buf(),
                line,
                byte,
            })
        }
    }
}

/// Splits CSV text (already decoded) into a table. Quoted fields may hold
/// commas, quotes and line breaks; a `'` written before a formula character
/// (by the rejected-rows file or a report) is removed; rows whose cells are all blank (as
/// spreadsheets leave at the end) are skipped.
pub(crate) fn parse_csv(path: &Path, text: &str) -> Result<RawTable, ImportError> {
    let malformed = |line: usize, reason: String| ImportError::Malformed {
        path: path.to_path_buf(),
        line,
        reason,
    };
    if text.trim().is_empty() {
        return Err(malformed(
            1,
            "the file is empty; expected a header line naming the columns".into(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| malformed(1, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let columns: Vec<String> = headers.iter().map(|h| normalise_column(h)).collect();
    let mut records = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(text);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                return Err(malformed(line, e.to_string()));
            }
        }
        let line = lines.line_at(record.position().map_or(0, csv::Position::byte));
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
        records.push(RawRecord { line, cells, defect });
    }
    Ok(RawTable {
        headers,
        columns,
        records,
    })
}

/// Line numbers from byte offsets, counted forward once through the text.
/// The csv crate's own line numbers skip blank lines before a record, so
/// they drift from what an editor shows.
struct LineCounter<'a> {
    /// The whole text.
    text: &'a [u8],
    /// The offset counted up to.
    byte: usize,
    /// The line `byte` is on.
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            byte: 0,
            line: 1,
        }
    }

    /// The line of the first non-blank line at or after `byte`; offsets must
    /// not go backwards.
    fn line_at(&mut self, byte: u64) -> usize {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        while self.text.get(byte) == Some(&b'\n') {
            byte += 1;
        }
        if byte > self.byte {
            self.line += self.text[self.byte..byte].iter().filter(|b| **b == b'\n').count();
            self.byte = byte;
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
        let text = decode(Path::new("x.csv"), raw).unwrap();
        let table = parse_csv(Path::new("x.csv"), &text).unwrap();
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
        let err = decode(Path::new("d/p.csv"), b"nik,name\n1,Jos\xe9\n".to_vec()).unwrap_err();
        match err {
            ImportError::NotUtf8 { line, byte, .. } => assert_eq!((line, byte), (2, 14)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_nul_byte_is_refused_with_line_and_column() {
        let err = decode(Path::new("p.csv"), b"nik,name\n1,Jos\0e\n".to_vec()).unwrap_err();
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
