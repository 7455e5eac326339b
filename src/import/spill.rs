//! The rows of an import file, checked and split once, kept on disk rather
//! than in memory: later passes read them again in file order or, by
//! offset, in any order (payments in `paid_at` order, rejected rows for the
//! rejected-rows file).
//!
//! The spill file is made beside the input (on the same disk, and not in a
//! `tmpfs` `/tmp` whose pages would count against the service's memory
//! limit), or in the system's temporary folder when that folder is not
//! writable. Its name starts with `.` (the payments inbox skips such names)
//! and it is unlinked as soon as it is open, so nothing is left behind,
//! even by a crash.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::table::{Cell, RawRecord};

/// Tells spill files of one process apart.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes records to a new spill file.
pub(crate) struct SpillWriter {
    file: BufWriter<File>,
    offset: u64,
    count: usize,
    buffer: Vec<u8>,
}

impl SpillWriter {
    /// A new, already unlinked spill file beside `input` (or in the
    /// temporary folder).
    pub fn create(input: &Path) -> io::Result<Self> {
        let file = open_beside(input)?;
        Ok(Self {
            file: BufWriter::with_capacity(64 * 1024, file),
            offset: 0,
            count: 0,
            buffer: Vec::new(),
        })
    }

    /// Appends `record`; returns its offset.
    pub fn push(&mut self, record: &RawRecord) -> io::Result<u64> {
        self.buffer.clear();
        encode(record, &mut self.buffer);
        let len = u32::try_from(self.buffer.len()).map_err(|_| io::Error::other("a row over 4 GiB"))?;
        self.file.write_all(&len.to_le_bytes())?;
        self.file.write_all(&self.buffer)?;
        let at = self.offset;
        self.offset += 4 + u64::from(len);
        self.count += 1;
        Ok(at)
    }

    /// The records written, ready to be read.
    pub fn finish(self) -> io::Result<Spill> {
        let file = self.file.into_inner().map_err(io::IntoInnerError::into_error)?;
        Ok(Spill {
            file,
            len: self.offset,
            count: self.count,
        })
    }
}

/// A new, already unlinked file beside `input` (or in the temporary
/// folder when `input`'s folder is not writable).
pub(crate) fn open_beside(input: &Path) -> io::Result<File> {
    let dir = input
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    open_unlinked(dir).or_else(|_| open_unlinked(&std::env::temp_dir()))
}

fn open_unlinked(dir: &Path) -> io::Result<File> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!(".pengingat-import-{}-{n}.spill", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

/// The records of one import file, on disk.
#[derive(Debug)]
pub(crate) struct Spill {
    file: File,
    len: u64,
    count: usize,
}

impl Spill {
    /// How many records there are.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The record written at `offset`.
    pub fn read_at(&self, offset: u64) -> io::Result<RawRecord> {
        let mut len = [0u8; 4];
        self.file.read_exact_at(&mut len, offset)?;
        let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
        self.file.read_exact_at(&mut body, offset + 4)?;
        decode(&body)
    }

    /// Every record in file order, with its offset.
    pub fn records(&self) -> Records<'_> {
        Records {
            reader: BufReader::with_capacity(64 * 1024, At::new(&self.file, 0)),
            offset: 0,
            len: self.len,
            body: Vec::new(),
        }
    }
}

/// Reads a file from a position of its own (the file is shared).
pub(crate) struct At<F> {
    file: F,
    pos: u64,
}

impl<F> At<F> {
    /// Reads `file` from `pos` on.
    pub fn new(file: F, pos: u64) -> Self {
        Self { file, pos }
    }
}

impl<F: std::ops::Deref<Target = File>> Read for At<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The records of a spill in file order.
pub(crate) struct Records<'a> {
    reader: BufReader<At<&'a File>>,
    offset: u64,
    len: u64,
    body: Vec<u8>,
}

impl Iterator for Records<'_> {
    type Item = io::Result<(u64, RawRecord)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.offset >= self.len {
            return None;
        }
        let mut len = [0u8; 4];
        let read = self.reader.read_exact(&mut len).and_then(|()| {
            self.body.resize(u32::from_le_bytes(len) as usize, 0);
            self.reader.read_exact(&mut self.body)
        });
        if let Err(e) = read {
            self.offset = self.len;
            return Some(Err(e));
        }
        let at = self.offset;
        self.offset += 4 + self.body.len() as u64;
        Some(decode(&self.body).map(|r| (at, r)))
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn encode(record: &RawRecord, out: &mut Vec<u8>) {
    out.extend_from_slice(&(record.line as u64).to_le_bytes());
    match &record.defect {
        Some(d) => {
            out.push(1);
            put_str(out, d);
        }
        None => out.push(0),
    }
    out.extend_from_slice(&(record.cells.len() as u32).to_le_bytes());
    for cell in &record.cells {
        match cell {
            Cell::Text(s) => {
                out.push(0);
                put_str(out, s);
            }
            Cell::Bool(b) => out.push(if *b { 2 } else { 1 }),
            Cell::Wrong { found, json } => {
                out.push(if *found == "an array" { 3 } else { 4 });
                put_str(out, json);
            }
        }
    }
}

/// Reads what [`encode`] wrote.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "spill record cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> io::Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> io::Result<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

fn decode(body: &[u8]) -> io::Result<RawRecord> {
    let mut c = Cursor(body);
    let mut line = [0u8; 8];
    line.copy_from_slice(c.take(8)?);
    let line = usize::try_from(u64::from_le_bytes(line)).unwrap_or(usize::MAX);
    let defect = match c.take(1)?[0] {
        0 => None,
        _ => Some(c.string()?),
    };
    let n = c.u32()? as usize;
    let mut cells = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        cells.push(match c.take(1)?[0] {
            0 => Cell::Text(c.string()?),
            1 => Cell::Bool(false),
            2 => Cell::Bool(true),
            3 => Cell::Wrong {
                found: "an array",
                json: c.string()?,
            },
            _ => Cell::Wrong {
                found: "an object",
                json: c.string()?,
            },
        });
    }
    Ok(RawRecord { line, cells, defect })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_in_order_and_by_offset() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpillWriter::create(&dir.path().join("p.csv")).unwrap();
        let a = RawRecord {
            line: 2,
            cells: vec![Cell::Text("Siti, é".into()), Cell::Bool(true)],
            defect: None,
        };
        let b = RawRecord {
            line: 9,
            cells: vec![Cell::Wrong {
                found: "an object",
                json: "{}".into(),
            }],
            defect: Some("record 2 is a string, not an object".into()),
        };
        let at_a = writer.push(&a).unwrap();
        let at_b = writer.push(&b).unwrap();
        let spill = writer.finish().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "unlinked at once");
        assert_eq!(spill.count(), 2);
        assert_eq!(spill.read_at(at_b).unwrap(), b);
        let all: Vec<(u64, RawRecord)> = spill.records().map(Result::unwrap).collect();
        assert_eq!(all, [(at_a, a), (at_b, b)]);
    }
}
