//! Importing payments from CSV or JSON, unique by external reference.
//!
//! # Columns
//!
//! Header names match as for participants (any case, spaces around ignored).
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `external_ref` | yes | The paying system's unique reference; a payment is recorded once per reference. |
//! | `nik` | one of `nik`, `kpj` | The participant's NIK. |
//! | `kpj` | one of `nik`, `kpj` | The participant's KPJ; when both are given they must name the same participant. |
//! | `amount` | yes | Whole Rupiah, positive: `50400`, `50.400`, `Rp50.400`. |
//! | `months` | no | Months covered (1 to 12). Without it the amount must be a whole number of the participant's monthly contributions. |
//! | `paid_at` | yes | RFC 3339 (`2025-07-03T10:15:00+07:00`), or `YYYY-MM-DD HH:MM[:SS]` / `YYYY-MM-DD` read in WIB (Asia/Jakarta); not after the import's `now`. |
//! | `channel` | yes | Where the money came in: `jmo`, `gopay`, `dana`, `bank`, `kolektif`, … (letters, digits, `-`, `_`). |
//!
//! A reference already stored for the same participant and amount, or
//! repeated identically inside the file, is a duplicate: counted, not an
//! error, and changes nothing. A reference stored for another participant or
//! amount, or repeated in the file with different data, is an error.
//!
//! Payments are applied in order of `paid_at`: one paid earlier covers the
//! earlier months.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::columns::{Columns, RowReader};
use super::rejected::Rejection;
use super::table::RawTable;
use super::values::{parse_months, parse_paid_at};
use super::{ImportError, ImportOptions, RowError};
use crate::domain::money::format_rupiah;
use crate::domain::payment::months_covered;
use crate::domain::{ContributionMonth, ExternalRef, Kpj, NewPayment, Nik, Payer, PaymentChannel, Rupiah};
use crate::store::{
    Attribution, ImportTx, ParticipantRecord, PaymentBatch, PaymentOutcome, Store, StoreError, StoredPayment,
};

/// The columns a payments file may have.
pub(super) const COLUMNS: &[&str] = &["external_ref", "nik", "kpj", "amount", "months", "paid_at", "channel"];

/// The columns a payments file must have.
pub(super) const REQUIRED: &[&[&str]] = &[
    &["external_ref"],
    &["nik", "kpj"],
    &["amount"],
    &["paid_at"],
    &["channel"],
];

/// Applies the records of `table` (read from `source`, a file name or "the
/// request") as payments, each on its own: the good ones are recorded, the
/// others come back with their reasons. The payments API and the inbox use
/// it; `pengingat import payments` adds the whole-file policy on top.
pub(crate) async fn apply_payment_table(
    store: &dyn Store,
    source: &Path,
    table: &RawTable,
    options: &ImportOptions,
) -> Result<Vec<PaymentRowResult>, ImportError> {
    let Checked {
        rejected,
        good,
        payments,
        ..
    } = check_table(store, source, table, options).await?;
    let outcomes = store
        .record_payments(&payments, &batch(options, false), &crate::store::NoProgress)
        .await?;
    let mut results: Vec<PaymentRowResult> = vec![PaymentRowResult::Duplicate; table.records.len()];
    for (index, errors) in rejected {
        results[index as usize] = PaymentRowResult::Rejected(errors);
    }
    for ((index, _), outcome) in good.iter().zip(outcomes) {
        results[*index] = match outcome {
            PaymentOutcome::Recorded {
                first_month,
                last_month,
                attribution,
                cancelled_reminders,
                ..
            } => PaymentRowResult::Recorded {
                first_month,
                last_month,
                attribution,
                cancelled_reminders,
            },
            PaymentOutcome::Duplicate => PaymentRowResult::Duplicate,
            other => {
                let line = table.records[*index].line;
                let reason = other.reason().unwrap_or_default();
                let error = match other {
                    PaymentOutcome::Conflict { .. } => RowError::conflict(line, reason),
                    _ => RowError::new(line, None, reason),
                };
                PaymentRowResult::Rejected(vec![error])
            }
        };
    }
    Ok(results)
}

/// A payments table checked against the stored data, before recording.
struct Checked {
    /// Records refused, with their reasons.
    rejected: Vec<Rejection>,
    /// Records to record, by index, in payment order.
    good: Vec<(usize, NewPayment)>,
    /// The same payments alone.
    payments: Vec<NewPayment>,
}

