//! The text checks of an import file, made while it streams through: UTF-8,
//! a leading BOM dropped, CRLF turned into LF, no NUL byte (raw, or escaped
//! as `\u0000` in JSON). The reader hands the parser the checked text piece
//! by piece, so a file of any size is checked in a fixed amount of memory.
//!
//! A file is refused for the first of these, in this order, wherever in the
//! file it is: a byte that is not UTF-8, a NUL byte, (the parser's own
//! structural checks), an escaped NUL in JSON. The reader records what it
//! finds in [`Findings`]; the caller reads them once the parser stops and
//! [`TextReader::drain`] has looked at the rest of the file.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::rc::Rc;

/// How many bytes are read from the file at a time.
const PIECE: usize = 64 * 1024;

/// A place in the checked text: line and character column, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

/// What the reader found, shared with the parser's side.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// The first byte that is not UTF-8: its line and byte offset in the file.
    pub not_utf8: Option<(usize, u64)>,
    /// The first NUL byte.
    pub nul: Option<Place>,
    /// The first `\u0000` escape (JSON only): the place of its backslash.
    pub escaped_nul: Option<Place>,
    /// The first character that is not white space, and its line.
    pub first_content: Option<(char, usize)>,
    /// Offsets in the checked text of the line breaks the parser has not
    /// been told about yet (CSV: to number lines); kept only when asked for.
    pub newlines: VecDeque<u64>,
    /// The lines JSON array elements start on, not yet taken (JSON only).
    pub record_lines: VecDeque<usize>,
}

/// Finds where each element of a JSON document's top-level array starts,
/// byte by byte (values carry no position once parsed).
#[derive(Debug, Default)]
struct RecordStarts {
    depth: usize,
    in_string: bool,
    escaped: bool,
    expecting: bool,
}

impl RecordStarts {
    /// Takes one byte on `line`; returns true when it starts an element.
    fn byte(&mut self, b: u8) -> bool {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return false;
        }
        if b.is_ascii_whitespace() {
            return false;
        }
        let starts = self.depth == 1 && self.expecting && b != b']';
        if starts {
            self.expecting = false;
        }
        match b {
            b'"' => self.in_string = true,
            b'[' | b'{' => {
                self.depth += 1;
                self.expecting = self.depth == 1;
            }
            b']' | b'}' => self.depth = self.depth.saturating_sub(1),
            b',' if self.depth == 1 => self.expecting = true,
            _ => {}
        }
        starts
    }
}

/// Looks for `\u0000` with an odd run of backslashes before the `u`.
#[derive(Debug, Default)]
struct EscapeScan {
    /// Backslashes just before the current byte.
    backslashes: usize,
    /// Zeros seen after a `\u`, with the backslash's place.
    candidate: Option<(usize, Place)>,
}

/// Checks and converts the text of `R` as it is read; see the module
/// documentation.
pub(crate) struct TextReader<R> {
    inner: R,
    findings: Rc<RefCell<Findings>>,
    /// Keep the offsets of line breaks (CSV).
    keep_newlines: bool,
    /// Find JSON element starts and escaped NULs.
    json: Option<(RecordStarts, EscapeScan)>,
    /// Bytes read but not yet checked (an incomplete UTF-8 sequence).
    carry: Vec<u8>,
    /// Checked text not yet handed out, and how much of it was.
    out: Vec<u8>,
    out_pos: usize,
    /// Bytes of the file checked so far.
    raw_done: u64,
    /// Bytes of checked text produced so far.
    text_done: u64,
    /// The line and character column of the next byte of text.
    line: usize,
    column: usize,
    /// A `\r` held back until the next byte shows whether a `\n` follows.
    pending_cr: bool,
    /// Whether the start of the file (a BOM) has been dealt with.
    started: bool,
    /// The file has ended.
    eof: bool,
    /// Nothing more is handed out (a NUL or a bad byte was found).
    halted: bool,
}

