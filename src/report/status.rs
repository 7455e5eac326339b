//! `pengingat status`: per kelurahan, the BPU participants, how many are
//! active and non-active, and how many are 1, 2 or 3+ months in arrears.
//!
//! Computed from a histogram of paid-through months per kelurahan (one
//! grouped query), so it costs the same for 7,000 or 10,000,000 participants.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::OutputFormat;
use super::table::{left_then_right, render, render_csv};
use crate::domain::calendar::local_midnight;
use crate::domain::{ArrearsBucket, ContributionMonth, DueDateRules, RegionTimeZone, StandingRules};
use crate::store::{Kelurahan, PaidThroughCount, Store, StoreError};

/// What standing is computed from: the kelurahan and today's paid-through
/// histogram, read once and shared by the report and the 12-month history.
#[derive(Debug, Clone)]
pub struct StandingData {
    /// Every kelurahan, for names and time zones.
    pub kelurahan: Vec<Kelurahan>,
    /// BPU participants per kelurahan and paid-through month, now.
    pub histogram: Vec<PaidThroughCount>,
}

impl StandingData {
    /// Reads both, for kelurahan under `filter` (all when `None`).
    pub async fn load(store: &dyn Store, filter: Option<&str>) -> Result<Self, StoreError> {
        Ok(Self {
            kelurahan: store.list_kelurahan().await?,
            histogram: store.paid_through_histogram(filter).await?,
        })
    }
}

/// The moment standing is computed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAt {
    /// One instant everywhere.
    Instant(DateTime<Utc>),
    /// The start of this date in each kelurahan's own time zone.
    Date(NaiveDate),
}

impl StatusAt {
    fn instant(self, tz: RegionTimeZone) -> DateTime<Utc> {
        match self {
            Self::Instant(i) => i,
            Self::Date(d) => local_midnight(d, tz.tz()),
        }
    }
}

/// The figures of one kelurahan (or the total).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    /// Kelurahan code; empty for the total.
    pub code: String,
    /// Kelurahan name, or "Total".
    pub name: String,
    /// BPU participants.
    pub bpu: i64,
    pub active: i64,
    pub nonactive: i64,
    /// Exactly one month in arrears.
    pub arrears_1: i64,
    /// Exactly two months in arrears.
    pub arrears_2: i64,
    /// Three or more months in arrears.
    pub arrears_3_plus: i64,
}

impl StatusRow {
    /// Counts `n` participants paid through month index `paid_through`,
    /// standing at `last_past_due`.
    pub(crate) fn count(
        &mut self,
        standing: &StandingRules,
        paid_through: i32,
        last_past_due: ContributionMonth,
        n: i64,
    ) {
        let s = standing.standing(ContributionMonth::from_index(paid_through), last_past_due);
        self.bpu += n;
        if s.active {
            self.active += n;
        } else {
            self.nonactive += n;
        }
        match ArrearsBucket::of(s.months_in_arrears) {
            ArrearsBucket::Current => {}
            ArrearsBucket::One => self.arrears_1 += n,
            ArrearsBucket::Two => self.arrears_2 += n,
            ArrearsBucket::ThreeOrMore => self.arrears_3_plus += n,
        }
    }

    /// Adds the counts of `other` to this row (code and name stay).
    pub(crate) fn add(&mut self, other: &StatusRow) {
        self.bpu += other.bpu;
        self.active += other.active;
        self.nonactive += other.nonactive;
        self.arrears_1 += other.arrears_1;
        self.arrears_2 += other.arrears_2;
        self.arrears_3_plus += other.arrears_3_plus;
    }
}

/// The whole status report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// The instant standing was computed at (for a date, its start in WIB).
    pub at: DateTime<Utc>,
    /// One row per kelurahan with BPU participants (or the one asked for).
    pub kelurahan: Vec<StatusRow>,
    pub total: StatusRow,
}