/// Parses and checks every record of `table` (the payments API's request,
/// read from `source`); a file is checked in chunks by `payments_file`
/// with the same row checks.
async fn check_table(
    store: &dyn Store,
    source: &Path,
    table: &RawTable,
    options: &ImportOptions,
) -> Result<Checked, ImportError> {
    let (columns, _) = Columns::of_table(source, table, COLUMNS, REQUIRED)?;
    let mut rejected = Vec::new();
    let parsed = parse_rows(table, &columns, options.now, &mut rejected);
    let known = Known::load(store, &parsed).await?;
    let mut duplicates = Vec::new();
    let good = classify(&parsed, &known, &mut duplicates, &mut rejected);
    let (good, payments) = in_payment_order(good);
    Ok(Checked {
        rejected,
        good,
        payments,
    })
}

/// What became of one record of a payments table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentRowResult {
    /// Recorded now.
    Recorded {
        /// The first contribution month it covers.
        first_month: ContributionMonth,
        /// The participant is now paid through this month.
        last_month: ContributionMonth,
        /// The reminder it is credited to.
        attribution: Option<Attribution>,
        /// Pending reminders it cancelled (reason "paid").
        cancelled_reminders: u64,
    },
    /// Recorded before (same reference, participant and amount): nothing changed.
    Duplicate,
    /// Refused, with every reason; nothing changed for it.
    Rejected(Vec<RowError>),
}

/// How a call records its payments.
pub(super) fn batch(options: &ImportOptions, strict: bool) -> PaymentBatch {
    PaymentBatch {
        source: options.payment_source,
        now: options.now,
        strict,
        attribution_secs: options.attribution_secs,
    }
}

/// The rows sorted by payment date (one paid earlier covers the earlier
/// months), rows paid at the same instant keeping their order, and the
/// payments alone.
fn in_payment_order(mut good: Vec<(usize, NewPayment)>) -> (Vec<(usize, NewPayment)>, Vec<NewPayment>) {
    good.sort_by_key(|(index, p)| (p.paid_at, *index));
    let payments = good.iter().map(|(_, p)| p.clone()).collect();
    (good, payments)
}

/// Sorts the parsed rows into payments to record, duplicates (counted) and
/// rejections.
fn classify(
    parsed: &[ParsedRow],
    known: &Known,
    duplicates: &mut Vec<usize>,
    rejected: &mut Vec<Rejection>,
) -> Vec<(usize, NewPayment)> {
    let mut good = Vec::with_capacity(parsed.len());
    // Records (by index) that were rejected, so an identical repeat is
    // rejected too. Not by line: a JSON body may hold every record on one.
    let mut failed: HashSet<usize> = HashSet::new();
    for row in parsed {
        let checked = match row.repeat_of {
            Some((first, line)) if failed.contains(&first) => Err(vec![RowError::new(
                row.line,
                Some("external_ref"),
                format!("repeats line {line}, which was rejected"),
            )]),
            Some(_) => Ok(Check::Duplicate),
            None => known.check(row),
        };
        match checked {
            Ok(Check::New(payment)) => good.push((row.index, payment)),
            Ok(Check::Duplicate) => duplicates.push(row.index),
            Err(errors) => {
                failed.insert(row.index);
                rejected.push((row.index as u64, errors));
            }
        }
    }
    good
}

/// A row whose values all parsed.
#[derive(Debug, Clone)]
pub(super) struct ParsedRow {
    /// The record's index in the table (or its offset in a spill file).
    pub index: usize,
    /// The line it starts on.
    pub line: usize,
    pub external_ref: ExternalRef,
    pub nik: Option<Nik>,
    pub kpj: Option<Kpj>,
    pub amount: Rupiah,
    pub months: Option<u32>,
    pub paid_at: DateTime<Utc>,
    pub channel: PaymentChannel,
    /// The record index and line of an identical earlier row with the same reference.
    pub repeat_of: Option<(usize, usize)>,
}

impl ParsedRow {
    /// Whether `other` (with the same reference) is the same payment: then
    /// the repeat is a duplicate, otherwise an error.
    pub(super) fn same_payment(&self, other: &Self) -> bool {
        self.nik == other.nik
            && self.kpj == other.kpj
            && self.amount == other.amount
            && self.months == other.months
            && self.paid_at == other.paid_at
            && self.channel == other.channel
    }
}