impl<R: Read> TextReader<R> {
    /// A reader of `inner`'s text; `keep_newlines` for CSV, `json` for JSON.
    pub fn new(inner: R, keep_newlines: bool, json: bool) -> Self {
        Self {
            inner,
            findings: Rc::new(RefCell::new(Findings::default())),
            keep_newlines,
            json: json.then(Default::default),
            carry: Vec::new(),
            out: Vec::with_capacity(PIECE + 8),
            out_pos: 0,
            raw_done: 0,
            text_done: 0,
            line: 1,
            column: 0,
            pending_cr: false,
            started: false,
            eof: false,
            halted: false,
        }
    }

    /// What was found, shared: the parser's side reads line breaks and
    /// record lines from it while parsing.
    pub fn findings(&self) -> Rc<RefCell<Findings>> {
        Rc::clone(&self.findings)
    }

    /// Reads (and checks) the rest of the file after the parser stopped, so
    /// a bad byte or NUL further on is still reported first.
    pub fn drain(&mut self) -> io::Result<()> {
        self.halted_drain()
    }

    fn halted_drain(&mut self) -> io::Result<()> {
        while !self.eof && self.findings.borrow().not_utf8.is_none() {
            self.out.clear();
            self.out_pos = 0;
            self.fill()?;
        }
        Ok(())
    }

