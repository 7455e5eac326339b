//! `pengingat import payments` and the payments inbox: a payments file of
//! any size imported in bounded memory, under the policy of
//! [`crate::import`] and the rules of [`super::payments`].
//!
//! # How a file is read
//!
//! 1. The file is read once into a spill file on disk (see `spill`).
//! 2. Every row is parsed, in file order. For each that parses, a key of
//!    16 bytes goes to an external sort (see `runs`): a 64-bit hash of its
//!    external reference and its offset in the spill. Nothing else of a
//!    row stays in memory, and the keys go to disk a run at a time.
//! 3. The keys come back sorted by hash, bringing rows that may share a
//!    reference together; only those are read again and compared, to find
//!    a reference repeated in the file (a duplicate, or an error when the
//!    payment differs). A repeat is sorted again by its offset, with the
//!    offset of the row it repeats.
//! 4. The rows are read again in file order and checked against the store
//!    a chunk at a time. Each good row's (`paid_at`, offset) goes to a
//!    third external sort. With any problem and without `skip_invalid`,
//!    the import stops here, having written nothing, and lists every
//!    problem.
//! 5. The good rows are read back from the spill by offset in (`paid_at`,
//!    file order), a chunk at a time, and recorded in one transaction: an
//!    earlier payment covers the earlier months even when the file is not
//!    in date order.
//!
//! Memory therefore holds one sort run, one chunk of rows and the problems
//! of rejected rows, whatever the file's size. Ordering by a pass over the
//! spill, rather than staging the rows in a database table inside the
//! transaction, keeps the database's write lock for the writes alone (the
//! checks of step 4 run before it is taken) and needs no schema. Reading
//! the rows back out of order costs one positioned read each, mostly from
//! the page cache.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use super::columns::{Columns, RowReader, stage_table};
use super::payments::{COLUMNS, Check, Known, ParsedRow, REQUIRED, batch, parse_row};
use super::reader::{Staged, read_error};
use super::rejected::{Rejection, or_discard, report, settle, sort_by_line, write_rejected};
use super::runs::{ExternalSort, Sorted, run_keys, signed_key};
use super::table::RawRecord;
use super::{ImportCounts, ImportError, ImportOptions, ImportReport, PaymentCounts, RowError};
use crate::domain::NewPayment;
use crate::store::{ImportTx, PaymentOutcome, Progress, Store, StoreError};