/// Parses every row; rows with bad values go to `rejected`. A reference
/// repeated in the file with different data is an error on the later line.
fn parse_rows(
    table: &RawTable,
    columns: &Columns,
    now: DateTime<Utc>,
    rejected: &mut Vec<Rejection>,
) -> Vec<ParsedRow> {
    let mut rows: Vec<ParsedRow> = Vec::with_capacity(table.records.len());
    let mut first_by_ref: HashMap<String, usize> = HashMap::new();
    for (index, record) in table.records.iter().enumerate() {
        let mut row = match parse_row(index, RowReader::new(record, columns), now) {
            Ok(row) => row,
            Err(errors) => {
                rejected.push((index as u64, errors));
                continue;
            }
        };
        match first_by_ref.get(row.external_ref.as_str()) {
            Some(&first) if rows[first].same_payment(&row) => {
                row.repeat_of = Some((rows[first].index, rows[first].line))
            }
            Some(&first) => {
                let reason = format!(
                    "external reference already used on line {} for a different payment",
                    rows[first].line
                );
                rejected.push((index as u64, vec![RowError::conflict(row.line, reason)]));
                continue;
            }
            None => {
                first_by_ref.insert(row.external_ref.as_str().to_string(), rows.len());
            }
        }
        rows.push(row);
    }
    rows
}

/// Parses one row's values (no lookups); every problem is returned.
pub(super) fn parse_row(index: usize, mut row: RowReader<'_>, now: DateTime<Utc>) -> Result<ParsedRow, Vec<RowError>> {
    let external_ref = row.parse_required("external_ref", ExternalRef::parse);
    if row.is_blank("nik") && row.is_blank("kpj") {
        row.error(Some("nik"), "missing required value: give the participant's NIK or KPJ");
    }
    let nik = row.parse("nik", Nik::parse);
    let kpj = row.parse("kpj", Kpj::parse);
    let amount = row.parse_required("amount", Rupiah::parse);
    let months = row.parse("months", parse_months);
    let paid_at = row.parse_required("paid_at", parse_paid_at);
    if let Some(paid_at) = paid_at.filter(|t| *t > now) {
        row.error(
            Some("paid_at"),
            format!(
                "payment dated {} is in the future (now is {})",
                paid_at.to_rfc3339(),
                now.to_rfc3339()
            ),
        );
    }
    let channel = row.parse_required("channel", PaymentChannel::parse);
    let line = row.line();
    let errors = row.into_errors();
    let (true, Some(external_ref), Some(amount), Some(paid_at), Some(channel)) =
        (errors.is_empty(), external_ref, amount, paid_at, channel)
    else {
        return Err(if errors.is_empty() {
            vec![RowError::new(line, None, "the row could not be read")]
        } else {
            errors
        });
    };
    Ok(ParsedRow {
        index,
        line,
        external_ref,
        nik,
        kpj,
        amount,
        months,
        paid_at,
        channel,
        repeat_of: None,
    })
}

/// What a checked row does.
pub(super) enum Check {
    /// A payment to record.
    New(NewPayment),
    /// Already recorded, or repeated identically in the file.
    Duplicate,
}

/// What `lookup` finds for `keys`; without keys the store is not asked (the
/// lookup does its work only when awaited).
async fn unless_empty<K, T>(
    keys: &[K],
    lookup: impl Future<Output = Result<Vec<T>, StoreError>>,
) -> Result<Vec<T>, ImportError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    Ok(lookup.await?)
}

/// The stored participants and payments the rows name, loaded in bulk.
pub(super) struct Known {
    by_nik: HashMap<String, ParticipantRecord>,
    /// KPJ → the participants with it (normally one).
    by_kpj: HashMap<String, Vec<ParticipantRecord>>,
    payments: HashMap<String, StoredPayment>,
}

impl Known {
    /// Loads what `rows` name through the store's pool.
    pub(super) async fn load(store: &dyn Store, rows: &[ParsedRow]) -> Result<Self, ImportError> {
        let (niks, kpjs, refs) = Self::keys(rows);
        let by_nik = unless_empty(&niks, store.participants_by_nik(&niks)).await?;
        let by_kpj = unless_empty(&kpjs, store.participants_by_kpj(&kpjs)).await?;
        let payments = unless_empty(&refs, store.payments_by_ref(&refs)).await?;
        Ok(Self::new(by_nik, by_kpj, payments))
    }

    /// [`load`](Self::load) inside an import's transaction.
    pub(super) async fn load_in(tx: &mut dyn ImportTx, rows: &[ParsedRow]) -> Result<Self, ImportError> {
        let (niks, kpjs, refs) = Self::keys(rows);
        let by_nik = unless_empty(&niks, tx.participants_by_nik(&niks)).await?;
        let by_kpj = unless_empty(&kpjs, tx.participants_by_kpj(&kpjs)).await?;
        let payments = unless_empty(&refs, tx.payments_by_ref(&refs)).await?;
        Ok(Self::new(by_nik, by_kpj, payments))
    }

