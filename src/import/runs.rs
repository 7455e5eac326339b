//! Sorting more keys than memory should hold: an external merge sort of
//! fixed-size keys (`[u64; N]`, compared element by element).
//!
//! Keys are collected in memory up to a run's worth; a full run is sorted
//! and appended to one spill file on disk (beside the import file, unlinked
//! at once, see `spill`), and the runs are merged when the keys are read
//! back. Memory is one run plus a small read buffer per run, whatever the
//! number of keys: a 100 MB payments file (1.6 million rows) makes about
//! five runs of the default size.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use super::spill::{At, open_beside};

/// Bytes of a merge's read buffer for each run.
const RUN_BUFFER: usize = 16 * 1024;

/// How many chunks of rows (`[import]` `chunk_rows`) a run holds keys for:
/// at 16 bytes a key, the default run (320,000 keys, 5 MiB) takes about as
/// much memory as one chunk's rows held whole.
const CHUNKS_PER_RUN: usize = 64;

/// The keys a run holds for an import of `chunk_rows` rows a chunk.
pub(crate) fn run_keys(chunk_rows: usize) -> usize {
    chunk_rows.max(1).saturating_mul(CHUNKS_PER_RUN)
}

/// Keys to sort, kept in memory up to `run` of them, the rest in sorted
/// runs on disk.
pub(crate) struct ExternalSort<const N: usize> {
    /// Where the spill file goes (beside this file).
    beside: std::path::PathBuf,
    /// How many keys a run holds.
    run: usize,
    /// The keys of the run being collected.
    keys: Vec<[u64; N]>,
    /// The runs written so far, once one is.
    spilled: Option<Runs>,
}

/// Sorted runs written to a spill file.
struct Runs {
    file: BufWriter<File>,
    /// Each run's (start, keys).
    runs: Vec<(u64, usize)>,
    /// Where the next run starts.
    end: u64,
}

impl<const N: usize> ExternalSort<N> {
    /// An empty sort whose runs hold `run` keys (at least one), spilling
    /// beside `input`.
    pub fn new(input: &Path, run: usize) -> Self {
        Self {
            beside: input.to_path_buf(),
            run: run.max(1),
            keys: Vec::new(),
            spilled: None,
        }
    }

    /// Adds `key`; a full run goes to disk.
    pub fn push(&mut self, key: [u64; N]) -> io::Result<()> {
        if self.keys.len() >= self.run {
            self.spill()?;
        }
        if self.keys.capacity() == 0 {
            // Pages are only resident once written, so a small sort costs
            // little; a full run never grows past `run` keys.
            self.keys.reserve_exact(self.run);
        }
        self.keys.push(key);
        Ok(())
    }

    /// Sorts the run being collected and appends it to the spill file.
    fn spill(&mut self) -> io::Result<()> {
        self.keys.sort_unstable();
        if self.spilled.is_none() {
            let file = open_beside(&self.beside)?;
            self.spilled = Some(Runs {
                file: BufWriter::with_capacity(64 * 1024, file),
                runs: Vec::new(),
                end: 0,
            });
        }
        let Some(Runs { file, runs, end }) = self.spilled.as_mut() else {
            return Ok(());
        };
        for key in &self.keys {
            for word in key {
                file.write_all(&word.to_le_bytes())?;
            }
        }
        runs.push((*end, self.keys.len()));
        *end += (self.keys.len() * N * 8) as u64;
        self.keys.clear();
        Ok(())
    }

    /// Every key pushed, in ascending order.
    pub fn sorted(mut self) -> io::Result<Sorted<N>> {
        if self.spilled.is_none() {
            self.keys.sort_unstable();
            return Ok(Sorted::new(Source::Memory(std::mem::take(&mut self.keys).into_iter())));
        }
        if !self.keys.is_empty() {
            self.spill()?;
        }
        self.keys = Vec::new();
        let Some(Runs { file: writer, runs, .. }) = self.spilled.take() else {
            return Ok(Sorted::new(Source::Memory(Vec::new().into_iter())));
        };
        let file = writer.into_inner().map_err(io::IntoInnerError::into_error)?;
        Ok(Sorted::new(Source::Merge(Merge::new(file, runs)?)))
    }
}

