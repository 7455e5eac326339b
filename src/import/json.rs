//! JSON import files: an array of objects whose keys are the column names.
//!
//! serde_json checks the syntax (and names the line of an error); a small
//! scanner finds the line each record starts on, since parsed values carry
//! no position. Keys keep their order, so the rejected-rows file lists
//! columns as the first record wrote them.
//!
//! A file is read as a stream ([`json_records`]): the array's elements are
//! deserialized one at a time (serde's `SeqAccess`), never the whole array.
//! A request body, already in memory, is parsed whole ([`parse_json`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::ImportError;
use super::table::{Cell, Header, RawRecord, RawTable, Sink, normalise_column, nul_refused};
use super::text::{Findings, TextReader};

/// One element of the top-level array.
enum JsonRecord {
    /// An object's entries, in the order written.
    Object(Vec<(String, Value)>),
    /// Anything else, by what it is ("a string", "an array").
    Other(&'static str),
}

impl<'de> Deserialize<'de> for JsonRecord {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = JsonRecord;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            entries.push((key, value));
        }
        Ok(JsonRecord::Object(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(JsonRecord::Other("an array"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(JsonRecord::Other("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(JsonRecord::Other("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(JsonRecord::Other("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(JsonRecord::Other("a number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(JsonRecord::Other("a string"))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(JsonRecord::Other("null"))
    }
}

/// Parses JSON text (already decoded) into a table.
pub(crate) fn parse_json(path: &Path, text: &str) -> Result<RawTable, ImportError> {
    let malformed = |line: usize, reason: String| ImportError::Malformed {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let Some(first) = text.trim_start().chars().next() else {
        return Err(malformed(
            1,
            "the file is empty; expected a JSON array of objects".into(),
        ));
    };
    if first != '[' {
        let line = text.len() - text.trim_start().len();
        let line = text[..line].matches('\n').count() + 1;
        return Err(malformed(
            line,
            "expected a JSON array of objects, like [{\"nik\": …}, …]".into(),
        ));
    }
    if let Some(at) = escaped_nul(text) {
        return Err(nul_refused(path, text, at));
    }
    let records: Vec<JsonRecord> =
        serde_json::from_str(text).map_err(|e| malformed(e.line().max(1), without_position(&e)))?;
    let lines = record_lines(text);
    Ok(build_table(records, &lines))
}

/// The columns met so far while streaming, in the order keys first appear.
#[derive(Default)]
struct Keys {
    header: Header,
    index: HashMap<String, usize>,
}

impl Keys {
    /// One element as a record: its keys added to the columns, its values
    /// placed under them (a record has a cell for every column known so far).
    fn record(&mut self, record: JsonRecord, number: usize, line: usize) -> RawRecord {
        if let JsonRecord::Object(entries) = &record {
            for (key, _) in entries {
                let column = normalise_column(key);
                if !self.index.contains_key(&column) {
                    self.index.insert(column.clone(), self.header.columns.len());
                    self.header.columns.push(column);
                    self.header.headers.push(key.clone());
                }
            }
        }
        let mut cells = vec![Cell::Text(String::new()); self.header.columns.len()];
        let defect = match record {
            JsonRecord::Other(found) => Some(format!("record {number} is {found}, not an object")),
            JsonRecord::Object(entries) => place(entries, &self.index, &mut cells),
        };
        RawRecord { line, cells, defect }
    }
}

/// Reads the array's elements one at a time, handing each to the sink.
struct Elements<'s, 'a> {
    keys: &'s mut Keys,
    findings: &'s RefCell<Findings>,
    sink: &'s mut Sink<'a>,
    /// A failure of the sink, kept to be reported as itself.
    failed: &'s mut Option<io::Error>,
}

impl<'de> Visitor<'de> for Elements<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut number = 0;
        while let Some(element) = seq.next_element::<JsonRecord>()? {
            number += 1;
            let line = self.findings.borrow_mut().record_lines.pop_front().unwrap_or(1);
            let record = self.keys.record(element, number, line);
            if let Err(e) = (self.sink)(record) {
                *self.failed = Some(e);
                return Err(de::Error::custom("cannot write the spill file"));
            }
        }
        Ok(())
    }
}

/// Reads a JSON file's array element by element (see the module
/// documentation), handing each record to `sink`; returns the columns.
pub(crate) fn json_records<R: Read>(
    path: &Path,
    text: &mut TextReader<R>,
    findings: &RefCell<Findings>,
    sink: &mut Sink<'_>,
) -> Result<Header, ImportError> {
    let mut keys = Keys::default();
    let mut failed = None;
    let mut de = serde_json::Deserializer::from_reader(text);
    let elements = Elements {
        keys: &mut keys,
        findings,
        sink,
        failed: &mut failed,
    };
    let parsed = de::Deserializer::deserialize_seq(&mut de, elements).and_then(|()| de.end());
    if let Some(source) = failed {
        return Err(ImportError::Read {
            path: path.to_path_buf(),
            source,
        });
    }
    parsed.map_err(|e| ImportError::Malformed {
        path: path.to_path_buf(),
        line: e.line().max(1),
        reason: without_position(&e),
    })?;
    Ok(keys.header)
}

/// The offset of the first `\u0000` escape (a NUL in a JSON string): a
/// backslash-u preceded by an even number of backslashes. A raw NUL byte is
/// a syntax error serde_json reports itself.
fn escaped_nul(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = text.get(from..)?.find("u0000") {
        let at = from + found;
        let backslashes = bytes[..at].iter().rev().take_while(|b| **b == b'\\').count();
        if backslashes % 2 == 1 {
            return Some(at - 1);
        }
        from = at + 1;
    }
    None
}

/// serde_json's message without its " at line L column C" suffix (the line
/// is reported separately), but with the column kept.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => format!("{} (column {})", &text[..at], e.column()),
        None => text,
    }
}

/// Columns in the order keys first appear; each record's values placed under them.
fn build_table(records: Vec<JsonRecord>, lines: &[usize]) -> RawTable {
    let mut headers: Vec<String> = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for record in &records {
        if let JsonRecord::Object(entries) = record {
            for (key, _) in entries {
                let column = normalise_column(key);
                if !index.contains_key(&column) {
                    index.insert(column.clone(), columns.len());
                    columns.push(column);
                    headers.push(key.clone());
                }
            }
        }
    }
    let mut out = Vec::with_capacity(records.len());
    for (i, record) in records.into_iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let mut cells = vec![Cell::Text(String::new()); columns.len()];
        let defect = match record {
            JsonRecord::Other(found) => Some(format!("record {} is {found}, not an object", i + 1)),
            JsonRecord::Object(entries) => place(entries, &index, &mut cells),
        };
        out.push(RawRecord { line, cells, defect });
    }
    RawTable {
        headers,
        columns,
        records: out,
    }
}

/// Puts an object's values into `cells`; a key given twice (perhaps in
/// different case) is a defect.
fn place(entries: Vec<(String, Value)>, index: &HashMap<String, usize>, cells: &mut [Cell]) -> Option<String> {
    let mut seen = vec![false; cells.len()];
    let mut defect = None;
    for (key, value) in entries {
        let Some(&i) = index.get(&normalise_column(&key)) else {
            continue;
        };
        if std::mem::replace(&mut seen[i], true) {
            defect = Some(format!("key {key:?} appears twice in the record"));
        }
        cells[i] = cell(value);
    }
    defect
}

/// A JSON value as a cell: strings and numbers as text, null as blank.
fn cell(value: Value) -> Cell {
    match value {
        Value::String(s) => Cell::Text(s),
        Value::Null => Cell::Text(String::new()),
        Value::Bool(b) => Cell::Bool(b),
        Value::Number(n) => Cell::Text(number_text(&n)),
        Value::Array(_) => Cell::Wrong {
            found: "an array",
            json: value.to_string(),
        },
        Value::Object(_) => Cell::Wrong {
            found: "an object",
            json: value.to_string(),
        },
    }
}

/// Integers as digits; a float with no fraction (`16800.0`) as an integer.
fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        _ => n.to_string(),
    }
}

/// The line each element of the top-level array starts on, for valid JSON.
fn record_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut line, mut depth) = (1usize, 0usize);
    let (mut in_string, mut escaped, mut expecting) = (false, false, false);
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if depth == 1 && expecting && b != b']' {
            lines.push(line);
            expecting = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                expecting = depth == 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RawTable, ImportError> {
        parse_json(Path::new("p.json"), text)
    }

    #[test]
    fn records_start_lines_are_found() {
        let text = "[\n  {\"a\": \"x,]}\\\"\",\n   \"b\": [1, {\"c\": 2}]},\n  {\"a\": 1},\n\n  \"odd\"\n]";
        assert_eq!(record_lines(text), [2, 4, 6]);
        assert_eq!(record_lines("[]"), Vec::<usize>::new());
        assert_eq!(record_lines("[{}, {}]"), [1, 1]);
    }

    #[test]
    fn values_become_cells_in_key_order() {
        let table =
            parse("[\n{\"NIK\": 1872011205900003, \"Name\": \"Siti\", \"ok\": true},\n{\"extra\": null, \"name\": {\"x\": 1}, \"amt\": 16800.0}\n]")
                .unwrap();
        assert_eq!(table.headers, ["NIK", "Name", "ok", "extra", "amt"]);
        assert_eq!(table.columns, ["nik", "name", "ok", "extra", "amt"]);
        let r0 = &table.records[0];
        assert_eq!((r0.line, &r0.cells[0]), (2, &Cell::Text("1872011205900003".into())));
        assert_eq!(r0.cells[2], Cell::Bool(true));
        let r1 = &table.records[1];
        assert_eq!(r1.line, 3);
        assert!(matches!(&r1.cells[1], Cell::Wrong { found: "an object", .. }));
        assert_eq!(r1.cells[4], Cell::Text("16800".into()));
        assert_eq!(r1.cells[0], Cell::Text(String::new()));
    }

    #[test]
    fn an_escaped_nul_is_refused_with_line_and_column() {
        let err = parse("[\n{\"name\": \"Siti\\u0000\"}\n]").unwrap_err();
        match err {
            ImportError::Malformed { line, reason, .. } => {
                assert_eq!(line, 2);
                assert!(reason.contains("column 15") && reason.contains("NUL"), "{reason}");
            }
            other => panic!("{other}"),
        }
        let literal = parse("[{\"name\": \"C:\\\\u0000\"}]").unwrap();
        assert_eq!(literal.records[0].cells[0], Cell::Text("C:\\u0000".into()));
    }

    #[test]
    fn non_objects_and_repeated_keys_are_defects() {
        let table = parse("[\"x\", {\"a\": 1, \"A\": 2}]").unwrap();
        assert!(table.records[0].defect.as_deref().unwrap().contains("a string"));
        assert!(table.records[1].defect.as_deref().unwrap().contains("twice"));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = parse("[\n{\"a\": 1},\n{\"a\": 2\n]").unwrap_err();
        match err {
            ImportError::Malformed { line, reason, .. } => {
                assert_eq!(line, 4);
                assert!(!reason.contains("at line"), "{reason}");
            }
            other => panic!("{other}"),
        }
        assert!(matches!(
            parse("{\"a\": 1}"),
            Err(ImportError::Malformed { line: 1, .. })
        ));
        assert!(matches!(parse("  "), Err(ImportError::Malformed { .. })));
    }
}
