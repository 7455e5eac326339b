//! The daemon's repeat scans, on both backends: with the memo one scan
//! leaves for the next, a scan probes only the participants written since,
//! and creates exactly what a scan without it creates, also when two
//! daemons take turns on one database.

use chrono::{DateTime, Duration, Utc};
use pengingat::domain::{KelurahanCode, Nik};
use pengingat::scan::{ScanMemo, ScanReport};
use pengingat::store::{NoProgress, PaymentBatch, PaymentSource};

use crate::helpers::*;

both_backends!(
    a_repeat_scan_probes_only_participants_written_since,
    scans_with_and_without_the_memo_create_the_same_reminders,
);

async fn scan_at(db: &TestDb, now: DateTime<Utc>, memo: Option<&mut ScanMemo>) -> ScanReport {
    scan_shipped(db, now, memo).await
}

fn nik(serial: u32) -> Nik {
    Nik::parse(&format!("187201120590{serial:04}")).expect("NIK")
}

async fn pay(db: &TestDb, reference: &str, serial: u32, now: DateTime<Utc>) {
    let batch = PaymentBatch {
        source: PaymentSource::Import,
        now,
        strict: true,
        attribution_secs: 14 * 86_400,
    };
    let paid_at = (now - Duration::minutes(5)).to_rfc3339();
    let row = payment(reference, serial, 16_800, &paid_at);
    db.store.record_payments(&[row], &batch, &NoProgress).await.unwrap();
}

/// The h-7 reminders of July 2025 (due Tuesday 15 July), by participant serial.
async fn h7_july_serials(db: &TestDb) -> Vec<u32> {
    let july = month("2025-07").index();
    let mut serials: Vec<u32> = db
        .store
        .list_reminders(None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.rule == "h-7" && r.contribution_month == july)
        .map(|r| r.nik[12..].parse().expect("serial"))
        .collect();
    serials.sort_unstable();
    serials
}

/// Deletes participant 2's reminders and their history directly.
async fn forget_reminders_of_2(db: &TestDb) {
    execute_sql(
        db,
        "DELETE FROM reminder_events WHERE reminder_id IN (SELECT id FROM reminders WHERE participant_id = \
         (SELECT id FROM participants WHERE nik = '1872011205900002'))",
    )
    .await;
    execute_sql(
        db,
        "DELETE FROM reminders WHERE participant_id = (SELECT id FROM participants WHERE nik = '1872011205900002')",
    )
    .await;
}

async fn a_repeat_scan_probes_only_participants_written_since(db: &TestDb) {
    // On PostgreSQL, a transaction left open from before the participants
    // are written to the end holds every snapshot's xmin back: the scan must
    // still tell the writes it saw from those it did not.
    let long_transaction = if db.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("SELECT pg_current_xact_id()")
            .execute(&mut *tx)
            .await
            .unwrap();
        Some((pool, tx))
    } else {
        None
    };
    load_test_kelurahan(db).await;
    // 1, 2 and 3 are first unpaid July; 4 is a month behind.
    let rows = [
        participant(1, "2025-06"),
        participant(2, "2025-06"),
        participant(3, "2025-06"),
        participant(4, "2025-05"),
    ];
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let mut memo = ScanMemo::default();
    // h-7 of July: 09:00 WIB on Tuesday 8 July.
    let first = scan_at(db, at("2025-07-08T02:05:00Z"), Some(&mut memo)).await;
    assert!(first.totals.created >= 3, "{first:?}");
    assert_eq!(h7_july_serials(db).await, [1, 2, 3]);

    // Behind the store's back, 2's July reminders vanish: a scan that probes
    // 2 creates them again, one that leaves 2 alone does not.
    forget_reminders_of_2(db).await;
    // Written since: 4 pays June and is now first unpaid July; 5 is new.
    pay(db, "BAYAR-4-JUNI", 4, at("2025-07-08T02:10:00Z")).await;
    db.store
        .upsert_participants(&[participant(5, "2025-06")], at("2025-07-08T02:11:00Z"), &NoProgress)
        .await
        .unwrap();

    let repeat = scan_at(db, at("2025-07-08T02:20:00Z"), Some(&mut memo)).await;
    assert_eq!(repeat.totals.created, 2, "{repeat:?}");
    assert_eq!(h7_july_serials(db).await, [1, 3, 4, 5], "2 was not probed again");

    // Nothing written since: nothing probed, nothing created.
    let quiet = scan_at(db, at("2025-07-08T02:35:00Z"), Some(&mut memo)).await;
    assert_eq!((quiet.totals.created, quiet.totals.skipped), (0, 0), "{quiet:?}");

    // Without the memo every participant is probed: 2's reminder is back.
    let full = scan_at(db, at("2025-07-08T02:50:00Z"), None).await;
    assert_eq!(full.totals.created, 1, "{full:?}");
    assert_eq!(h7_july_serials(db).await, [1, 2, 3, 4, 5]);

    // Rows that retention deletes are seen through its count of deletions:
    // the next scan probes everyone.
    forget_reminders_of_2(db).await;
    scan_at(db, at("2025-07-08T03:05:00Z"), Some(&mut memo)).await;
    assert_eq!(h7_july_serials(db).await, [1, 3, 4, 5]);
    execute_sql(db, "UPDATE reminder_deletions SET generation = generation + 1").await;
    scan_at(db, at("2025-07-08T03:20:00Z"), Some(&mut memo)).await;
    assert_eq!(h7_july_serials(db).await, [1, 2, 3, 4, 5]);
    // The memory lasts from one day to the next.
    forget_reminders_of_2(db).await;
    scan_at(db, at("2025-07-09T02:05:00Z"), Some(&mut memo)).await;
    assert_eq!(h7_july_serials(db).await, [1, 3, 4, 5]);
    if let Some((pool, tx)) = long_transaction {
        tx.rollback().await.unwrap();
        pool.close().await;
    }
}

