//! `pengingat retention`: an operator trims old reminders at once and is
//! told, in Bahasa Indonesia, what went.

use super::Cli;
use crate::helpers::*;

both_backends!(retention_deletes_old_months_and_says_what_went);

async fn retention_deletes_old_months_and_says_what_went(db: &TestDb) {
    crate::outcomes::population(db).await;
    let cli = Cli::new(db);
    // With the shipped 24 months, in July 2027 the months before July 2025 go: the h+7 reminders
    // of February, May and June; July's h-1 stays.
    let out = cli.ok(&["--clock", "2027-07-15T00:00:00Z", "retention"]);
    assert!(
        out.contains("Retensi: 3 pengingat bulan iuran sebelum 2025-07"),
        "{out}"
    );
    assert!(out.contains("sebelum 2025-07-01 dihapus"), "{out}");
    let left = db.store.list_reminders(None, 100).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].rule.as_str(), left[0].contribution_month),
        ("h-1", month("2025-07").index())
    );
    // A month later July goes too.
    let out = cli.ok(&["--clock", "2027-08-15T00:00:00Z", "retention"]);
    assert!(
        out.contains("Retensi: 1 pengingat bulan iuran sebelum 2025-08"),
        "{out}"
    );
    assert!(db.store.list_reminders(None, 100).await.unwrap().is_empty());
}
