//! Standing at the end of a past report period: when the period ends on a
//! month's last day, each kelurahan's standing is its snapshot of that
//! month ([`super::snapshot`]); a kelurahan without one, or a period ending
//! mid-month, keeps the standing rebuilt from the payment history, and is
//! named as rebuilt so the report can say so.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use super::history::MonthSource;
use super::status::StatusRow;
use crate::domain::ContributionMonth;
use crate::store::{StandingSnapshot, Store, StoreError};

/// Where a past period's standing came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastStanding {
    /// Snapshots for every kelurahan, or rebuilt for some.
    pub source: MonthSource,
    /// Codes of the kelurahan whose standing is rebuilt.
    pub rebuilt: Vec<String>,
}

/// The month `to` is the last day of, if it is one.
pub fn month_ending_on(to: NaiveDate) -> Option<ContributionMonth> {
    to.succ_opt()
        .filter(|next| next.day() == 1)
        .map(|_| ContributionMonth::of_date(to))
}

/// Puts the snapshots of the month ending on `to` into `rows` (rebuilt
/// standing of the kelurahan under `prefix`), adding kelurahan that had
/// participants then and have none now; `names` gives those their name.
pub async fn apply_snapshots(
    store: &dyn Store,
    rows: &mut Vec<StatusRow>,
    names: &HashMap<String, String>,
    to: Option<NaiveDate>,
    prefix: Option<&str>,
) -> Result<PastStanding, StoreError> {
    let snapshots = match to.and_then(month_ending_on) {
        Some(m) => store.snapshots_between(m.index(), m.index(), prefix).await?,
        None => Vec::new(),
    };
    Ok(merge(rows, &snapshots, names))
}

/// [`apply_snapshots`] once the snapshots are read. Pure.
pub fn merge(
    rows: &mut Vec<StatusRow>,
    snapshots: &[StandingSnapshot],
    names: &HashMap<String, String>,
) -> PastStanding {
    let mut taken: HashMap<&str, &StandingSnapshot> = HashMap::new();
    for s in snapshots {
        taken.insert(s.kelurahan_code.as_str(), s);
    }
    let mut rebuilt = Vec::new();
    for row in rows.iter_mut() {
        match taken.remove(row.code.as_str()) {
            Some(s) => {
                overwrite(row, s);
                if s.rebuilt {
                    rebuilt.push(row.code.clone());
                }
            }
            None => rebuilt.push(row.code.clone()),
        }
    }
    let mut added: Vec<&StandingSnapshot> = taken.into_values().filter(|s| s.participants > 0).collect();
    added.sort_by(|a, b| a.kelurahan_code.cmp(&b.kelurahan_code));
    for s in added {
        let mut row = StatusRow {
            code: s.kelurahan_code.clone(),
            name: names.get(&s.kelurahan_code).cloned().unwrap_or_default(),
            ..StatusRow::default()
        };
        overwrite(&mut row, s);
        if s.rebuilt {
            rebuilt.push(row.code.clone());
        }
        rows.push(row);
    }
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    rebuilt.sort();
    PastStanding {
        source: if rebuilt.is_empty() {
            MonthSource::Snapshot
        } else {
            MonthSource::Rebuilt
        },
        rebuilt,
    }
}

fn overwrite(row: &mut StatusRow, s: &StandingSnapshot) {
    row.bpu = s.participants;
    row.active = s.active;
    row.nonactive = s.nonactive;
    row.arrears_1 = s.arrears_1;
    row.arrears_2 = s.arrears_2;
    row.arrears_3_plus = s.arrears_3_plus;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, bpu: i64) -> StatusRow {
        StatusRow {
            code: code.into(),
            name: code.into(),
            bpu,
            active: bpu,
            ..StatusRow::default()
        }
    }

    fn snap(code: &str, participants: i64, rebuilt: bool) -> StandingSnapshot {
        StandingSnapshot {
            kelurahan_code: code.into(),
            month: 0,
            participants,
            active: participants - 1,
            nonactive: 1,
            arrears_1: 0,
            arrears_2: 0,
            arrears_3_plus: 1,
            month_end_at: 0,
            taken_at: 0,
            rebuilt,
        }
    }

    #[test]
    fn only_a_months_last_day_has_a_snapshot_month() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(month_ending_on(d("2026-06-30")), ContributionMonth::new(2026, 6));
        assert_eq!(month_ending_on(d("2026-02-28")), ContributionMonth::new(2026, 2));
        assert_eq!(month_ending_on(d("2026-06-29")), None);
    }

    #[test]
    fn snapshots_replace_rebuilt_rows_and_the_rest_are_named() {
        let mut rows = vec![row("A", 10), row("B", 5)];
        let names = HashMap::from([("C".to_string(), "Cempaka".to_string())]);
        let past = merge(&mut rows, &[snap("A", 8, false), snap("C", 3, false)], &names);
        assert_eq!(past.source, MonthSource::Rebuilt);
        assert_eq!(past.rebuilt, ["B"]);
        assert_eq!((rows[0].bpu, rows[0].nonactive), (8, 1), "A from its snapshot");
        assert_eq!(rows[1].bpu, 5, "B stays rebuilt");
        assert_eq!(
            (rows[2].name.as_str(), rows[2].bpu),
            ("Cempaka", 3),
            "C had participants then"
        );
        let mut rows = vec![row("A", 10)];
        let past = merge(&mut rows, &[snap("A", 8, false)], &names);
        assert_eq!((past.source, past.rebuilt.len()), (MonthSource::Snapshot, 0));
    }
}
