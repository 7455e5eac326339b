//! Monthly standing snapshots: instances racing on one month leave one row
//! per kelurahan and month; a running daemon takes each kelurahan's month on
//! the first tick after it ends there; a daemon that was down takes the months it
//! missed from the payment history, marked rebuilt; the dashboard's chart
//! and table and `report` for a past month read the snapshots and label
//! months without one "direkonstruksi".

use std::sync::Arc;

use pengingat::clock::FixedClock;
use pengingat::daemon::Daemon;
use pengingat::domain::{DueDateRules, KelurahanCode, StandingRules};
use pengingat::report::history::MonthSource;
use pengingat::report::outcomes::{self, ReportQuery};
use pengingat::report::snapshot::{take_due, take_months};
use pengingat::report::status::{self, StatusAt};
use pengingat::store::{self, ConnectOptions, NoProgress, PaymentBatch, PaymentSource, StandingSnapshot};

use crate::browser::count_tags;
use crate::daemon::daemon_settings;
use crate::helpers::*;

both_backends!(
    the_running_daemon_takes_the_last_ended_month_as_it_starts,
    instances_racing_on_a_month_leave_one_row_per_kelurahan_and_month,
    a_daemon_that_was_down_rebuilds_the_missed_months_and_marks_them,
    the_dashboard_reads_snapshots_and_labels_months_without_one_as_rebuilt,
    a_report_for_a_past_month_reads_its_snapshot,
    a_running_daemon_takes_a_month_end_on_the_first_tick_after_it,
);

const METRO: &str = "18.72.01.1001";
const DANGIN_PURI: &str = "51.71.01.1001";

/// Four Metro participants paid through February 2026 and one of Dangin
/// Puri (WITA) through March; participant 1 pays March and April on 10 April.
async fn population(db: &TestDb) {
    load_test_kelurahan(db).await;
    let mut rows: Vec<_> = (1..=4).map(|i| participant(i, "2026-02")).collect();
    let mut wita = participant(5, "2026-03");
    wita.kelurahan = KelurahanCode::parse(DANGIN_PURI).unwrap();
    rows.push(wita);
    db.store
        .upsert_participants(&rows, at("2026-02-20T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let batch = PaymentBatch {
        source: PaymentSource::Import,
        now: at("2026-04-11T00:00:00Z"),
        strict: true,
        attribution_secs: 14 * 86_400,
    };
    let paid = db
        .store
        .record_payments(
            &[payment("SNAP-1", 1, 33_600, "2026-04-10T03:00:00Z")],
            &batch,
            &NoProgress,
        )
        .await
        .unwrap();
    assert!(paid[0].is_ok(), "{paid:?}");
}

fn rules() -> (DueDateRules, StandingRules) {
    (DueDateRules::default(), StandingRules::default())
}

/// Every snapshot row, by month then code.
async fn all_rows(db: &TestDb) -> Vec<StandingSnapshot> {
    db.store.snapshots_between(0, i32::MAX, None).await.unwrap()
}

fn row<'a>(rows: &'a [StandingSnapshot], code: &str, m: &str) -> &'a StandingSnapshot {
    let m = month(m).index();
    rows.iter()
        .find(|r| r.kelurahan_code == code && r.month == m)
        .unwrap_or_else(|| panic!("no snapshot of {code} for month {m}"))
}

async fn instances_racing_on_a_month_leave_one_row_per_kelurahan_and_month(db: &TestDb) {
    population(db).await;
    let other = store::connect(&db.url, &ConnectOptions::default()).await.unwrap();
    let (due, standing) = rules();
    let now = at("2026-04-01T02:00:00Z");
    // The daemon's call on two instances at once, twice over.
    let (a, b, c, d) = tokio::join!(
        take_due(db.store.as_ref(), (&due, &standing), now),
        take_due(other.as_ref(), (&due, &standing), now),
        take_due(db.store.as_ref(), (&due, &standing), now),
        take_due(other.as_ref(), (&due, &standing), now),
    );
    let written: u64 = [a, b, c, d]
        .into_iter()
        .map(|r| r.expect("no conflict error").written())
        .sum();
    assert_eq!(written, 2, "March once for Metro and once for Dangin Puri");
    // An operator backfilling January to March while a daemon does the same.
    let range = (month("2026-01"), month("2026-03"));
    let (e, f) = tokio::join!(
        take_months(db.store.as_ref(), (&due, &standing), range, now),
        take_months(other.as_ref(), (&due, &standing), range, now),
    );
    let (e, f) = (e.unwrap(), f.unwrap());
    assert_eq!(e.written() + f.written(), 4, "January and February, two kelurahan");
    let rows = all_rows(db).await;
    assert_eq!(rows.len(), 6, "{rows:?}");
    let mut keys: Vec<(String, i32)> = rows.iter().map(|r| (r.kelurahan_code.clone(), r.month)).collect();
    keys.dedup();
    assert_eq!(keys.len(), 6, "one row per kelurahan and month");
    assert!(
        !row(&rows, METRO, "2026-03").rebuilt,
        "taken a few hours after the month's end"
    );
    assert!(row(&rows, METRO, "2026-01").rebuilt, "backfilled two months late");
}

