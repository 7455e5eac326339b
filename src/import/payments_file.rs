//! `pengingat import payments` and the payments inbox: a payments file of
//! any size imported in bounded memory, under the policy of
//! [`crate::import`] and the rules of [`super::payments`].
//!
//! # How a file is read
//!
//! 1. The file is read once into a spill file on disk (see `spill`).
//! 2. Every row is parsed, in file order. For each that parses, 16 bytes
//!    are kept: its `paid_at`, its offset in the spill (40 bits) and a
//!    24-bit hash of its external reference. Nothing else of a row stays in
//!    memory.
//! 3. Sorting those entries by hash brings rows that may share a reference
//!    together; only those are read again and compared, to find a
//!    reference repeated in the file (a duplicate, or an error when the
//!    payment differs). A repeat keeps 16 more bytes: the offset of the
//!    row it repeats.
//! 4. The rows are checked against the store a chunk at a time, in file
//!    order. With any problem and without `skip_invalid`, the import stops
//!    here, having written nothing, and lists every problem.
//! 5. The good entries are sorted by (`paid_at`, file order) and their rows
//!    read back from the spill by offset in that order, a chunk at a time,
//!    and recorded in one transaction: an earlier payment covers the
//!    earlier months even when the file is not in date order.
//!
//! Ordering by a second pass over the spill, rather than staging the rows
//! in a database table inside the transaction, keeps SQLite's write lock
//! for the writes alone (the checks of step 4 run before it is taken) and
//! needs no schema. Reading a 100 MB file's rows back out of order costs
//! one positioned read each, from the page cache.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use super::columns::{Columns, RowReader};
use super::payments::{COLUMNS, Check, Known, ParsedRow, REQUIRED, batch, parse_row};
use super::reader::{Staged, read_error, stage};
use super::rejected::{Rejection, discard, flatten, settle, sort_by_line, write_rejected};
use super::{ImportCounts, ImportError, ImportOptions, ImportReport, PaymentCounts, RowError};
use crate::domain::NewPayment;
use crate::store::{ImportTx, PaymentOutcome, Progress, Store, StoreError};

/// A row that parsed: 16 bytes, the only memory a row keeps between passes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// `paid_at` in nanoseconds since 1970, to sort on.
    paid_at: i64,
    /// The row's offset in the spill file (also its place in the file)
    /// above the low [`TAG_BITS`] bits, which hold first a hash of its
    /// external reference, then [`FIRST`], [`REPEAT`] or [`CONFLICT`], then
    /// [`GOOD`] or [`SKIP`].
    packed: u64,
}

/// Bits of [`Entry::packed`] that hold its tag.
const TAG_BITS: u32 = 24;
/// The mask of those bits.
const TAG: u64 = (1 << TAG_BITS) - 1;
/// The first row with its reference (to be checked against the store).
const FIRST: u64 = 0;
/// Repeats an identical earlier row (see `Repeats`).
const REPEAT: u64 = 1;
/// Uses the reference of an earlier row for another payment.
const CONFLICT: u64 = 2;
/// Checked: to be recorded.
const GOOD: u64 = 3;
/// Checked: a duplicate or rejected, not recorded.
const SKIP: u64 = 4;

impl Entry {
    fn new(paid_at: i64, offset: u64, tag: u64) -> Self {
        Self {
            paid_at,
            packed: (offset << TAG_BITS) | (tag & TAG),
        }
    }

    fn offset(self) -> u64 {
        self.packed >> TAG_BITS
    }

    fn tag(self) -> u64 {
        self.packed & TAG
    }

    fn set_tag(&mut self, tag: u64) {
        self.packed = (self.packed & !TAG) | tag;
    }
}

/// (row, the identical earlier row it repeats), by offset, sorted.
type Repeats = Vec<(u64, u64)>;

/// Imports the payments in `path` (see [`super::payments`] for the columns
/// and this module for how). Each new payment advances its participant's
/// paid-through month; all are recorded in one transaction.
pub async fn import_payments(
    store: &dyn Store,
    path: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let staged = stage(path, options.format, options.max_file_bytes).await?;
    let rows = staged.spill.count();
    let (columns, warnings) = Columns::resolve(path, &staged.header, rows > 0, COLUMNS, REQUIRED)?;
    let file = File {
        path,
        staged: &staged,
        columns: &columns,
        options,
    };
    let (mut entries, mut rejected) = file.parse()?;
    let repeats = file.repeats(&mut entries, &mut rejected)?;
    let mut counts = PaymentCounts::default();
    file.check(store, &mut entries, &repeats, &mut rejected, &mut counts)
        .await?;
    drop(repeats);
    let rejected_file = settle(path, &staged, &mut rejected, options.skip_invalid).await?;
    entries.retain(|e| e.tag() == GOOD);
    entries.sort_unstable_by_key(|e| (e.paid_at, e.offset()));
    let late = match file.record(store, &entries, &mut counts, progress).await {
        Ok(late) => late,
        Err(e) => {
            discard(rejected_file.as_deref()).await;
            return Err(e);
        }
    };
    drop(entries);
    let (rejected_file, warnings) = if late.is_empty() {
        (rejected_file, warnings)
    } else {
        rejected.extend(late);
        sort_by_line(&mut rejected);
        rewrite_rejected(path, &staged, &rejected, rejected_file, warnings).await
    };
    tracing::info!(
        file = %path.display(),
        rows,
        recorded = counts.recorded,
        duplicates = counts.duplicates,
        rejected = rejected.len(),
        "payments imported"
    );
    Ok(ImportReport {
        rows,
        counts: ImportCounts::Payments(counts),
        rejected: flatten(&rejected),
        rejected_file,
        warnings,
    })
}