/// The keys of an [`ExternalSort`] in ascending order.
pub(crate) struct Sorted<const N: usize> {
    source: Source<N>,
}

/// Where sorted keys come from.
enum Source<const N: usize> {
    /// All keys fitted in one run.
    Memory(std::vec::IntoIter<[u64; N]>),
    /// Runs on disk, merged.
    Merge(Merge<N>),
}

impl<const N: usize> Iterator for Sorted<N> {
    type Item = io::Result<[u64; N]>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Memory(keys) => keys.next().map(Ok),
            Source::Merge(merge) => merge.next(),
        }
    }
}

impl<const N: usize> Sorted<N> {
    fn new(source: Source<N>) -> Self {
        Self { source }
    }
}

/// Sorted runs in one file, merged through a heap of each run's next key.
pub(crate) struct Merge<const N: usize> {
    /// Each run's reader and how many keys it has left.
    runs: Vec<(BufReader<At<std::sync::Arc<File>>>, usize)>,
    /// The next key of each run that has one, with the run's index.
    heap: BinaryHeap<Reverse<([u64; N], usize)>>,
    /// A read failed: the merge ends after reporting it.
    failed: bool,
}

impl<const N: usize> Merge<N> {
    fn new(file: File, runs: Vec<(u64, usize)>) -> io::Result<Self> {
        let file = std::sync::Arc::new(file);
        let mut merge = Self {
            runs: runs
                .into_iter()
                .map(|(start, keys)| {
                    let at = At::new(std::sync::Arc::clone(&file), start);
                    (BufReader::with_capacity(RUN_BUFFER, at), keys)
                })
                .collect(),
            heap: BinaryHeap::new(),
            failed: false,
        };
        for run in 0..merge.runs.len() {
            merge.refill(run)?;
        }
        Ok(merge)
    }

    /// Reads run `run`'s next key into the heap, if it has one.
    fn refill(&mut self, run: usize) -> io::Result<()> {
        let (reader, left) = &mut self.runs[run];
        if *left == 0 {
            return Ok(());
        }
        *left -= 1;
        let mut key = [0u64; N];
        let mut word = [0u8; 8];
        for slot in &mut key {
            reader.read_exact(&mut word)?;
            *slot = u64::from_le_bytes(word);
        }
        self.heap.push(Reverse((key, run)));
        Ok(())
    }
}

impl<const N: usize> Iterator for Merge<N> {
    type Item = io::Result<[u64; N]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let Reverse((key, run)) = self.heap.pop()?;
        if let Err(e) = self.refill(run) {
            self.failed = true;
            return Some(Err(e));
        }
        Some(Ok(key))
    }
}

/// `value` as a key element that sorts in the same order.
pub(crate) fn signed_key(value: i64) -> u64 {
    (value as u64) ^ (1 << 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted<const N: usize>(run: usize, keys: &[[u64; N]]) -> Vec<[u64; N]> {
        let dir = tempfile::tempdir().unwrap();
        let mut sort = ExternalSort::new(&dir.path().join("p.csv"), run);
        for key in keys {
            sort.push(*key).unwrap();
        }
        let out: Vec<[u64; N]> = sort.sorted().unwrap().map(Result::unwrap).collect();
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the spill is unlinked"
        );
        out
    }

    #[test]
    fn keys_come_back_sorted_from_one_run_or_many() {
        // A scrambled sequence with repeats.
        let keys: Vec<[u64; 2]> = (0..1000u64).map(|i| [(i * 7919) % 97, i % 13]).collect();
        let mut expected = keys.clone();
        expected.sort_unstable();
        for run in [1, 2, 3, 64, 999, 1000, 5000] {
            assert_eq!(sorted(run, &keys), expected, "runs of {run}");
        }
        assert!(sorted::<3>(4, &[]).is_empty());
    }

    #[test]
    fn signed_keys_keep_their_order() {
        let values = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        let keys: Vec<u64> = values.iter().map(|v| signed_key(*v)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
}