async fn the_running_daemon_takes_the_last_ended_month_as_it_starts(db: &TestDb) {
    population(db).await;
    let clock = Arc::new(FixedClock::at(at("2026-05-01T01:00:00Z")));
    let daemon = Daemon::build(daemon_settings(db), clock).await.unwrap();
    // Stopped at once: the scan loop still finishes what it does at start.
    daemon.run(async {}).await.unwrap();
    let rows = all_rows(db).await;
    let taken: Vec<(&str, i32, bool)> = rows
        .iter()
        .map(|r| (r.kelurahan_code.as_str(), r.month, r.rebuilt))
        .collect();
    let april = month("2026-04").index();
    assert_eq!(taken, [(METRO, april, false), (DANGIN_PURI, april, false)]);
}

/// Sets the clock to `t` and ticks; returns once the scan loop is done with
/// that tick. The channel holds one tick and the loop takes the next only
/// when done with the last, so the third send completes only after the
/// first tick was handled (the two after it, at the same instant, find
/// nothing more to do).
async fn tick_at(clock: &FixedClock, ticks: &tokio::sync::mpsc::Sender<()>, t: &str) {
    clock.set(at(t));
    for _ in 0..3 {
        ticks.send(()).await.expect("the scan loop runs");
    }
}

/// April's snapshot rows as (code, taken at, rebuilt).
async fn april_rows(db: &TestDb) -> Vec<(String, i64, bool)> {
    let april = month("2026-04").index();
    all_rows(db)
        .await
        .into_iter()
        .filter(|r| r.month == april)
        .map(|r| (r.kelurahan_code, r.taken_at, r.rebuilt))
        .collect()
}

async fn a_running_daemon_takes_a_month_end_on_the_first_tick_after_it(db: &TestDb) {
    population(db).await;
    let clock = Arc::new(FixedClock::at(at("2026-04-30T10:00:00Z")));
    let daemon = Daemon::build(daemon_settings(db), clock.clone()).await.unwrap();
    let (ticks, tick_rx) = tokio::sync::mpsc::channel(1);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(daemon.run_on_ticks(tick_rx, async move {
        let _ = stopped.await;
    }));
    tick_at(&clock, &ticks, "2026-04-30T10:00:00Z").await;
    assert!(april_rows(db).await.is_empty(), "April has not ended anywhere");
    // April ends at 15:00 UTC in WIT (no kelurahan here), 16:00 in WITA
    // (Dangin Puri), 17:00 in WIB (Metro).
    tick_at(&clock, &ticks, "2026-04-30T15:30:00Z").await;
    assert!(april_rows(db).await.is_empty(), "neither kelurahan's April has ended");
    tick_at(&clock, &ticks, "2026-04-30T16:30:00Z").await;
    let wita = (DANGIN_PURI.to_string(), at("2026-04-30T16:30:00Z").timestamp(), false);
    assert_eq!(april_rows(db).await, std::slice::from_ref(&wita), "Dangin Puri's only");
    tick_at(&clock, &ticks, "2026-04-30T16:45:00Z").await;
    tick_at(&clock, &ticks, "2026-04-30T17:30:00Z").await;
    let wib = (METRO.to_string(), at("2026-04-30T17:30:00Z").timestamp(), false);
    let both = [wib, wita];
    assert_eq!(april_rows(db).await, both);
    // Later ticks, on 1 May and after May ends, write April no more.
    tick_at(&clock, &ticks, "2026-05-01T03:00:00Z").await;
    tick_at(&clock, &ticks, "2026-05-31T18:00:00Z").await;
    assert_eq!(april_rows(db).await, both, "one row per kelurahan, taken once");
    let may = month("2026-05").index();
    assert_eq!(all_rows(db).await.iter().filter(|r| r.month == may).count(), 2);
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}