    /// Reads one piece of the file and checks it into `out`.
    fn fill(&mut self) -> io::Result<()> {
        let mut bytes = std::mem::take(&mut self.carry);
        let start = bytes.len();
        bytes.resize(start + PIECE, 0);
        let n = loop {
            match self.inner.read(&mut bytes[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        bytes.truncate(start + n);
        if n == 0 {
            self.eof = true;
        }
        let mut from = 0;
        if !self.started {
            if bytes.len() < 3 && !self.eof {
                self.carry = bytes;
                return Ok(());
            }
            self.started = true;
            if bytes.starts_with(b"\xef\xbb\xbf") {
                from = 3;
                self.raw_done += 3;
            }
        }
        let piece = &bytes[from..];
        let (valid, rest) = match std::str::from_utf8(piece) {
            Ok(_) => (piece.len(), None),
            Err(e) => (e.valid_up_to(), Some(e.error_len().is_some() || self.eof)),
        };
        self.check(&bytes[from..from + valid]);
        self.raw_done += valid as u64;
        match rest {
            None => {}
            Some(true) => {
                let mut f = self.findings.borrow_mut();
                f.not_utf8.get_or_insert((self.line, self.raw_done));
                self.halted = true;
                self.eof = true;
            }
            Some(false) => self.carry = bytes[from + valid..].to_vec(),
        }
        if self.eof && self.pending_cr {
            self.pending_cr = false;
            self.emit(b'\r', None);
        }
        Ok(())
    }

    /// Checks valid UTF-8 `text`, appending what the parser gets to `out`.
    fn check(&mut self, text: &[u8]) {
        for (i, &b) in text.iter().enumerate() {
            if self.pending_cr {
                self.pending_cr = false;
                if b != b'\n' {
                    self.emit(b'\r', None);
                }
            }
            if b == b'\r' {
                self.pending_cr = true;
                continue;
            }
            let first = (b >= 0x80 && self.findings.borrow().first_content.is_none())
                .then(|| first_char(&text[i..]))
                .flatten()
                .and_then(|s| s.chars().next());
            self.emit(b, first);
        }
    }

    /// One byte of checked text. `decoded` is the character it starts, when
    /// it is the lead byte of a multi-byte one still needed.
    fn emit(&mut self, b: u8, decoded: Option<char>) {
        let place = Place {
            line: self.line,
            column: self.column + 1,
        };
        {
            let mut f = self.findings.borrow_mut();
            if b == 0 && f.nul.is_none() {
                f.nul = Some(place);
                self.halted = true;
            }
            if f.first_content.is_none() {
                let c = decoded.unwrap_or(b as char);
                if (b < 0x80 || decoded.is_some()) && !c.is_whitespace() {
                    f.first_content = Some((c, self.line));
                }
            }
            if let Some((starts, escapes)) = &mut self.json {
                if starts.byte(b) {
                    f.record_lines.push_back(self.line);
                }
                scan_escape(escapes, b, place, &mut f);
            }
            if b == b'\n' && self.keep_newlines && !self.halted {
                f.newlines.push_back(self.text_done);
            }
        }
        if b == b'\n' {
            self.line += 1;
            self.column = 0;
        } else if b & 0xC0 != 0x80 {
            self.column += 1;
        }
        if !self.halted {
            self.out.push(b);
            self.text_done += 1;
        }
    }
}

/// The first character of `bytes` (valid UTF-8 up to some point).
fn first_char(bytes: &[u8]) -> Option<&str> {
    let end = bytes.len().min(4);
    (1..=end).rev().find_map(|n| std::str::from_utf8(&bytes[..n]).ok())
}

/// Advances the `\u0000` search by one byte at `place`.
fn scan_escape(scan: &mut EscapeScan, b: u8, place: Place, findings: &mut Findings) {
    if let Some((zeros, at)) = scan.candidate.take()
        && b == b'0'
    {
        if zeros + 1 == 4 {
            findings.escaped_nul.get_or_insert(at);
        } else {
            scan.candidate = Some((zeros + 1, at));
        }
        scan.backslashes = 0;
        return;
    }
    if b == b'\\' {
        scan.backslashes += 1;
        return;
    }
    if b == b'u' && scan.backslashes % 2 == 1 {
        let at = Place {
            line: place.line,
            column: place.column - 1,
        };
        scan.candidate = Some((0, at));
    }
    scan.backslashes = 0;
}

impl<R: Read> Read for TextReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.out.len() {
            if self.halted || self.eof {
                return Ok(0);
            }
            self.out.clear();
            self.out_pos = 0;
            self.fill()?;
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `bytes` through a reader that hands out `step` bytes at a time.
    fn run(bytes: &[u8], step: usize, json: bool) -> (String, Rc<RefCell<Findings>>) {
        struct Slow<'a>(&'a [u8], usize);
        impl Read for Slow<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut reader = TextReader::new(Slow(bytes, step), true, json);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        reader.drain().unwrap();
        (String::from_utf8(out).unwrap(), reader.findings())
    }

    #[test]
    fn bom_and_crlf_in_pieces_of_any_size() {
        for step in [1, 2, 3, 5, 1000] {
            let (text, f) = run("\u{feff}a,b\r\n1,\"x\r\ny\"\r\n\r".as_bytes(), step, false);
            assert_eq!(text, "a,b\n1,\"x\ny\"\n\r", "step {step}");
            assert_eq!(Vec::from(f.borrow().newlines.clone()), [3, 8, 11]);
            assert_eq!(f.borrow().first_content, Some(('a', 1)));
        }
    }

    #[test]
    fn a_bad_byte_anywhere_is_found_with_its_offset() {
        for step in [1, 4, 1000] {
            let (_, f) = run(b"nik,name\n1,Jos\0e\n2,Jos\xe9\n", step, false);
            let f = f.borrow();
            assert_eq!(f.not_utf8, Some((3, 22)), "step {step}");
            assert_eq!(f.nul, Some(Place { line: 2, column: 6 }));
        }
        let (_, f) = run("é\u{3000}x".as_bytes()[..4].as_ref(), 1, false);
        assert_eq!(f.borrow().not_utf8, Some((1, 2)));
    }

    #[test]
    fn json_escapes_and_element_lines() {
        for step in [1, 7, 1000] {
            let (_, f) = run(b"[\n {\"a\": \"\\\\u0000\"},\n {\"n\": \"x\\u0000\"}]", step, true);
            let f = f.borrow();
            assert_eq!(f.escaped_nul, Some(Place { line: 3, column: 10 }), "step {step}");
            assert_eq!(Vec::from(f.record_lines.clone()), [2, 3]);
        }
        let (_, f) = run("\u{a0} \n {".as_bytes(), 1, true);
        assert_eq!(f.borrow().first_content, Some(('{', 2)));
    }
}
