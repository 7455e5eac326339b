//! `pengingat snapshot`: takes the monthly standing snapshots of ended
//! months for every kelurahan with BPU participants, for operators who
//! backfill months the daemon did not take. A month that has a snapshot
//! keeps it.

use std::process::ExitCode;

use chrono::{DateTime, Utc};

use super::SnapshotArgs;
use super::database::open;
use crate::config::Settings;
use crate::domain::ContributionMonth;
use crate::report::snapshot::{self, SnapshotReport};
use crate::report::table::{left_then_right, render};

/// Takes the months asked for and prints what was written.
pub async fn take(settings: &Settings, args: &SnapshotArgs, now: DateTime<Utc>) -> anyhow::Result<ExitCode> {
    let (from, to) = range(args)?;
    snapshot::check_range(from, to, now)?;
    let store = open(settings).await?;
    let report = snapshot::take_months(
        store.as_ref(),
        (&settings.due_date_rules(), &settings.standing.rules()),
        (from, to),
        now,
    )
    .await?;
    print!("{}", render_report(&report));
    Ok(ExitCode::SUCCESS)
}

/// The months of `--month`, or of `--from` and `--to`.
fn range(args: &SnapshotArgs) -> anyhow::Result<(ContributionMonth, ContributionMonth)> {
    match (args.month, args.from, args.to) {
        (Some(m), None, None) => Ok((m, m)),
        (None, Some(from), Some(to)) => Ok((from, to)),
        _ => anyhow::bail!("give either --month YYYY-MM or both --from YYYY-MM and --to YYYY-MM"),
    }
}

/// What was written, per month, in Bahasa Indonesia.
pub(crate) fn render_report(report: &SnapshotReport) -> String {
    if report.months.iter().all(|m| m.written + m.existing == 0) {
        return "Tidak ada kelurahan dengan peserta BPU; tidak ada snapshot yang ditulis.\n".to_string();
    }
    let rows: Vec<Vec<String>> = report
        .months
        .iter()
        .map(|m| {
            vec![
                m.month.to_string(),
                m.written.to_string(),
                m.existing.to_string(),
                if m.written == 0 {
                    "-".to_string()
                } else if m.rebuilt {
                    "direkonstruksi".to_string()
                } else {
                    "dicatat akhir bulan".to_string()
                },
            ]
        })
        .collect();
    let mut align = left_then_right(1, 3);
    align.push(align[0]);
    "Snapshot status akhir bulan per kelurahan\n".to_string()
        + &render(&["Bulan", "Ditulis", "Sudah ada", "Sumber"], &align, &rows, 20)
}