async fn a_daemon_that_was_down_rebuilds_the_missed_months_and_marks_them(db: &TestDb) {
    population(db).await;
    let clock = Arc::new(FixedClock::at(at("2026-03-02T00:00:00Z")));
    let daemon = Daemon::build(daemon_settings(db), clock.clone())
        .await
        .unwrap()
        .stepped()
        .unwrap();
    let first = daemon.take_snapshots().await.unwrap();
    assert_eq!(first.written(), 2, "February for both kelurahan");
    // Down from 2 March to 2 June: March and April are rebuilt, May is on time.
    clock.set(at("2026-06-02T00:00:00Z"));
    let later = daemon.take_snapshots().await.unwrap();
    let months: Vec<(String, bool)> = later.months.iter().map(|m| (m.month.to_string(), m.rebuilt)).collect();
    assert_eq!(
        months,
        [
            ("2026-03".to_string(), true),
            ("2026-04".to_string(), true),
            ("2026-05".to_string(), false)
        ]
    );
    assert_eq!(daemon.take_snapshots().await.unwrap().written(), 0, "nothing twice");
    daemon.stop().await;

    let rows = all_rows(db).await;
    assert_eq!(rows.len(), 8);
    let feb = row(&rows, METRO, "2026-02");
    assert!(!feb.rebuilt);
    assert_eq!(
        (feb.participants, feb.active, feb.arrears_1),
        (4, 4, 0),
        "February due 15 February was paid"
    );
    // End of March: all four paid through February (participant 1 paid on 10 April).
    let mar = row(&rows, METRO, "2026-03");
    assert_eq!((mar.participants, mar.arrears_1, mar.arrears_2), (4, 4, 0));
    // End of April: participant 1 is current, three owe March and April.
    let apr = row(&rows, METRO, "2026-04");
    assert_eq!((apr.active, apr.arrears_1, apr.arrears_2), (4, 0, 3));
    let may = row(&rows, METRO, "2026-05");
    assert_eq!((may.active, may.nonactive, may.arrears_3_plus), (1, 3, 3));
    // Dangin Puri's month ends at WITA midnight, an hour before WIB's.
    let wita = row(&rows, DANGIN_PURI, "2026-05");
    assert_eq!(wita.month_end_at, at("2026-05-31T16:00:00Z").timestamp());
    assert_eq!(may.month_end_at, at("2026-05-31T17:00:00Z").timestamp());
    assert!(row(&rows, DANGIN_PURI, "2026-04").rebuilt);
    // The same figures as `status` at the start of 1 June in each kelurahan's
    // own zone (no payment since): one implementation of standing.
    let (due, standing) = rules();
    let june = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let status = status::compute(db.store.as_ref(), &due, &standing, StatusAt::Date(june), None)
        .await
        .unwrap();
    for s in &status.kelurahan {
        let r = row(&rows, &s.code, "2026-05");
        assert_eq!(
            (
                r.participants,
                r.active,
                r.nonactive,
                r.arrears_1,
                r.arrears_2,
                r.arrears_3_plus
            ),
            (s.bpu, s.active, s.nonactive, s.arrears_1, s.arrears_2, s.arrears_3_plus),
            "{}",
            s.code
        );
    }
    assert_eq!(status.kelurahan.len(), 2);
}

/// Snapshots of April and May whose figures differ from what the payment
/// history rebuilds, so the page shows which one it read.
async fn doctored_snapshots(db: &TestDb) {
    let snap = |code: &str, m: &str, participants, active| StandingSnapshot {
        kelurahan_code: code.into(),
        month: month(m).index(),
        participants,
        active,
        nonactive: participants - active,
        arrears_1: 0,
        arrears_2: 0,
        arrears_3_plus: participants - active,
        month_end_at: 0,
        taken_at: 0,
        rebuilt: false,
    };
    let rows = [
        snap(METRO, "2026-04", 4, 1),
        snap(DANGIN_PURI, "2026-04", 1, 1),
        snap(METRO, "2026-05", 4, 2),
        snap(DANGIN_PURI, "2026-05", 1, 1),
    ];
    assert_eq!(db.store.insert_snapshots(&rows).await.unwrap(), 4);
}