/// Participant `serial` of the comparison: half in each of Metro's two
/// kelurahan, a third each first unpaid June, July and August.
fn member(serial: u32) -> pengingat::domain::NewParticipant {
    let paid_through = ["2025-05", "2025-06", "2025-07"][serial as usize % 3];
    let mut p = participant(serial, paid_through);
    if serial % 2 == 1 {
        p.kelurahan = KelurahanCode::parse("18.72.01.1005").expect("code");
    }
    p
}

/// Whether `serial` does something (pays, opts out, moves) at tick `tick`.
fn acts(serial: u32, tick: u32, every: u32) -> bool {
    (serial * 7 + tick * 13).is_multiple_of(every)
}

/// Three weeks of ticks every three hours, with payments, opt-outs, moves
/// and new participants between them; the same on both databases. Tick by
/// tick the scans take turns among `daemons` (each its own memory, as two
/// instances on one database); none: every scan probes everyone. Returns
/// each scan's counts.
async fn three_weeks(db: &TestDb, daemons: &mut [ScanMemo]) -> Vec<[u64; 5]> {
    load_test_kelurahan(db).await;
    let start = at("2025-07-01T00:00:00Z");
    let people: Vec<_> = (1..=150).map(member).collect();
    db.store.upsert_participants(&people, start, &NoProgress).await.unwrap();
    let mut counts = Vec::new();
    for tick in 0..(21 * 8) {
        let now = start + Duration::hours(3 * i64::from(tick)) + Duration::minutes(5);
        let before = now - Duration::minutes(3);
        for serial in 1..=150 {
            if acts(serial, tick, 97) {
                pay(db, &format!("P-{serial}-{tick}"), serial, before).await;
            }
            if acts(serial, tick, 211) {
                db.store.set_opt_out_by_nik(&nik(serial), true, before).await.unwrap();
            }
            if acts(serial, tick, 307) {
                let mut moved = member(serial);
                moved.kelurahan = KelurahanCode::parse("51.71.01.1001").expect("code");
                db.store
                    .upsert_participants(&[moved], before, &NoProgress)
                    .await
                    .unwrap();
            }
        }
        if tick % 10 == 0 {
            let newcomer = member(1000 + tick);
            db.store
                .upsert_participants(&[newcomer], before, &NoProgress)
                .await
                .unwrap();
        }
        let turn = daemons.len().max(1);
        let report = scan_at(db, now, daemons.get_mut(tick as usize % turn)).await;
        let t = report.totals;
        counts.push([t.created, t.skipped, t.superseded, t.cancelled, t.replanned]);
    }
    counts
}

/// Every reminder as compared: who, which month, rule and channel, its
/// status, reason and plan.
async fn all_reminders(db: &TestDb) -> Vec<(String, i32, String, String, String, Option<String>, i64, i32)> {
    let mut rows: Vec<_> = db
        .store
        .list_reminders(None, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.nik,
                r.contribution_month,
                r.rule,
                r.channel,
                r.status,
                r.reason,
                r.planned_at,
                r.send_date,
            )
        })
        .collect();
    rows.sort();
    rows
}

async fn scans_with_and_without_the_memo_create_the_same_reminders(db: &TestDb) {
    let plain = if db.url.starts_with("sqlite") {
        sqlite_db().await
    } else {
        postgres_db().await
    };
    let mut daemons = [ScanMemo::default(), ScanMemo::default()];
    let with_memo = three_weeks(db, &mut daemons).await;
    let without = three_weeks(&plain, &mut []).await;
    let reminders = all_reminders(db).await;
    let expected = all_reminders(&plain).await;
    plain.cleanup().await;
    assert!(
        reminders.len() > 250,
        "the comparison covers {} reminders",
        reminders.len()
    );
    let created: u64 = with_memo.iter().map(|c| c[0]).sum();
    assert!(created > 80, "{created} created");
    for (tick, (a, b)) in with_memo.iter().zip(&without).enumerate() {
        assert_eq!(
            a, b,
            "scan {tick}: [created, skipped, superseded, cancelled, replanned]"
        );
    }
    assert_eq!(reminders.len(), expected.len());
    for (a, b) in reminders.iter().zip(&expected) {
        assert_eq!(a, b);
    }
}