/// Writes the rejected-rows file again after the store refused more rows;
/// the import itself has happened, so a failure is a warning.
async fn rewrite_rejected(
    path: &Path,
    staged: &Staged,
    rejected: &[Rejection],
    previous: Option<std::path::PathBuf>,
    mut warnings: Vec<String>,
) -> (Option<std::path::PathBuf>, Vec<String>) {
    match write_rejected(path, staged, rejected).await {
        Ok(file) => (Some(file), warnings),
        Err(e) => {
            warnings.push(e.to_string());
            (previous, warnings)
        }
    }
}

/// A payments file read into a spill, with what its checks need.
struct File<'a> {
    path: &'a Path,
    staged: &'a Staged,
    columns: &'a Columns,
    options: &'a ImportOptions,
}

impl File<'_> {
    /// The row at `offset`, parsed again (it parsed the first time).
    fn row_at(&self, offset: u64) -> Result<ParsedRow, ImportError> {
        let record = self.staged.record_at(self.path, offset)?;
        parse_row(offset as usize, RowReader::new(&record, self.columns), self.options.now).map_err(|errors| {
            let reason = errors.first().map_or_else(String::new, ToString::to_string);
            read_error(self.path)(std::io::Error::other(format!("the spill file changed: {reason}")))
        })
    }

    /// Step 2: every row parsed; the entries of those that parsed, and the
    /// problems of those that did not, both in file order.
    fn parse(&self) -> Result<(Vec<Entry>, Vec<Rejection>), ImportError> {
        let mut entries = Vec::new();
        let mut rejected = Vec::new();
        for item in self.staged.spill.records() {
            let (offset, record) = item.map_err(read_error(self.path))?;
            let record = self.staged.padded(record);
            if offset >> (64 - TAG_BITS) != 0 {
                let too_big = std::io::Error::other("the file has more than 1 TiB of rows");
                return Err(read_error(self.path)(too_big));
            }
            match parse_row(offset as usize, RowReader::new(&record, self.columns), self.options.now) {
                Ok(row) => entries.push(Entry::new(nanos(&row), offset, ref_hash(row.external_ref.as_str()))),
                Err(errors) => rejected.push((offset, errors)),
            }
        }
        Ok((entries, rejected))
    }

    /// Step 3: marks each row that repeats an identical earlier row with
    /// its reference (a duplicate), returning the links, and rejects a row
    /// that reuses an earlier row's reference for another payment. Leaves
    /// `entries` and `rejected` in file order.
    fn repeats(&self, entries: &mut Vec<Entry>, rejected: &mut Vec<Rejection>) -> Result<Repeats, ImportError> {
        entries.sort_unstable_by_key(|e| (e.tag(), e.offset()));
        let mut repeats = Vec::new();
        let mut conflicts = Vec::new();
        for run in entries.chunk_by_mut(|a, b| a.tag() == b.tag()) {
            if run.len() == 1 {
                run[0].set_tag(FIRST);
                continue;
            }
            // Rows sharing a hash, in file order: the first of each reference.
            let mut firsts: Vec<ParsedRow> = Vec::new();
            for entry in run.iter_mut() {
                let row = self.row_at(entry.offset())?;
                match firsts.iter().find(|f| f.external_ref == row.external_ref) {
                    Some(first) if first.same_payment(&row) => {
                        repeats.push((entry.offset(), first.index as u64));
                        entry.set_tag(REPEAT);
                    }
                    Some(first) => {
                        let reason = format!(
                            "external reference already used on line {} for a different payment",
                            first.line
                        );
                        conflicts.push((entry.offset(), vec![RowError::conflict(row.line, reason)]));
                        entry.set_tag(CONFLICT);
                    }
                    None => {
                        entry.set_tag(FIRST);
                        firsts.push(row);
                    }
                }
            }
        }
        entries.retain(|e| e.tag() != CONFLICT);
        entries.sort_unstable_by_key(|e| e.offset());
        repeats.sort_unstable();
        if !conflicts.is_empty() {
            rejected.extend(conflicts);
            rejected.sort_by_key(|(offset, _)| *offset);
        }
        Ok(repeats)
    }

    /// Step 4: checks the rows against the store a chunk at a time, in file
    /// order; marks each entry [`GOOD`] or [`SKIP`], counting duplicates.
    async fn check(
        &self,
        store: &dyn Store,
        entries: &mut [Entry],
        repeats: &Repeats,
        rejected: &mut Vec<Rejection>,
        counts: &mut PaymentCounts,
    ) -> Result<(), ImportError> {
        // Rejected rows that others may repeat: offset → line.
        let mut failed: HashMap<u64, usize> = HashMap::new();
        for chunk in entries.chunks_mut(self.options.chunk_rows.max(1)) {
            let mut rows = Vec::with_capacity(chunk.len());
            for entry in chunk.iter() {
                rows.push(self.row_at(entry.offset())?);
            }
            let firsts: Vec<ParsedRow> = rows
                .iter()
                .zip(chunk.iter())
                .filter(|(_, e)| e.tag() == FIRST)
                .map(|(r, _)| r.clone())
                .collect();
            let known = Known::load(store, &firsts).await?;
            for (entry, row) in chunk.iter_mut().zip(&rows) {
                let first = match entry.tag() {
                    REPEAT => repeats
                        .binary_search_by_key(&entry.offset(), |(row, _)| *row)
                        .ok()
                        .map(|i| repeats[i].1),
                    _ => None,
                };
                let checked = match first {
                    None => known.check(row),
                    Some(first) => match failed.get(&first) {
                        Some(line) => Err(vec![RowError::new(
                            row.line,
                            Some("external_ref"),
                            format!("repeats line {line}, which was rejected"),
                        )]),
                        None => Ok(Check::Duplicate),
                    },
                };
                entry.set_tag(match checked {
                    Ok(Check::New(_)) => GOOD,
                    Ok(Check::Duplicate) => {
                        counts.duplicates += 1;
                        SKIP
                    }
                    Err(errors) => {
                        failed.insert(entry.offset(), row.line);
                        rejected.push((entry.offset(), errors));
                        SKIP
                    }
                });
            }
        }
        Ok(())
    }

    /// Step 5: records the good rows in `paid_at` order, a chunk at a time,
    /// in one transaction. Returns the rows the store refused after all
    /// (possible only when another writer changed the data since step 4).
    async fn record(
        &self,
        store: &dyn Store,
        entries: &[Entry],
        counts: &mut PaymentCounts,
        progress: &dyn Progress,
    ) -> Result<Vec<Rejection>, ImportError> {
        let strict = !self.options.skip_invalid;
        let batch = batch(self.options, strict);
        let mut tx = store.begin_import().await?;
        let mut late = Vec::new();
        for chunk in entries.chunks(self.options.chunk_rows.max(1)) {
            let mut rows = Vec::with_capacity(chunk.len());
            for entry in chunk {
                rows.push(self.row_at(entry.offset())?);
            }
            let checked = self.recheck(tx.as_mut(), &rows, counts, &mut late).await?;
            if strict && !late.is_empty() {
                return Err(StoreError::PaymentsRejected(late.len()).into());
            }
            let (places, payments): (Vec<(u64, usize)>, Vec<NewPayment>) = checked.into_iter().unzip();
            let outcomes = tx.record_payments(&payments, &batch, progress).await?;
            tally(&places, &outcomes, counts, &mut late);
        }
        tx.commit().await?;
        Ok(late)
    }

    /// The chunk's rows checked again inside the transaction (the payer is
    /// named by the stored NIK), as the payments to record with the offset
    /// and line of their rows.
    async fn recheck(
        &self,
        tx: &mut dyn ImportTx,
        rows: &[ParsedRow],
        counts: &mut PaymentCounts,
        late: &mut Vec<Rejection>,
    ) -> Result<Vec<((u64, usize), NewPayment)>, ImportError> {
        let known = Known::load_in(tx, rows).await?;
        let mut payments = Vec::with_capacity(rows.len());
        for row in rows {
            match known.check(row) {
                Ok(Check::New(payment)) => payments.push(((row.index as u64, row.line), payment)),
                Ok(Check::Duplicate) => counts.duplicates += 1,
                Err(errors) => late.push((row.index as u64, errors)),
            }
        }
        Ok(payments)
    }
}

/// Counts the store's outcomes for a chunk's payments, whose rows are at
/// `places` (offset, line).
fn tally(places: &[(u64, usize)], outcomes: &[PaymentOutcome], counts: &mut PaymentCounts, late: &mut Vec<Rejection>) {
    for (&(offset, line), outcome) in places.iter().zip(outcomes) {
        match outcome {
            PaymentOutcome::Recorded {
                attribution,
                cancelled_reminders,
                ..
            } => {
                counts.recorded += 1;
                counts.credited += u64::from(attribution.is_some());
                counts.reminders_cancelled += cancelled_reminders;
            }
            PaymentOutcome::Duplicate => counts.duplicates += 1,
            other => {
                let reason = other.reason().unwrap_or_else(|| "refused by the database".into());
                late.push((offset, vec![RowError::new(line, None, reason)]));
            }
        }
    }
}

/// `paid_at` in nanoseconds (every date a payment can have fits).
fn nanos(row: &ParsedRow) -> i64 {
    row.paid_at.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// A fixed 24-bit hash of an external reference (the same in every
/// process); rows that share one are compared in full.
fn ref_hash(reference: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    reference.hash(&mut hasher);
    hasher.finish() & TAG
}
