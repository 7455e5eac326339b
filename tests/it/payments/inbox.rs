//! The payments inbox folder.

use pengingat::import::ImportOptions;
use pengingat::payments::inbox::process_inbox;

use super::*;

both_backends!(
    inbox_files_are_imported_once_and_bad_ones_rejected,
    the_daemon_watches_its_inbox,
    an_oversized_file_is_rejected_unread
);

/// A file over the limit goes to `rejected/` with the reason, and nothing
/// of it is recorded; the same file under the limit is imported.
async fn an_oversized_file_is_rejected_unread(db: &TestDb) {
    reminded_participant(db).await;
    let inbox = tempfile::tempdir().unwrap();
    let dir = inbox.path();
    let mut text = csv("KOL-1", NIK);
    // Blank lines pad it past the limit; they are skipped when imported.
    text.push_str(&"\n".repeat(2_000));
    std::fs::write(dir.join("besar.csv"), &text).unwrap();
    let limit = 1_000;
    let options = ImportOptions {
        max_file_bytes: Some(limit),
        ..ImportOptions::new(at("2025-07-16T04:00:00Z"))
    };
    let report = process_inbox(db.store.as_ref(), dir, &options).await.unwrap();
    assert_eq!(report.rejected, ["besar.csv"]);
    assert!(dir.join("rejected/besar.csv").exists());
    let reasons = std::fs::read_to_string(dir.join("rejected/besar.csv.reasons.txt")).unwrap();
    let size = text.len().to_string();
    assert!(
        reasons.contains("besar.csv") && reasons.contains(&size) && reasons.contains("more than the 1000"),
        "{reasons}"
    );
    assert_eq!(paid_through(db).await, "2025-06", "nothing recorded");

    std::fs::write(dir.join("kecil.csv"), csv("KOL-1", NIK)).unwrap();
    let report = process_inbox(db.store.as_ref(), dir, &options).await.unwrap();
    assert_eq!(report.imported, ["kecil.csv"]);
    assert_paid_and_credited(db, 2).await;
}

async fn the_daemon_watches_its_inbox(db: &TestDb) {
    reminded_participant(db).await;
    let inbox = tempfile::tempdir().unwrap();
    let mut settings = crate::daemon::daemon_settings(db);
    settings.payments.inbox_dir = Some(inbox.path().to_path_buf());
    settings.payments.inbox_poll_secs = 1;
    let clock = std::sync::Arc::new(pengingat::clock::FixedClock::at(at("2025-07-16T04:00:00Z")));
    let daemon = crate::app::TestDaemon::start(settings, clock).await;
    // Written under a temporary name, then renamed, as the README asks.
    std::fs::write(inbox.path().join("bayar.csv.part"), csv("KOL-1", NIK)).unwrap();
    std::fs::rename(inbox.path().join("bayar.csv.part"), inbox.path().join("bayar.csv")).unwrap();
    let done = inbox.path().join("done/bayar.csv");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !done.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    daemon.stop().await;
    assert!(done.exists(), "the daemon imported the file and moved it to done/");
    assert_paid_and_credited(db, 2).await;
}

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
