//! The payments inbox folder.

use pengingat::import::ImportOptions;
use pengingat::payments::inbox::process_inbox;

use super::*;

both_backends!(inbox_files_are_imported_once_and_bad_ones_rejected);

fn csv(reference: &str, nik: &str) -> String {
    format!("external_ref,nik,amount,paid_at,channel\n{reference},{nik},16800,2025-07-16T03:00:00Z,kolektif\n")
}

async fn inbox_files_are_imported_once_and_bad_ones_rejected(db: &TestDb) {
    reminded_participant(db).await;
    let inbox = tempfile::tempdir().unwrap();
    let dir = inbox.path();
    std::fs::write(dir.join("2025-07-16.csv"), csv("KOL-1", NIK)).unwrap();
    std::fs::write(dir.join("unknown.csv"), csv("KOL-2", "1872011205909999")).unwrap();
    std::fs::write(dir.join(".still-writing.csv"), csv("KOL-3", NIK)).unwrap();
    let options = ImportOptions::new(at("2025-07-16T04:00:00Z"));

    let report = process_inbox(db.store.as_ref(), dir, &options).await.unwrap();
    assert_eq!(report.imported, ["2025-07-16.csv"]);
    assert_eq!(report.rejected, ["unknown.csv"]);
    assert!(dir.join("done/2025-07-16.csv").exists());
    assert!(dir.join("rejected/unknown.csv").exists());
    let reasons = std::fs::read_to_string(dir.join("rejected/unknown.csv.reasons.txt")).unwrap();
    assert!(
        reasons.contains("line 2") && reasons.contains("no participant has this NIK"),
        "{reasons}"
    );
    assert!(
        dir.join(".still-writing.csv").exists(),
        "a file being written is left alone"
    );
    assert_paid_and_credited(db, 2).await;

    // The same content again, under another name, after a "restart": moved, not imported.
    std::fs::write(dir.join("copy.csv"), csv("KOL-1", NIK)).unwrap();
    let again = process_inbox(db.store.as_ref(), dir, &options).await.unwrap();
    assert_eq!(again.already_seen, ["copy.csv"]);
    assert!(again.imported.is_empty());
    assert!(dir.join("done/copy.csv").exists());
    assert_paid_and_credited(db, 2).await;

    // A file of the same name as one done before does not overwrite it.
    std::fs::write(dir.join("2025-07-16.csv"), csv("KOL-4", NIK)).unwrap();
    let third = process_inbox(db.store.as_ref(), dir, &options).await.unwrap();
    assert_eq!(third.imported, ["2025-07-16.csv"]);
    assert!(dir.join("done/2025-07-16.csv.1").exists());
    assert_eq!(paid_through(db).await, "2025-08");
}