async fn the_dashboard_reads_snapshots_and_labels_months_without_one_as_rebuilt(db: &TestDb) {
    population(db).await;
    doctored_snapshots(db).await;
    let clock = Arc::new(FixedClock::at(at("2026-06-10T03:00:00Z")));
    let daemon = Daemon::build(daemon_settings(db), clock).await.unwrap();
    let base = format!("http://{}", daemon.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(daemon.run(async move {
        let _ = stopped.await;
    }));
    let html = reqwest::get(format!("{base}/")).await.unwrap().text().await.unwrap();
    let _ = stop.send(());
    running.await.unwrap().unwrap();

    let chart = crate::browser::element(&html, "chart-history").expect("the 12-month chart");
    // July 2025 to March 2026 have no snapshot: nine rebuilt columns under one label.
    assert_eq!(chart.matches(" rebuilt\"").count(), 9, "{chart}");
    assert_eq!(chart.matches(">direkonstruksi</text>").count(), 1);
    assert!(
        chart.contains("Apr 2026: 40,0% (2 aktif dari 5 peserta)<"),
        "April's snapshot: {chart}"
    );
    assert!(
        chart.contains("Mei 2026: 60,0% (3 aktif dari 5 peserta)<"),
        "May's snapshot"
    );
    assert!(chart.contains("Mar 2026: 100,0% (5 aktif dari 5 peserta), direkonstruksi<"));
    let table = crate::browser::element(&html, "table-history").expect("the table of past months");
    assert_eq!(count_tags(table, "tr"), 13, "a head and twelve months");
    assert_eq!(table.matches("<tr class=\"rebuilt\">").count(), 9);
    assert_eq!(table.matches(">direkonstruksi</td>").count(), 9);
    assert_eq!(table.matches(">dicatat akhir bulan</td>").count(), 2);
    assert_eq!(table.matches(">bulan berjalan</td>").count(), 1);
    assert!(
        html.contains("id=\"note-rebuilt\""),
        "the note says what direkonstruksi means"
    );
}

async fn a_report_for_a_past_month_reads_its_snapshot(db: &TestDb) {
    population(db).await;
    doctored_snapshots(db).await;
    let (due, standing) = rules();
    let now = at("2026-06-10T03:00:00Z");
    let report = |to: &str| {
        let query = ReportQuery {
            from: None,
            to: Some(chrono::NaiveDate::parse_from_str(to, "%Y-%m-%d").unwrap()),
            kelurahan: None,
        };
        let store = db.store.clone();
        let (due, standing) = (due.clone(), standing);
        async move {
            outcomes::compute(store.as_ref(), &due, &standing, &query, &[], now)
                .await
                .unwrap()
        }
    };
    let april = report("2026-04-30").await;
    assert_eq!(april.standing_source, MonthSource::Snapshot);
    assert_eq!((april.total.bpu, april.total.active), (5, 2), "the snapshots' figures");
    assert!(april.standing_rebuilt.is_empty());
    // A period ending mid-month has no snapshot: rebuilt, and named so.
    let mid = report("2026-04-29").await;
    assert_eq!(mid.standing_source, MonthSource::Rebuilt);
    assert_eq!((mid.total.bpu, mid.total.active), (5, 5));
    assert_eq!(mid.standing_rebuilt, [METRO, DANGIN_PURI]);
    let table = pengingat::report::render_outcomes::render_outcome_report(&mid, pengingat::report::OutputFormat::Table);
    assert!(
        table.contains("Metro *") && table.contains("* direkonstruksi"),
        "{table}"
    );
    // The CSV marks the same rows: every kelurahan and the total rebuilt,
    // the rule rows neither; April, read from its snapshots, none.
    assert_eq!(
        rebuilt_column(&mid),
        [
            ("kelurahan", "ya".to_string()),
            ("kelurahan", "ya".to_string()),
            ("total", "ya".to_string())
        ]
    );
    assert_eq!(
        rebuilt_column(&april),
        [
            ("kelurahan", "tidak".to_string()),
            ("kelurahan", "tidak".to_string()),
            ("total", "tidak".to_string())
        ]
    );
    // March has no snapshot of its own either.
    let march = report("2026-03-31").await;
    assert_eq!(march.standing_source, MonthSource::Rebuilt);
}

/// The `tingkat` and `status_direkonstruksi` cells of a report's CSV rows
/// (the rule rows, which have no standing, left out after checking that
/// their cell is empty).
fn rebuilt_column(report: &outcomes::OutcomeReport) -> Vec<(&'static str, String)> {
    let csv = pengingat::report::render_outcomes::render_outcome_report(report, pengingat::report::OutputFormat::Csv);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "status_direkonstruksi")
        .expect("a status_direkonstruksi column");
    let mut marks = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{line}");
        match cells[0] {
            "kelurahan" => marks.push(("kelurahan", cells[col].to_string())),
            "total" => marks.push(("total", cells[col].to_string())),
            _ => assert_eq!(cells[col], "", "{line}"),
        }
    }
    marks
}