/// Computes the status of BPU participants in kelurahan under `filter` (a
/// code or code prefix; all when `None`).
pub async fn compute(
    store: &dyn Store,
    due: &DueDateRules,
    standing: &StandingRules,
    at: StatusAt,
    filter: Option<&str>,
) -> Result<StatusReport, StoreError> {
    let histogram = store.paid_through_histogram(filter).await?;
    let kelurahan = store.list_kelurahan().await?;
    Ok(tally(&kelurahan, &histogram, due, standing, at, filter))
}

/// The status of the kelurahan under `filter` from a paid-through histogram.
pub fn tally(
    kelurahan: &[Kelurahan],
    histogram: &[PaidThroughCount],
    due: &DueDateRules,
    standing: &StandingRules,
    at: StatusAt,
    filter: Option<&str>,
) -> StatusReport {
    // One answer per time zone, or per kelurahan where it has holidays of its own.
    let mut last_past_due: HashMap<(RegionTimeZone, Option<&str>), ContributionMonth> = HashMap::new();
    let mut rows: Vec<StatusRow> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for k in kelurahan {
        let wanted = match filter {
            Some(f) => k.code.has_prefix(f),
            None => true,
        };
        if wanted {
            index.insert(k.code.as_str(), rows.len());
            rows.push(StatusRow {
                code: k.code.to_string(),
                name: k.name.clone(),
                ..Default::default()
            });
        }
    }
    let zones: HashMap<&str, RegionTimeZone> = kelurahan.iter().map(|k| (k.code.as_str(), k.time_zone)).collect();
    for bucket in histogram {
        let Some(&i) = index.get(bucket.kelurahan_code.as_str()) else {
            continue;
        };
        let zone = zones
            .get(bucket.kelurahan_code.as_str())
            .copied()
            .unwrap_or(RegionTimeZone::Wib);
        let code = bucket.kelurahan_code.as_str();
        let own = due.kelurahan_holidays.contains_key(code).then_some(code);
        let last = *last_past_due
            .entry((zone, own))
            .or_insert_with(|| due.for_kelurahan(code).last_month_past_due(at.instant(zone), zone.tz()));
        rows[i].count(standing, bucket.paid_through, last, bucket.participants);
    }
    // A broad listing shows only kelurahan with participants; one asked for
    // by its full code is shown even when empty.
    let exact = filter.is_some_and(|f| rows.len() == 1 && f.chars().filter(char::is_ascii_digit).count() == 10);
    rows.retain(|r| r.bpu > 0 || exact);
    let mut total = StatusRow {
        name: "Total".to_string(),
        ..Default::default()
    };
    rows.iter().for_each(|r| total.add(r));
    StatusReport {
        at: at.instant(RegionTimeZone::Wib),
        kelurahan: rows,
        total,
    }
}

const HEADER: [&str; 8] = [
    "Kode",
    "Kelurahan",
    "BPU",
    "Aktif",
    "Nonaktif",
    "Tgk 1",
    "Tgk 2",
    "Tgk 3+",
];

fn cells(r: &StatusRow) -> Vec<String> {
    vec![
        r.code.clone(),
        r.name.clone(),
        r.bpu.to_string(),
        r.active.to_string(),
        r.nonactive.to_string(),
        r.arrears_1.to_string(),
        r.arrears_2.to_string(),
        r.arrears_3_plus.to_string(),
    ]
}

/// The report in the asked format.
pub fn render_report(report: &StatusReport, format: OutputFormat) -> String {
    let mut rows: Vec<Vec<String>> = report.kelurahan.iter().map(cells).collect();
    rows.push(cells(&report.total));
    match format {
        OutputFormat::Table => {
            let align = left_then_right(2, 8);
            let title = format!(
                "Status peserta BPU per {} (Tgk = bulan menunggak)\n",
                report
                    .at
                    .with_timezone(&RegionTimeZone::Wib.tz())
                    .format("%d-%m-%Y %H:%M WIB")
            );
            title + &render(&HEADER, &align, &rows, 18)
        }
        OutputFormat::Csv => render_csv(
            &[
                "kode",
                "kelurahan",
                "peserta_bpu",
                "aktif",
                "nonaktif",
                "menunggak_1",
                "menunggak_2",
                "menunggak_3_lebih",
            ],
            &rows,
        ),
        OutputFormat::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
    }
}
