//! `pengingat retention`: runs retention now, as the daemon does at start
//! and after each month's end, and says what it did.

use std::process::ExitCode;

use chrono::{DateTime, Utc};

use super::database::open;
use crate::config::Settings;
use crate::retention::{self, RetentionContext, RetentionReport};
use crate::schedule::Schedules;

/// Runs retention at `now` with `[retention] months` and prints the outcome.
pub async fn run(settings: &Settings, now: DateTime<Utc>) -> anyhow::Result<ExitCode> {
    let schedules = Schedules::load_or_shipped(&settings.schedules.path)?;
    let store = open(settings).await?;
    let kelurahan = store.list_kelurahan().await?;
    let due = settings.due_date.rules();
    let standing = settings.standing.rules();
    let ctx = RetentionContext {
        kelurahan: &kelurahan,
        schedules: &schedules,
        due: &due,
        standing: &standing,
    };
    let report = retention::run(store.as_ref(), ctx, settings.retention.months, now).await?;
    print!("{}", render(&report));
    Ok(ExitCode::SUCCESS)
}

/// What was done, in Bahasa Indonesia.
pub(crate) fn render(report: &RetentionReport) -> String {
    match (report.before_month, report.history_cutoff) {
        (Some(month), Some(cutoff)) => format!(
            "Retensi: {} pengingat bulan iuran sebelum {} dihapus (totalnya disimpan per bulan untuk laporan); \
             riwayat status dan tanda terima sebelum {} dihapus.\n",
            report.reminders,
            month,
            cutoff.format("%Y-%m-%d"),
        ),
        _ => "Retensi tidak aktif ([retention] months = 0): tidak ada yang dihapus.\n".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_names_the_month_and_the_cutoff() {
        let report = RetentionReport {
            before_month: crate::domain::ContributionMonth::new(2024, 12),
            history_cutoff: "2024-12-01T00:00:00Z".parse().ok(),
            reminders: 7,
        };
        let text = render(&report);
        assert!(text.contains("7 pengingat bulan iuran sebelum 2024-12"), "{text}");
        assert!(text.contains("sebelum 2024-12-01 dihapus"), "{text}");
        let off = RetentionReport {
            before_month: None,
            history_cutoff: None,
            reminders: 0,
        };
        assert!(render(&off).contains("tidak aktif"));
    }
}
