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

use super::columns::{Columns, RowReader};
use super::reader::load_table;
use super::rejected::{Rejection, discard, flatten, settle};
use super::table::RawTable;
use super::values::current_month;
use super::{ImportCounts, ImportError, ImportOptions, ImportReport, RowError};
use crate::domain::{
    ContributionMonth, EmailAddress, Funding, KelurahanCode, Kpj, NewParticipant, Nik, ParticipantName, PhoneNumber,
    PreferredChannel, RegionTimeZone, Rupiah, Segment,
};
use crate::store::{Participants, Progress, UpsertCounts};

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
pub async fn import_participants(
    store: &dyn Participants,
    path: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let table = load_table(path, options.format, options.max_file_bytes).await?;
    let (columns, warnings) = Columns::resolve(path, &table, COLUMNS, REQUIRED)?;
    let zones: HashMap<String, RegionTimeZone> = store
        .list_kelurahan()
        .await?
        .into_iter()
        .map(|k| (k.code.as_str().to_string(), k.time_zone))
        .collect();
    let checked = check_rows(&table, &columns, &zones, options);
    let mut rejected = checked.rejected;
    let rejected_file = settle(path, &table, &mut rejected, options.skip_invalid).await?;
    let written = write(store, checked.good, options, progress).await;
    let counts = match written {
        Ok(counts) => counts,
        Err(e) => {
            discard(rejected_file.as_deref()).await;
            return Err(e);
        }
    };
    tracing::info!(
        file = %path.display(),
        rows = table.records.len(),
        inserted = counts.inserted,
        updated = counts.updated,
        unchanged = counts.unchanged,
        rejected = rejected.len(),
        "participants imported"
    );
    Ok(ImportReport {
        rows: table.records.len(),
        counts: ImportCounts::Participants(counts),
        rejected: flatten(&rejected),
        rejected_file,
        warnings,
    })
}

/// Settles the good rows' months and upserts them.
async fn write(
    store: &dyn Participants,
    good: Vec<GoodRow>,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<UpsertCounts, ImportError> {
    let stored = stored_months(store, &good).await?;
    let rows: Vec<NewParticipant> = good
        .into_iter()
        .map(|row| {
            let months = stored.get(row.participant.nik.as_str()).copied();
            row.resolve(months)
        })
        .collect();
    Ok(store.upsert_participants(&rows, options.now, progress).await?)
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

/// The good rows and the rejected ones.
struct Checked {
    /// Rows that passed every check, in file order.
    good: Vec<GoodRow>,
    /// Rows that did not, with their problems.
    rejected: Vec<Rejection>,
}

/// What the row checks need besides the row.
struct Context<'a> {
    /// Kelurahan code → time zone, for every stored kelurahan.
    zones: &'a HashMap<String, RegionTimeZone>,
    /// The import's options.
    options: &'a ImportOptions,
    /// NIK → the line it first appeared on.
    seen: HashMap<String, usize>,
}

fn check_rows(
    table: &RawTable,
    columns: &Columns,
    zones: &HashMap<String, RegionTimeZone>,
    options: &ImportOptions,
) -> Checked {
    let mut ctx = Context {
        zones,
        options,
        seen: HashMap::with_capacity(table.records.len()),
    };
    let mut checked = Checked {
        good: Vec::with_capacity(table.records.len()),
        rejected: Vec::new(),
    };
    for (index, record) in table.records.iter().enumerate() {
        match check_row(RowReader::new(record, columns), &mut ctx) {
            Ok(row) => checked.good.push(row),
            Err(errors) => checked.rejected.push((index, errors)),
        }
    }
    checked
}

/// Checks one row, reporting every problem in it.
fn check_row(mut row: RowReader<'_>, ctx: &mut Context<'_>) -> Result<GoodRow, Vec<RowError>> {
    let nik = row.parse_required("nik", Nik::parse);
    if let Some(nik) = &nik {
        check_unique(&mut row, ctx, nik);
    }
    let kpj = row.parse("kpj", Kpj::parse);
    let name = row.parse_required("name", ParticipantName::parse);
    let phone = row.parse("phone", PhoneNumber::parse);
    let email = row.parse("email", EmailAddress::parse);
    let kelurahan = row.parse_required("kelurahan", KelurahanCode::parse);
    let zone = kelurahan.as_ref().and_then(|code| {
        let zone = ctx.zones.get(code.as_str()).copied();
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
    let given = check_months(&mut row, ctx, zone.unwrap_or(RegionTimeZone::Wib));
    let default_channel = match (&phone, &email) {
        (None, Some(_)) => PreferredChannel::Email,
        _ => PreferredChannel::Sms,
    };
    let preferred_channel = row
        .parse("preferred_channel", str::parse::<PreferredChannel>)
        .unwrap_or(default_channel);
    let opted_out = row.flag("opted_out").unwrap_or(false);

    let line = row.line();
    let errors = row.into_errors();
    let (true, Some(nik), Some(name), Some(kelurahan), Some(segment), Some(monthly_amount)) =
        (errors.is_empty(), nik, name, kelurahan, segment, monthly_amount)
    else {
        return Err(if errors.is_empty() {
            vec![RowError::new(line, None, "the row could not be read")]
        } else {
            errors
        });
    };
    let participant = NewParticipant {
        nik,
        kpj,
        name,
        phone,
        email,
        kelurahan,
        segment,
        funding,
        monthly_amount,
        start_month: given.current,
        paid_through: given.current.prev(),
        preferred_channel,
        opted_out,
    };
    Ok(GoodRow { participant, given })
}

/// A NIK may appear once per file: the later line is the one reported.
fn check_unique(row: &mut RowReader<'_>, ctx: &mut Context<'_>, nik: &Nik) {
    match ctx.seen.get(nik.as_str()) {
        Some(first) => row.error(
            Some("nik"),
            format!("duplicate NIK: the same NIK is already on line {first}"),
        ),
        None => {
            ctx.seen.insert(nik.as_str().to_string(), row.line());
        }
    }
}

/// Reads `start_month` and `paid_through` and checks them against each other
/// and against how far ahead a participant may have paid.
fn check_months(row: &mut RowReader<'_>, ctx: &Context<'_>, zone: RegionTimeZone) -> GivenMonths {
    let current = current_month(ctx.options.now, zone);
    let paid_through = row.parse("paid_through", ContributionMonth::parse);
    let start = row.parse("start_month", ContributionMonth::parse);
    let ahead = ctx.options.max_paid_ahead_months;
    let limit = current.plus(i32::try_from(ahead).unwrap_or(i32::MAX / 2));
    if let Some(paid) = paid_through.filter(|p| *p > limit) {
        row.error(
            Some("paid_through"),
            format!("paid_through {paid} is more than {ahead} month(s) after the current month {current}"),
        );
    }
    let earliest = ctx.options.earliest_paid_through;
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
    store: &dyn Participants,
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
    Ok(store
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