    /// The NIKs, KPJs (of rows without a NIK) and references to look up.
    fn keys(rows: &[ParsedRow]) -> (Vec<Nik>, Vec<String>, Vec<ExternalRef>) {
        let mut niks: Vec<Nik> = rows.iter().filter_map(|r| r.nik.clone()).collect();
        niks.sort();
        niks.dedup();
        let mut kpjs: Vec<String> = rows
            .iter()
            .filter(|r| r.nik.is_none())
            .filter_map(|r| r.kpj.as_ref().map(|k| k.as_str().to_string()))
            .collect();
        kpjs.sort();
        kpjs.dedup();
        let refs: Vec<ExternalRef> = rows
            .iter()
            .filter(|r| r.repeat_of.is_none())
            .map(|r| r.external_ref.clone())
            .collect();
        (niks, kpjs, refs)
    }

    fn new(by_nik: Vec<ParticipantRecord>, by_kpj_rows: Vec<ParticipantRecord>, payments: Vec<StoredPayment>) -> Self {
        let mut by_kpj: HashMap<String, Vec<ParticipantRecord>> = HashMap::new();
        for p in by_kpj_rows {
            if let Some(kpj) = p.kpj.clone() {
                by_kpj.entry(kpj).or_default().push(p);
            }
        }
        Self {
            by_nik: by_nik.into_iter().map(|p| (p.nik.clone(), p)).collect(),
            by_kpj,
            payments: payments.into_iter().map(|p| (p.external_ref.clone(), p)).collect(),
        }
    }

    /// Checks a parsed row (not a repeat) against the stored data.
    pub(super) fn check(&self, row: &ParsedRow) -> Result<Check, Vec<RowError>> {
        let err = |column: &str, reason: String| vec![RowError::new(row.line, Some(column), reason)];
        let participant = self.participant(row)?;
        if let Some(stored) = self.payments.get(row.external_ref.as_str()) {
            if stored.participant_id == participant.id && stored.amount == row.amount.amount() {
                return Ok(Check::Duplicate);
            }
            let whose = if stored.participant_id == participant.id {
                "this"
            } else {
                "another"
            };
            let reason = format!(
                "external reference already recorded for {whose} participant with amount {}",
                format_rupiah(stored.amount)
            );
            return Err(vec![RowError::conflict(row.line, reason)]);
        }
        let monthly = Rupiah::new(participant.monthly_amount).map_err(|e| err("amount", e.to_string()))?;
        if let Err(e) = months_covered(row.amount, monthly, row.months) {
            let column = if row.months.is_some() { "months" } else { "amount" };
            return Err(err(column, e.to_string()));
        }
        // Name the payer by the stored NIK: it is unique, a KPJ need not be.
        let payer = match Nik::parse(&participant.nik) {
            Ok(nik) => Payer::Nik(nik),
            Err(_) => match &row.kpj {
                Some(kpj) => Payer::Kpj(kpj.clone()),
                None => return Err(err("nik", "the stored NIK of this participant is not valid".into())),
            },
        };
        Ok(Check::New(NewPayment {
            external_ref: row.external_ref.clone(),
            payer,
            amount: row.amount,
            months: row.months,
            paid_at: row.paid_at,
            channel: row.channel.clone(),
        }))
    }

    /// The participant the row names: by NIK when given (a KPJ given too
    /// must not contradict the stored one), else by KPJ.
    fn participant(&self, row: &ParsedRow) -> Result<&ParticipantRecord, Vec<RowError>> {
        let err = |column: &str, reason: &str| vec![RowError::new(row.line, Some(column), reason)];
        if let Some(nik) = &row.nik {
            let participant = self
                .by_nik
                .get(nik.as_str())
                .ok_or_else(|| err("nik", "no participant has this NIK"))?;
            if let (Some(kpj), Some(stored)) = (&row.kpj, &participant.kpj)
                && kpj.as_str() != stored
            {
                return Err(err(
                    "kpj",
                    "the KPJ is not the one stored for the participant with this NIK",
                ));
            }
            return Ok(participant);
        }
        let Some(kpj) = &row.kpj else {
            return Err(err("nik", "missing required value: give the participant's NIK or KPJ"));
        };
        match self.by_kpj.get(kpj.as_str()).map(Vec::as_slice) {
            Some([one]) => Ok(one),
            Some([_, _, ..]) => Err(err("kpj", "several participants have this KPJ; give the NIK")),
            _ => Err(err("kpj", "no participant has this KPJ")),
        }
    }
}
