//! `pengingat snapshot`: an operator takes or backfills monthly standing
//! snapshots; bad months are refused with a clear error and change nothing.

use super::Cli;
use crate::helpers::*;

both_backends!(snapshot_takes_ended_months_once_and_refuses_bad_ones);

async fn snapshot_takes_ended_months_once_and_refuses_bad_ones(db: &TestDb) {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (1..=3).map(|i| participant(i, "2026-05")).collect();
    db.store
        .upsert_participants(&rows, at("2026-05-20T00:00:00Z"), &pengingat::store::NoProgress)
        .await
        .unwrap();
    let cli = Cli::new(db);
    let clock = ["--clock", "2026-07-02T00:00:00Z"];
    let refused = |args: &[&str], says: &str| {
        let out = cli.run(&[&clock[..], &["snapshot"], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    refused(&["--month", "2026-13"], "month \"2026-13\" must be written YYYY-MM");
    refused(&["--month", "Juni"], "must be written YYYY-MM");
    refused(&["--month", "2026-07"], "month 2026-07 has not ended yet");
    refused(
        &["--from", "2026-06", "--to", "2026-04"],
        "--from 2026-06 is after --to 2026-04",
    );
    refused(&["--from", "2026-04"], "--to");
    refused(&[], "--month");
    let none = db.store.snapshots_between(0, i32::MAX, None).await.unwrap();
    assert!(none.is_empty(), "a refused call writes nothing");

    let out = cli.ok(&[&clock[..], &["snapshot", "--month", "2026-06"]].concat());
    assert!(out.contains("2026-06") && out.contains("dicatat akhir bulan"), "{out}");
    let out = cli.ok(&[&clock[..], &["snapshot", "--from", "2026-04", "--to", "2026-06"]].concat());
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("2026-")).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].contains("direkonstruksi"),
        "April, taken two months late: {out}"
    );
    let june: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(june[..3], ["2026-06", "0", "1"], "June kept its row: {out}");
    let rows = db.store.snapshots_between(0, i32::MAX, None).await.unwrap();
    assert_eq!(rows.len(), 3, "Metro for April, May and June");
    let june = rows.iter().find(|r| r.month == month("2026-06").index()).unwrap();
    // Paid through May; June fell due on 15 June.
    assert_eq!((june.participants, june.arrears_1, june.rebuilt), (3, 3, false));
}