/// Imports the payments in `path` (see [`super::payments`] for the columns
/// and this module for how). Each new payment advances its participant's
/// paid-through month; all are recorded in one transaction.
pub async fn import_payments(
    store: &dyn Store,
    path: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let (staged, columns, warnings) = stage_table(path, options, COLUMNS, REQUIRED).await?;
    let file = File {
        path,
        staged: &staged,
        columns: &columns,
        options,
    };
    let (by_ref, mut rejected) = file.parse()?;
    let repeats = file.repeats(by_ref, &mut rejected)?;
    let mut counts = PaymentCounts::default();
    let by_date = file.check(store, repeats, &mut rejected, &mut counts).await?;
    let rejected_file = settle(path, &staged, &mut rejected, options.skip_invalid).await?;
    let recorded = match by_date.sorted().map_err(read_error(path)) {
        Ok(by_date) => file.record(store, by_date, &mut counts, progress).await,
        Err(e) => Err(e),
    };
    let late = or_discard(recorded, rejected_file.as_deref()).await?;
    let (rejected_file, warnings) = if late.is_empty() {
        (rejected_file, warnings)
    } else {
        rejected.extend(late);
        sort_by_line(&mut rejected);
        rewrite_rejected(path, &staged, &rejected, rejected_file, warnings).await
    };
    let rows = staged.spill.count();
    tracing::info!(
        file = %path.display(),
        rows,
        recorded = counts.recorded,
        duplicates = counts.duplicates,
        rejected = rejected.len(),
        "payments imported"
    );
    let counts = ImportCounts::Payments(counts);
    Ok(report(rows, counts, &rejected, rejected_file, warnings))
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
        self.parse_again(offset, &record)
    }

    /// `record`, at `offset`, parsed again (it parsed the first time).
    fn parse_again(&self, offset: u64, record: &RawRecord) -> Result<ParsedRow, ImportError> {
        parse_row(offset as usize, RowReader::new(record, self.columns), self.options.now).map_err(|errors| {
            let reason = errors.first().map_or_else(String::new, ToString::to_string);
            read_error(self.path)(std::io::Error::other(format!("the spill file changed: {reason}")))
        })
    }

    /// The keys an external sort of this import holds in memory.
    fn run(&self) -> usize {
        run_keys(self.options.chunk_rows)
    }

    /// Step 2: every row parsed; the (reference hash, offset) keys of
    /// those that parsed, and the problems of those that did not, in file
    /// order.
    fn parse(&self) -> Result<(ExternalSort<2>, Vec<Rejection>), ImportError> {
        let mut by_ref = ExternalSort::new(self.path, self.run());
        let mut rejected = Vec::new();
        for item in self.staged.rows(self.path) {
            let (offset, record) = item?;
            match parse_row(offset as usize, RowReader::new(&record, self.columns), self.options.now) {
                Ok(row) => by_ref
                    .push([ref_hash(row.external_ref.as_str()), offset])
                    .map_err(read_error(self.path))?,
                Err(errors) => rejected.push((offset, errors)),
            }
        }
        Ok((by_ref, rejected))
    }

    /// Step 3: finds each row that repeats an identical earlier row with
    /// its reference (a duplicate), returning (row, earlier row) offsets
    /// sorted by row, and rejects a row that reuses an earlier row's
    /// reference for another payment. Leaves `rejected` in file order.
    fn repeats(&self, by_ref: ExternalSort<2>, rejected: &mut Vec<Rejection>) -> Result<Sorted<2>, ImportError> {
        let io = read_error(self.path);
        let mut repeats = ExternalSort::new(self.path, self.run());
        let mut conflicts = Vec::new();
        // The rows of the current hash, in file order: the first row of
        // each reference (read only once a second row shares the hash).
        let mut hash = None;
        let mut unread = None;
        let mut firsts: Vec<ParsedRow> = Vec::new();
        for key in by_ref.sorted().map_err(&io)? {
            let [key_hash, offset] = key.map_err(&io)?;
            if hash != Some(key_hash) {
                hash = Some(key_hash);
                unread = Some(offset);
                firsts.clear();
                continue;
            }
            if let Some(first) = unread.take() {
                firsts.push(self.row_at(first)?);
            }
            let row = self.row_at(offset)?;
            match firsts.iter().find(|f| f.external_ref == row.external_ref) {
                Some(first) if first.same_payment(&row) => repeats.push([offset, first.index as u64]).map_err(&io)?,
                Some(first) => {
                    let reason = format!(
                        "external reference already used on line {} for a different payment",
                        first.line
                    );
                    conflicts.push((offset, vec![RowError::conflict(row.line, reason)]));
                }
                None => firsts.push(row),
            }
        }
        if !conflicts.is_empty() {
            rejected.extend(conflicts);
            rejected.sort_by_key(|(offset, _)| *offset);
        }
        repeats.sorted().map_err(io)
    }

    /// Step 4: checks the rows that parsed and reuse no reference against
    /// the store a chunk at a time, in file order, counting duplicates and
    /// adding the problems to `rejected`; returns the (`paid_at`, offset)
    /// keys of the rows to record.
    async fn check(
        &self,
        store: &dyn Store,
        mut repeats: Sorted<2>,
        rejected: &mut Vec<Rejection>,
        counts: &mut PaymentCounts,
    ) -> Result<ExternalSort<2>, ImportError> {
        let io = read_error(self.path);
        let mut checked = Checked {
            path: self.path,
            by_date: ExternalSort::new(self.path, self.run()),
            found: Vec::new(),
            failed: HashMap::new(),
        };
        let chunk_rows = self.options.chunk_rows.max(1);
        let mut chunk: Vec<(ParsedRow, Option<u64>)> = Vec::with_capacity(chunk_rows.min(65_536));
        let mut next_repeat = repeats.next().transpose().map_err(&io)?;
        for item in self.staged.rows(self.path) {
            let (offset, record) = item?;
            if rejected.binary_search_by_key(&offset, |(key, _)| *key).is_ok() {
                continue;
            }
            let row = self.parse_again(offset, &record)?;
            let mut first = None;
            while let Some([at, of]) = next_repeat.filter(|[at, _]| *at <= offset) {
                first = (at == offset).then_some(of);
                next_repeat = repeats.next().transpose().map_err(&io)?;
            }
            chunk.push((row, first));
            if chunk.len() >= chunk_rows {
                checked.chunk(store, &chunk, counts).await?;
                chunk.clear();
            }
        }
        checked.chunk(store, &chunk, counts).await?;
        rejected.extend(checked.found);
        Ok(checked.by_date)
    }

    /// Step 5: records the rows of `by_date` (in `paid_at` order) a chunk
    /// at a time, in one transaction. Returns the rows the store refused
    /// after all (possible only when another writer changed the data since
    /// step 4).
    async fn record(
        &self,
        store: &dyn Store,
        mut by_date: Sorted<2>,
        counts: &mut PaymentCounts,
        progress: &dyn Progress,
    ) -> Result<Vec<Rejection>, ImportError> {
        let strict = !self.options.skip_invalid;
        let batch = batch(self.options, strict);
        let chunk_rows = self.options.chunk_rows.max(1);
        let mut tx = store.begin_import().await?;
        let mut late = Vec::new();
        loop {
            let mut rows = Vec::with_capacity(chunk_rows.min(65_536));
            for key in by_date.by_ref().take(chunk_rows) {
                let [_, offset] = key.map_err(read_error(self.path))?;
                rows.push(self.row_at(offset)?);
            }
            if rows.is_empty() {
                break;
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

/// What step 4 has found so far.
struct Checked<'a> {
    /// The file, for errors.
    path: &'a Path,
    /// The (`paid_at`, offset) keys of the rows to record.
    by_date: ExternalSort<2>,
    /// The rows the store's data refuses, in file order.
    found: Vec<Rejection>,
    /// Rejected rows that later rows may repeat: offset → line.
    failed: HashMap<u64, usize>,
}

impl Checked<'_> {
    /// Checks a chunk of rows, each with the offset of the earlier row it
    /// repeats, if any.
    async fn chunk(
        &mut self,
        store: &dyn Store,
        chunk: &[(ParsedRow, Option<u64>)],
        counts: &mut PaymentCounts,
    ) -> Result<(), ImportError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let firsts: Vec<ParsedRow> = chunk
            .iter()
            .filter(|(_, first)| first.is_none())
            .map(|(row, _)| row.clone())
            .collect();
        let known = Known::load(store, &firsts).await?;
        for (row, first) in chunk {
            let checked = match first {
                None => known.check(row),
                Some(first) => match self.failed.get(first) {
                    Some(line) => Err(vec![RowError::new(
                        row.line,
                        Some("external_ref"),
                        format!("repeats line {line}, which was rejected"),
                    )]),
                    None => Ok(Check::Duplicate),
                },
            };
            let offset = row.index as u64;
            match checked {
                Ok(Check::New(_)) => self
                    .by_date
                    .push([signed_key(nanos(row)), offset])
                    .map_err(read_error(self.path))?,
                Ok(Check::Duplicate) => counts.duplicates += 1,
                Err(errors) => {
                    self.failed.insert(offset, row.line);
                    self.found.push((offset, errors));
                }
            }
        }
        Ok(())
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

/// A fixed hash of an external reference (the same in every process);
/// rows that share one are compared in full.
fn ref_hash(reference: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    reference.hash(&mut hasher);
    hasher.finish()
}
