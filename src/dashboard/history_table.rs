//! The table of past months under the 12-month chart: standing at the end
//! of each month, newest first, and where each month's figures come from,
//! so a month rebuilt from the payment history reads "direkonstruksi" in
//! the table as in the chart. The template `history_table.html` places it.

use super::format::{month_label, percent, thousands};
use super::model::{MonthRatio, MonthSource, REBUILT};
use super::svg::NO_DATA;
use super::table::{STANDING_COLUMNS, heads};

/// The id of the table of past months.
pub const HISTORY_TABLE_ID: &str = "table-history";

/// Column heads, in order.
pub const HISTORY_COLUMNS: [&str; 9] = heads(&[&["Bulan"], &STANDING_COLUMNS, &["Sumber"]]);

/// The table, its figures written the Indonesian way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTable {
    /// [`HISTORY_COLUMNS`].
    pub columns: &'static [&'static str],
    /// One row per month, newest first.
    pub rows: Vec<HistoryRow>,
    /// Shown in the body when there is no month.
    pub no_data: &'static str,
    /// Whether any month is rebuilt, so the note under the table explains it.
    pub any_rebuilt: bool,
}

/// One month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// `Jun 2026`.
    pub month: String,
    /// Whether the month is rebuilt (drawn muted).
    pub rebuilt: bool,
    /// The figures of the columns after the first, the source last.
    pub cells: [String; HISTORY_COLUMNS.len() - 1],
}

impl HistoryTable {
    /// The table of `months` (oldest first, as the chart has them).
    pub fn new(months: &[MonthRatio]) -> Self {
        HistoryTable {
            columns: &HISTORY_COLUMNS,
            rows: months.iter().rev().map(HistoryRow::new).collect(),
            no_data: NO_DATA,
            any_rebuilt: months.iter().any(MonthRatio::rebuilt),
        }
    }
}

impl HistoryRow {
    fn new(m: &MonthRatio) -> Self {
        HistoryRow {
            month: month_label(m.year, m.month),
            rebuilt: m.rebuilt(),
            cells: [
                thousands(m.bpu),
                thousands(m.active),
                thousands(m.nonactive),
                percent(m.ratio()),
                thousands(m.arrears_1),
                thousands(m.arrears_2),
                thousands(m.arrears_3_plus),
                source_label(m.source).to_string(),
            ],
        }
    }
}

/// How the source of a month reads in the table.
pub fn source_label(source: MonthSource) -> &'static str {
    match source {
        MonthSource::Current => "bulan berjalan",
        MonthSource::Snapshot => "dicatat akhir bulan",
        MonthSource::Rebuilt => REBUILT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_run_newest_first_and_say_where_they_come_from() {
        let month = |m, source| MonthRatio {
            year: 2026,
            month: m,
            bpu: 1_000,
            active: 900,
            source,
            ..MonthRatio::default()
        };
        let t = HistoryTable::new(&[
            month(4, MonthSource::Rebuilt),
            month(5, MonthSource::Snapshot),
            month(6, MonthSource::Current),
        ]);
        let sources: Vec<&str> = t.rows.iter().map(|r| r.cells[7].as_str()).collect();
        assert_eq!(sources, ["bulan berjalan", "dicatat akhir bulan", "direkonstruksi"]);
        assert_eq!(t.rows[2].month, "Apr 2026");
        assert!(t.rows[2].rebuilt && !t.rows[1].rebuilt);
        assert!(t.any_rebuilt);
        assert_eq!(t.rows[0].cells[0], "1.000");
    }
}
