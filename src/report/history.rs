//! Standing at the end of each of the last months, for the 12-month chart
//! and its table: read from the monthly snapshots ([`super::snapshot`]);
//! a kelurahan without a snapshot for a month (months before the first
//! snapshot) is rebuilt from today's paid-through months and the payments
//! made since ([`super::rebuild`]), and the month is marked rebuilt, as is
//! a month whose snapshot was itself taken late. The current month is
//! standing now.

use std::cell::OnceCell;
use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use super::rebuild::{KelurahanBuckets, month_totals};
use super::snapshot::{Basis, month_end};
use super::status::{StandingData, StatusAt, StatusRow, tally};
use crate::domain::calendar::local_midnight;
use crate::domain::{ContributionMonth, DueDateRules, RegionTimeZone, StandingRules};
use crate::store::{Kelurahan, StandingSnapshot, Store, StoreError};

/// Where a month's figures come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthSource {
    /// The month still running: standing now.
    Current,
    /// Snapshots taken at the month's end, for every kelurahan.
    #[default]
    Snapshot,
    /// Rebuilt afterwards from the payment history, for some or all kelurahan.
    Rebuilt,
}

/// Standing of the BPU participants at the end of one month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MonthStanding {
    pub year: i32,
    pub month: u32,
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
    /// Where the figures come from.
    pub source: MonthSource,
}

impl MonthStanding {
    fn empty(year: i32, month: u32, source: MonthSource) -> Self {
        Self {
            year,
            month,
            source,
            ..Self::default()
        }
    }

    fn add_row(&mut self, r: &StatusRow) {
        self.bpu += r.bpu;
        self.active += r.active;
        self.nonactive += r.nonactive;
        self.arrears_1 += r.arrears_1;
        self.arrears_2 += r.arrears_2;
        self.arrears_3_plus += r.arrears_3_plus;
    }

    fn add(&mut self, s: &StandingSnapshot) {
        self.bpu += s.participants;
        self.active += s.active;
        self.nonactive += s.nonactive;
        self.arrears_1 += s.arrears_1;
        self.arrears_2 += s.arrears_2;
        self.arrears_3_plus += s.arrears_3_plus;
    }
}

/// Standing at the end of each of the last `months` months (the current
/// one: now), oldest first, for kelurahan under `filter`.
pub async fn monthly_standing(
    store: &dyn Store,
    data: &StandingData,
    (due, standing): (&DueDateRules, &StandingRules),
    filter: Option<&str>,
    now: DateTime<Utc>,
    months: u32,
) -> Result<Vec<MonthStanding>, StoreError> {
    let ends = month_ends(now, months);
    let Some(((year, month, _), past)) = ends.split_last() else {
        return Ok(Vec::new());
    };
    let past: Vec<ContributionMonth> = past
        .iter()
        .filter_map(|(y, m, _)| ContributionMonth::new(*y, *m))
        .collect();
    let mut out = Vec::new();
    if let (Some(first), Some(last)) = (past.first(), past.last()) {
        let snapshots = store.snapshots_between(first.index(), last.index(), filter).await?;
        let since = month_end(*first, RegionTimeZone::Wit).timestamp();
        let payments = store.bpu_payments_since(since).await?;
        let basis = Basis {
            histogram: &data.histogram,
            payments: &payments,
            due,
            standing,
        };
        let with_participants: HashSet<&str> = data.histogram.iter().map(|b| b.kelurahan_code.as_str()).collect();
        let today: Vec<&Kelurahan> = data
            .kelurahan
            .iter()
            .filter(|k| filter.is_none_or(|f| k.code.has_prefix(f)) && with_participants.contains(k.code.as_str()))
            .collect();
        // Grouped only when some month lacks snapshots: once every month
        // has them, a request never walks the histogram for the chart.
        let buckets = OnceCell::new();
        for m in &past {
            out.push(past_month(*m, &snapshots, &today, &buckets, &basis));
        }
    }
    let status = tally(
        &data.kelurahan,
        &data.histogram,
        due,
        standing,
        StatusAt::Instant(now),
        filter,
    );
    let t = &status.total;
    out.push(MonthStanding {
        bpu: t.bpu,
        active: t.active,
        nonactive: t.nonactive,
        arrears_1: t.arrears_1,
        arrears_2: t.arrears_2,
        arrears_3_plus: t.arrears_3_plus,
        ..MonthStanding::empty(*year, *month, MonthSource::Current)
    });
    Ok(out)
}

/// One ended month: its snapshots, and the kelurahan with participants
/// today that have none rebuilt.
fn past_month<'a>(
    m: ContributionMonth,
    snapshots: &[StandingSnapshot],
    today: &[&Kelurahan],
    buckets: &OnceCell<KelurahanBuckets<'a>>,
    basis: &Basis<'a>,
) -> MonthStanding {
    let mut out = MonthStanding::empty(m.year(), m.month(), MonthSource::Snapshot);
    let taken: Vec<&StandingSnapshot> = snapshots.iter().filter(|s| s.month == m.index()).collect();
    let codes: HashSet<&str> = taken.iter().map(|s| s.kelurahan_code.as_str()).collect();
    let missing: Vec<&Kelurahan> = today
        .iter()
        .copied()
        .filter(|k| !codes.contains(k.code.as_str()))
        .collect();
    for s in &taken {
        out.add(s);
    }
    if !missing.is_empty() {
        let buckets = buckets.get_or_init(|| KelurahanBuckets::of(basis.histogram));
        out.add_row(&month_totals(&missing, buckets, basis, m));
    }
    if !missing.is_empty() || taken.iter().any(|s| s.rebuilt) {
        out.source = MonthSource::Rebuilt;
    }
    out
}

/// `(year, month, end)` of the last `months` months, oldest first; the
/// current month (in WIB) ends now.
pub fn month_ends(now: DateTime<Utc>, months: u32) -> Vec<(i32, u32, DateTime<Utc>)> {
    let wib = RegionTimeZone::Wib.tz();
    let today = now.with_timezone(&wib).date_naive();
    let mut out = Vec::new();
    let (mut year, mut month) = (today.year(), today.month());
    for i in 0..months {
        let end = if i == 0 {
            now
        } else {
            let (ny, nm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
            NaiveDate::from_ymd_opt(ny, nm, 1).map_or(now, |d| local_midnight(d, wib))
        };
        out.push((year, month, end));
        (year, month) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_ends_are_wib_midnights_oldest_first() {
        let now: DateTime<Utc> = "2026-03-10T05:00:00Z".parse().unwrap();
        let ends = month_ends(now, 3);
        assert_eq!((ends[0].0, ends[0].1), (2026, 1));
        assert_eq!(ends[0].2.to_rfc3339(), "2026-01-31T17:00:00+00:00");
        assert_eq!((ends[1].0, ends[1].1), (2026, 2));
        assert_eq!(ends[2], (2026, 3, now));
    }
}
