//! Importing participants from CSV or JSON, upserted by NIK.
//!
//! # Columns
//!
//! Header names match in any case, with surrounding spaces ignored; spaces or
//! dashes inside a name stand for `_` (`Paid Through` is `paid_through`). In
//! JSON the same names are the keys; values may be strings, or numbers where
//! a number makes sense (`nik`, `kpj`, `monthly_amount`), or `true`/`false`
//! for `opted_out`. A blank cell (or JSON `null`) of an optional column
//! means "not given". Columns not listed here are ignored, with a warning.
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `nik` | yes | 16-digit NIK; spaces allowed. Appears at most once per file. |
//! | `kpj` | no | BPJS membership number (KPJ), 8 to 13 digits. |
//! | `name` | yes | Full name (white space is tidied). |
//! | `phone` | no | Indonesian mobile: `08…`, `62…`, `+62…` or `0062…`, with spaces, dots or dashes; stored as `+62…`. |
//! | `email` | no | E-mail address. |
//! | `kelurahan` | yes | Kemendagri code, dotted (`18.72.01.1001`) or not (`1872011001`); must be in the kelurahan list already loaded. |
//! | `segment` | yes | `bpu` (self-employed, reminded) or `pu` (wage worker). |
//! | `funding` | no | Who pays: `self`/`mandiri` (default), `collective`/`kolektif`, `budget`/`apbd`. |
//! | `monthly_amount` | yes | The participant's monthly contribution in whole Rupiah, positive: `16800`, `16.800`, `Rp16.800`. |
//! | `paid_through` | no | The last month paid, `YYYY-MM`; at most `max_paid_ahead_months` (12) after the current month, not before `earliest_paid_through` (2015-07). |
//! | `start_month` | no | The first month owed (registration), `YYYY-MM`. |
//! | `preferred_channel` | no | `sms`, `email` or `both`. Default: `sms` when a phone is given, else `email` when an e-mail is given, else `sms`. |
//! | `opted_out` | no | The participant asked not to be reminded: `true/false`, `ya/tidak`, `yes/no`, `1/0`. Default false. |
//!
//! # Months
//!
//! "The current month" is the month of the import's `now` on the
//! kelurahan's clock (WIB, WITA or WIT). For a participant not yet stored:
//!
//! * neither month given: `start_month` is the current month and
//!   `paid_through` the month before (never paid);
//! * only `paid_through`: `start_month` is the month after it;
//! * only `start_month`: `paid_through` is the month before it;
//! * both: `paid_through` must be at least the month before `start_month`.
//!
//! For a participant already stored, a month the file leaves out keeps its
//! stored value, so re-importing a file months later does not wipe out the
//! arrears recorded since. The store never moves `paid_through` back: a
//! payment recorded after the file was made is a newer fact.

use std::collections::HashMap;
use std::path::Path;

use super::columns::{Columns, RowReader, stage_table};
use super::reader::{Staged, read_error};
use super::rejected::{Rejection, or_discard, report, settle};
use super::runs::{ExternalSort, run_keys};
use super::values::current_month;
use super::{ImportCounts, ImportError, ImportOptions, ImportReport, RowError};
use crate::domain::{
    ContributionMonth, EmailAddress, Funding, KelurahanCode, Kpj, NewParticipant, Nik, ParticipantName, PhoneNumber,
    PreferredChannel, RegionTimeZone, Rupiah, Segment,
};
use crate::store::{ImportTx, Participants, Progress, UpsertCounts};

/// The columns a participants file may have.
const COLUMNS: &[&str] = &[
    "nik",
    "kpj",
    "name",
    "phone",
    "email",
    "kelurahan",
    "segment",
    "funding",
    "monthly_amount",
    "paid_through",
    "start_month",
    "preferred_channel",
    "opted_out",
];

/// The columns a participants file must have.
const REQUIRED: &[&[&str]] = &[&["nik"], &["name"], &["kelurahan"], &["segment"], &["monthly_amount"]];

/// Imports the participants in `path` (see the module documentation for the
/// columns), upserting them by NIK in one transaction.
///
/// The file is read once into a spill file, then checked row by row (a
/// NIK repeated in the file is found by an external sort of 16 bytes per
/// row, the NIK and the record's offset, see `runs`), then written a chunk
/// of [`ImportOptions::chunk_rows`] rows at a time inside one transaction.
/// Memory does not grow with the file, except by the problems of the
/// rejected rows.
pub async fn import_participants(
    store: &dyn Participants,
    path: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let (staged, columns, warnings) = stage_table(path, options, COLUMNS, REQUIRED).await?;
    let zones: HashMap<String, RegionTimeZone> = store
        .list_kelurahan()
        .await?
        .into_iter()
        .map(|k| (k.code.as_str().to_string(), k.time_zone))
        .collect();
    let file = File {
        path,
        staged: &staged,
        columns: &columns,
        zones: &zones,
        options,
    };
    let mut rejected = file.check()?;
    let rejected_file = settle(path, &staged, &mut rejected, options.skip_invalid).await?;
    let mut skipped: Vec<u64> = rejected.iter().map(|(key, _)| *key).collect();
    skipped.sort_unstable();
    let counts = or_discard(file.write(store, &skipped, progress).await, rejected_file.as_deref()).await?;
    let rows = staged.spill.count();
    tracing::info!(
        file = %path.display(),
        rows,
        inserted = counts.inserted,
        updated = counts.updated,
        unchanged = counts.unchanged,
        rejected = rejected.len(),
        "participants imported"
    );
    let counts = ImportCounts::Participants(counts);
    Ok(report(rows, counts, &rejected, rejected_file, warnings))
}

/// A participants file read into a spill, with what its checks need.
struct File<'a> {
    path: &'a Path,
    staged: &'a Staged,
    columns: &'a Columns,
    /// Kelurahan code → time zone, for every stored kelurahan.
    zones: &'a HashMap<String, RegionTimeZone>,
    options: &'a ImportOptions,
}

impl File<'_> {
    /// Checks every row in file order; returns the rejected ones, by offset.
    fn check(&self) -> Result<Vec<Rejection>, ImportError> {
        let mut rejected: Vec<Rejection> = Vec::new();
        // (NIK as a number, record offset) of every row whose NIK parsed.
        let mut niks = ExternalSort::new(self.path, run_keys(self.options.chunk_rows));
        for item in self.staged.rows(self.path) {
            let (offset, record) = item?;
            let (nik, checked) = check_row(RowReader::new(&record, self.columns), self.zones, self.options);
            if let Some(nik) = nik {
                niks.push([nik_key(&nik), offset]).map_err(read_error(self.path))?;
            }
            if let Err(errors) = checked {
                rejected.push((offset, errors));
            }
        }
        self.repeated_niks(niks, &mut rejected)?;
        Ok(rejected)
    }

    /// A NIK may appear once per file: each later line is rejected, naming
    /// the first; the problem comes first among its row's.
    fn repeated_niks(&self, niks: ExternalSort<2>, rejected: &mut Vec<Rejection>) -> Result<(), ImportError> {
        let io = read_error(self.path);
        let mut added: Vec<Rejection> = Vec::new();
        // The NIK of the current run of keys, the offset of its first row,
        // and that row's line once a repeat needs it.
        let mut first: Option<(u64, u64, Option<usize>)> = None;
        for key in niks.sorted().map_err(&io)? {
            let [nik, offset] = key.map_err(&io)?;
            let (first_line, offset_of_first) = match &mut first {
                Some((current, at, line)) if *current == nik => (line, *at),
                _ => {
                    first = Some((nik, offset, None));
                    continue;
                }
            };
            let line_of_first = match *first_line {
                Some(line) => line,
                None => *first_line.insert(self.staged.record_at(self.path, offset_of_first)?.line),
            };
            let reason = format!("duplicate NIK: the same NIK is already on line {line_of_first}");
            match rejected.binary_search_by_key(&offset, |(key, _)| *key) {
                Ok(i) => {
                    let line = rejected[i].1[0].line;
                    rejected[i].1.insert(0, RowError::new(line, Some("nik"), reason));
                }
                Err(_) => {
                    let line = self.staged.record_at(self.path, offset)?.line;
                    added.push((offset, vec![RowError::new(line, Some("nik"), reason)]));
                }
            }
        }
        if !added.is_empty() {
            rejected.extend(added);
            rejected.sort_by_key(|(key, _)| *key);
        }
        Ok(())
    }

    /// Upserts the rows not `skipped` (sorted offsets), a chunk at a time,
    /// in one transaction.
    async fn write(
        &self,
        store: &dyn Participants,
        skipped: &[u64],
        progress: &dyn Progress,
    ) -> Result<UpsertCounts, ImportError> {
        let mut tx = store.begin_import().await?;
        let mut counts = UpsertCounts::default();
        let chunk_rows = self.options.chunk_rows.max(1);
        let mut chunk: Vec<GoodRow> = Vec::with_capacity(chunk_rows.min(65_536));
        for item in self.staged.rows(self.path) {
            let (offset, record) = item?;
            if skipped.binary_search(&offset).is_ok() {
                continue;
            }
            if let (_, Ok(row)) = check_row(RowReader::new(&record, self.columns), self.zones, self.options) {
                chunk.push(row);
            }
            if chunk.len() >= chunk_rows {
                counts += write_chunk(tx.as_mut(), std::mem::take(&mut chunk), self.options, progress).await?;
            }
        }
        if !chunk.is_empty() {
            counts += write_chunk(tx.as_mut(), chunk, self.options, progress).await?;
        }
        tx.commit().await?;
        Ok(counts)
    }
}

/// A NIK as a number to sort on (16 digits fit in 54 bits).
fn nik_key(nik: &Nik) -> u64 {
    nik.as_str().parse().unwrap_or_else(|_| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        nik.as_str().hash(&mut h);
        h.finish() | (1 << 63)
    })
}

/// Settles one chunk's months against what is stored and upserts it.
async fn write_chunk(
    tx: &mut dyn ImportTx,
    good: Vec<GoodRow>,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<UpsertCounts, ImportError> {
    let stored = stored_months(tx, &good).await?;
    let rows: Vec<NewParticipant> = good
        .into_iter()
        .map(|row| {
            let months = stored.get(row.participant.nik.as_str()).copied();
            row.resolve(months)
        })
        .collect();
    Ok(tx.upsert_participants(&rows, options.now, progress).await?)
}

/// The months a row gave, before defaults.
#[derive(Debug, Clone, Copy)]
struct GivenMonths {
    /// `start_month`, when given.
    start: Option<ContributionMonth>,
    /// `paid_through`, when given.
    paid_through: Option<ContributionMonth>,
    /// The current month on the kelurahan's clock.
    current: ContributionMonth,
}

/// A row that passed every check; its months are settled once the stored
/// participants are known.
struct GoodRow {
    /// The participant, with provisional months.
    participant: NewParticipant,
    /// What the file said about the months.
    given: GivenMonths,
}

impl GoodRow {
    /// The participant with its months settled against what is stored
    /// (`(start_month, paid_through)` of the same NIK, if any).
    fn resolve(mut self, stored: Option<(ContributionMonth, ContributionMonth)>) -> NewParticipant {
        let (start, paid_through) = resolve_months(self.given, stored);
        self.participant.start_month = start;
        self.participant.paid_through = paid_through;
        self.participant
    }
}

/// See "Months" in the module documentation.
fn resolve_months(
    given: GivenMonths,
    stored: Option<(ContributionMonth, ContributionMonth)>,
) -> (ContributionMonth, ContributionMonth) {
    match (given.start, given.paid_through, stored) {
        (Some(start), Some(paid), _) => (start, paid),
        (None, None, Some(stored)) => stored,
        (None, None, None) => (given.current, given.current.prev()),
        (None, Some(paid), Some((start, _))) => (start.min(paid.next()), paid),
        (None, Some(paid), None) => (paid.next(), paid),
        (Some(start), None, Some((_, paid))) => (start, paid.max(start.prev())),
        (Some(start), None, None) => (start, start.prev()),
    }
}

/// Checks one row, reporting every problem in it (a NIK repeated in the
/// file is found afterwards); returns its NIK too when that parsed.
fn check_row(
    mut row: RowReader<'_>,
    zones: &HashMap<String, RegionTimeZone>,
    options: &ImportOptions,
) -> (Option<Nik>, Result<GoodRow, Vec<RowError>>) {
    let nik = row.parse_required("nik", Nik::parse);
    let given_nik = nik.clone();
    let checked = check_values(&mut row, nik, zones, options);
    let line = row.line();
    let errors = row.into_errors();
    let (true, Some(row)) = (errors.is_empty(), checked) else {
        return (
            given_nik,
            Err(if errors.is_empty() {
                vec![RowError::new(line, None, "the row could not be read")]
            } else {
                errors
            }),
        );
    };
    (given_nik, Ok(row))
}

/// The values of a row after its NIK, every one read (so every problem is
/// recorded); `None` when a required one is missing.
fn check_values(
    row: &mut RowReader<'_>,
    nik: Option<Nik>,
    zones: &HashMap<String, RegionTimeZone>,
    options: &ImportOptions,
) -> Option<GoodRow> {
    let kpj = row.parse("kpj", Kpj::parse);
    let name = row.parse_required("name", ParticipantName::parse);
    let phone = row.parse("phone", PhoneNumber::parse);
    let email = row.parse("email", EmailAddress::parse);
    let kelurahan = row.parse_required("kelurahan", KelurahanCode::parse);
    let zone = kelurahan.as_ref().and_then(|code| {
        let zone = zones.get(code.as_str()).copied();
        if zone.is_none() {
            row.error(
                Some("kelurahan"),
                format!("kelurahan {code} is not in the kelurahan list; load the Kemendagri list first"),
            );
        }
        zone
    });
    let segment = row.parse_required("segment", str::parse::<Segment>);
    let funding = row.parse("funding", str::parse::<Funding>).unwrap_or(Funding::SelfPaid);
    let monthly_amount = row.parse_required("monthly_amount", Rupiah::parse);
    let given = check_months(row, options, zone.unwrap_or(RegionTimeZone::Wib));
    let default_channel = match (&phone, &email) {
        (None, Some(_)) => PreferredChannel::Email,
        _ => PreferredChannel::Sms,
    };
    let preferred_channel = row
        .parse("preferred_channel", str::parse::<PreferredChannel>)
        .unwrap_or(default_channel);
    let opted_out = row.flag("opted_out").unwrap_or(false);
    let participant = NewParticipant {
        nik: nik?,
        kpj,
        name: name?,
        phone,
        email,
        kelurahan: kelurahan?,
        segment: segment?,
        funding,
        monthly_amount: monthly_amount?,
        start_month: given.current,
        paid_through: given.current.prev(),
        preferred_channel,
        opted_out,
    };
    Some(GoodRow { participant, given })
}

/// Reads `start_month` and `paid_through` and checks them against each other
/// and against how far ahead a participant may have paid.
fn check_months(row: &mut RowReader<'_>, options: &ImportOptions, zone: RegionTimeZone) -> GivenMonths {
    let current = current_month(options.now, zone);
    let paid_through = row.parse("paid_through", ContributionMonth::parse);
    let start = row.parse("start_month", ContributionMonth::parse);
    let ahead = options.max_paid_ahead_months;
    let limit = current.plus(i32::try_from(ahead).unwrap_or(i32::MAX / 2));
    if let Some(paid) = paid_through.filter(|p| *p > limit) {
        row.error(
            Some("paid_through"),
            format!("paid_through {paid} is more than {ahead} month(s) after the current month {current}"),
        );
    }
    let earliest = options.earliest_paid_through;
    if let Some(paid) = paid_through.filter(|p| *p < earliest) {
        row.error(
            Some("paid_through"),
            format!(
                "paid_through {paid} is before {earliest}, the earliest month accepted \
                 (standing.earliest_paid_through); check the column and the year"
            ),
        );
    }
    if let Some(start) = start.filter(|s| s.prev() > limit) {
        row.error(
            Some("start_month"),
            format!("start_month {start} is more than {ahead} month(s) after the current month {current}"),
        );
    }
    if let (Some(start), Some(paid)) = (start, paid_through)
        && paid < start.prev()
    {
        row.error(
            Some("paid_through"),
            format!(
                "paid_through {paid} is before start_month {start}; it must be {} (never paid) or later",
                start.prev()
            ),
        );
    }
    GivenMonths {
        start,
        paid_through,
        current,
    }
}

/// `(start_month, paid_through)` of the stored participants whose rows leave
/// a month out, loaded in one query.
async fn stored_months(
    tx: &mut dyn ImportTx,
    rows: &[GoodRow],
) -> Result<HashMap<String, (ContributionMonth, ContributionMonth)>, ImportError> {
    let niks: Vec<Nik> = rows
        .iter()
        .filter(|r| r.given.start.is_none() || r.given.paid_through.is_none())
        .map(|r| r.participant.nik.clone())
        .collect();
    if niks.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(tx
        .participants_by_nik(&niks)
        .await?
        .into_iter()
        .map(|p| {
            let months = (ContributionMonth::from_index(p.start_month), p.paid_through_month());
            (p.nik, months)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> ContributionMonth {
        ContributionMonth::parse(s).unwrap()
    }

    fn given(start: Option<&str>, paid: Option<&str>) -> GivenMonths {
        GivenMonths {
            start: start.map(m),
            paid_through: paid.map(m),
            current: m("2025-07"),
        }
    }

    #[test]
    fn months_default_for_a_new_participant() {
        assert_eq!(resolve_months(given(None, None), None), (m("2025-07"), m("2025-06")));
        assert_eq!(
            resolve_months(given(None, Some("2025-03")), None),
            (m("2025-04"), m("2025-03"))
        );
        assert_eq!(
            resolve_months(given(Some("2024-01"), None), None),
            (m("2024-01"), m("2023-12"))
        );
        assert_eq!(
            resolve_months(given(Some("2024-01"), Some("2025-09")), None),
            (m("2024-01"), m("2025-09"))
        );
    }

    #[test]
    fn months_left_out_keep_what_is_stored() {
        let stored = Some((m("2024-01"), m("2025-02")));
        assert_eq!(resolve_months(given(None, None), stored), (m("2024-01"), m("2025-02")));
        assert_eq!(
            resolve_months(given(None, Some("2025-05")), stored),
            (m("2024-01"), m("2025-05"))
        );
        // A paid-through before the stored start moves the start back with it.
        assert_eq!(
            resolve_months(given(None, Some("2023-06")), stored),
            (m("2023-07"), m("2023-06"))
        );
        assert_eq!(
            resolve_months(given(Some("2024-03"), None), stored),
            (m("2024-03"), m("2025-02"))
        );
        assert_eq!(
            resolve_months(given(Some("2025-06"), None), stored),
            (m("2025-06"), m("2025-05"))
        );
    }
}
