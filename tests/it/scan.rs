//! The scan, on both backends, with fixed instants: hand-computed reminders
//! for each default rule, quiet hours, time zones, holidays, idempotency,
//! catch-up after downtime and schedule edits.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use pengingat::domain::{DueDateRules, EmailAddress, KelurahanCode, PreferredChannel, ReminderStatus, StandingRules};
use pengingat::scan::{self, ScanContext, ScanReport};
use pengingat::schedule::Schedules;
use pengingat::store::{NoProgress, ReminderRecord};

use crate::helpers::*;

both_backends!(
    each_default_rule_fires_on_its_day,
    quiet_hours_and_send_windows_move_the_send_time,
    wita_kelurahan_is_an_hour_ahead_of_wib,
    due_date_rolls_past_weekend_and_holiday,
    second_scan_creates_nothing,
    downtime_catches_up_without_a_flood,
    removed_rule_cancels_pending_and_changed_rule_is_replanned,
);

fn default_schedules() -> Schedules {
    Schedules::load(Path::new("config/schedules.toml")).expect("the shipped schedules load")
}

async fn scan_at(db: &TestDb, schedules: &Schedules, due: &DueDateRules, now: DateTime<Utc>) -> ScanReport {
    let kelurahan = db.store.list_kelurahan().await.unwrap();
    let standing = StandingRules::default();
    let ctx = ScanContext {
        schedules,
        kelurahan: &kelurahan,
        due,
        standing: &standing,
    };
    scan::run(db.store.as_ref(), &ctx, now).await.expect("scan")
}

async fn reminders(db: &TestDb) -> Vec<ReminderRecord> {
    db.store.list_reminders(None, 100_000).await.unwrap()
}

/// (rule, channel, planned_at) of pending reminders.
async fn pending(db: &TestDb) -> BTreeSet<(String, String, DateTime<Utc>)> {
    reminders(db)
        .await
        .into_iter()
        .filter(|r| r.status() == Some(ReminderStatus::Pending))
        .map(|r| (r.rule, r.channel, DateTime::from_timestamp(r.planned_at, 0).unwrap()))
        .collect()
}

/// One self-funded participant of Metro (WIB) with phone and e-mail who
/// wants both channels, paid through June 2025: first unpaid July, due
/// Tuesday 15 July 2025.
async fn one_participant_first_unpaid_july(db: &TestDb) {
    load_test_kelurahan(db).await;
    let mut p = participant(1, "2025-06");
    p.email = Some(EmailAddress::parse("peserta1@example.id").unwrap());
    p.preferred_channel = PreferredChannel::Both;
    db.store
        .upsert_participants(&[p], at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, DateTime<Utc>)> {
    items
        .iter()
        .map(|(r, c, t)| (r.to_string(), c.to_string(), at(t)))
        .collect()
}

async fn each_default_rule_fires_on_its_day(db: &TestDb) {
    let schedules = default_schedules();
    let due = DueDateRules::default();
    // Hand-computed: July 2025 is due Tue 15 July; cover ends on Tue 16 Sept
    // (the day after September's due date, Mon 15 Sept), so "last-chance" is
    // Sat 13 Sept and "nonaktif" Tue 16 Sept. Send times 09:00 WIB (02:00Z),
    // h0 at 08:00 WIB (01:00Z).
    let cases = [
        ("2025-07-08T02:05:00Z", vec![("h-7", "sms", "2025-07-08T02:00:00Z")]),
        ("2025-07-14T02:05:00Z", vec![("h-1", "sms", "2025-07-14T02:00:00Z")]),
        ("2025-07-15T01:05:00Z", vec![("h0", "sms", "2025-07-15T01:00:00Z")]),
        (
            "2025-07-22T02:05:00Z",
            vec![
                ("h+7", "sms", "2025-07-22T02:00:00Z"),
                ("h+7", "email", "2025-07-22T02:00:00Z"),
            ],
        ),
        (
            "2025-08-14T02:05:00Z",
            vec![
                ("h+30", "sms", "2025-08-14T02:00:00Z"),
                ("h+30", "email", "2025-08-14T02:00:00Z"),
            ],
        ),
        (
            "2025-09-13T02:05:00Z",
            vec![
                ("last-chance", "sms", "2025-09-13T02:00:00Z"),
                ("last-chance", "email", "2025-09-13T02:00:00Z"),
            ],
        ),
        (
            "2025-09-16T02:05:00Z",
            vec![
                ("nonaktif", "sms", "2025-09-16T02:00:00Z"),
                ("nonaktif", "email", "2025-09-16T02:00:00Z"),
            ],
        ),
    ];
    one_participant_first_unpaid_july(db).await;
    for (now, expected) in cases {
        // A fresh slate for each day: only that day's rule is pending.
        sqlx_reset(db).await;
        scan_at(db, &schedules, &due, at(now)).await;
        assert_eq!(pending(db).await, set(&expected), "at {now}");
        // Five minutes before, nothing of that day's rule is pending yet.
        sqlx_reset(db).await;
        scan_at(db, &schedules, &due, at(now) - chrono::Duration::minutes(10)).await;
        assert!(
            pending(db).await.iter().all(|(rule, _, _)| rule != expected[0].0),
            "{} must not be due before its time ({now})",
            expected[0].0
        );
    }
}

/// Removes every reminder (and its history), keeping participants.
async fn sqlx_reset(db: &TestDb) {
    for sql in ["DELETE FROM reminder_events", "DELETE FROM reminders"] {
        execute_sql(db, sql).await;
    }
}

fn parse_schedules(text: &str) -> Schedules {
    Schedules::parse(text, Path::new("."), "test-schedules.toml").expect("test schedules")
}

const ONE_RULE: &str = r#"
[scan]
cron = ["0 */15 * * * *"]
time_zone = "Asia/Jakarta"

[quiet_hours]
start = "20:00"
end = "08:00"

[[rule]]
name = "h0"
offset_days = 0
channels = ["sms"]
template = "t"
send_time = "SEND_TIME"
max_late_days = 1

[template.t]
text = "Yth. {name}, iuran {month} {amount} jatuh tempo {due_date}."
"#;

async fn quiet_hours_and_send_windows_move_the_send_time(db: &TestDb) {
    one_participant_first_unpaid_july(db).await;
    let due = DueDateRules::default();
    // 21:30 local is inside quiet hours: planned for 08:00 the next morning.
    let late = parse_schedules(&ONE_RULE.replace("SEND_TIME", "21:30"));
    scan_at(db, &late, &due, at("2025-07-16T01:05:00Z")).await;
    assert_eq!(pending(db).await, set(&[("h0", "sms", "2025-07-16T01:00:00Z")]));
    // Before 08:00 on the 16th it was not due yet.
    sqlx_reset(db).await;
    scan_at(db, &late, &due, at("2025-07-15T23:00:00Z")).await;
    assert!(pending(db).await.is_empty());

    // A kelurahan send window of 10:00-12:00 moves a 09:00 send to 10:00.
    sqlx_reset(db).await;
    let windowed = parse_schedules(&format!(
        "{}\n[kelurahan.\"18.72.01.1001\"]\nsend_window = {{ start = \"10:00\", end = \"12:00\" }}\n",
        ONE_RULE.replace("SEND_TIME", "09:00")
    ));
    scan_at(db, &windowed, &due, at("2025-07-15T02:30:00Z")).await;
    assert!(pending(db).await.is_empty(), "09:30 is before the window opens");
    scan_at(db, &windowed, &due, at("2025-07-15T03:01:00Z")).await;
    assert_eq!(pending(db).await, set(&[("h0", "sms", "2025-07-15T03:00:00Z")]));
}

async fn wita_kelurahan_is_an_hour_ahead_of_wib(db: &TestDb) {
    load_test_kelurahan(db).await;
    let wib = participant(1, "2025-06");
    let mut wita = participant(2, "2025-06");
    wita.kelurahan = KelurahanCode::parse("51.71.01.1001").unwrap();
    db.store
        .upsert_participants(&[wib, wita], at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let schedules = parse_schedules(&ONE_RULE.replace("SEND_TIME", "08:00"));
    let due = DueDateRules::default();
    // 08:30 WITA is 07:30 WIB: only Denpasar's reminder is due.
    scan_at(db, &schedules, &due, at("2025-07-15T00:30:00Z")).await;
    let by_kelurahan: HashMap<String, i64> = reminders(db)
        .await
        .into_iter()
        .map(|r| (r.kelurahan_code, r.planned_at))
        .collect();
    assert_eq!(by_kelurahan.len(), 1);
    assert_eq!(by_kelurahan["51.71.01.1001"], at("2025-07-15T00:00:00Z").timestamp());
    scan_at(db, &schedules, &due, at("2025-07-15T01:05:00Z")).await;
    let by_kelurahan: HashMap<String, i64> = reminders(db)
        .await
        .into_iter()
        .map(|r| (r.kelurahan_code, r.planned_at))
        .collect();
    assert_eq!(by_kelurahan["18.72.01.1001"], at("2025-07-15T01:00:00Z").timestamp());
}

async fn due_date_rolls_past_weekend_and_holiday(db: &TestDb) {
    load_test_kelurahan(db).await;
    // November 2025: the 15th is a Saturday; Monday 17th made a holiday.
    db.store
        .upsert_participants(&[participant(1, "2025-10")], at("2025-11-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let due = DueDateRules::default().with_extra_holidays([NaiveDate::from_ymd_opt(2025, 11, 17).unwrap()]);
    let schedules = parse_schedules(
        &ONE_RULE
            .replace("SEND_TIME", "09:00")
            .replace("max_late_days = 1", "max_late_days = 0"),
    );
    for now in ["2025-11-15T02:05:00Z", "2025-11-17T02:05:00Z"] {
        scan_at(db, &schedules, &due, at(now)).await;
        assert!(reminders(db).await.is_empty(), "not due on {now}");
    }
    scan_at(db, &schedules, &due, at("2025-11-18T02:05:00Z")).await;
    let list = reminders(db).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].planned_at, at("2025-11-18T02:00:00Z").timestamp());
    assert_eq!(
        list[0].occurrence_date,
        pengingat::scan::epoch_day(NaiveDate::from_ymd_opt(2025, 11, 18).unwrap())
    );
}

async fn second_scan_creates_nothing(db: &TestDb) {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (1..=50).map(|i| participant(i, "2025-06")).collect();
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let schedules = default_schedules();
    let due = DueDateRules::default();
    let first = scan_at(db, &schedules, &due, at("2025-07-15T01:05:00Z")).await;
    assert_eq!(first.totals.created, 50);
    let second = scan_at(db, &schedules, &due, at("2025-07-15T01:20:00Z")).await;
    assert_eq!(second.totals.created, 0);
    assert_eq!(second.totals.skipped, 0);

    // Two scans at once (two connections) still create each reminder once.
    let other = pengingat::store::connect(&db.url, &Default::default()).await.unwrap();
    let kelurahan = db.store.list_kelurahan().await.unwrap();
    let standing = StandingRules::default();
    let ctx = ScanContext {
        schedules: &schedules,
        kelurahan: &kelurahan,
        due: &due,
        standing: &standing,
    };
    let later = at("2025-07-22T02:05:00Z");
    let (a, b) = tokio::join!(
        scan::run(db.store.as_ref(), &ctx, later),
        scan::run(other.as_ref(), &ctx, later)
    );
    let created = a.expect("first concurrent scan").totals.created + b.expect("second concurrent scan").totals.created;
    assert_eq!(created, 50, "h+7 by SMS for each of the 50, once");
    let h7: Vec<_> = reminders(db).await.into_iter().filter(|r| r.rule == "h+7").collect();
    assert_eq!(h7.len(), 50);
}

const CATCH_UP: &str = r#"
[scan]
cron = ["0 */15 * * * *"]
time_zone = "Asia/Jakarta"

[[rule]]
name = "early"
offset_days = -3
channels = ["sms"]
template = "t"
send_time = "09:00"
max_late_days = 2

[[rule]]
name = "strict"
offset_days = -3
channels = ["sms"]
template = "t"
send_time = "09:00"
max_late_days = 1

[[rule]]
name = "mid"
offset_days = -1
channels = ["sms"]
template = "t"
send_time = "09:00"
max_late_days = 2

[[rule]]
name = "due"
offset_days = 0
channels = ["sms"]
template = "t"
send_time = "09:00"
max_late_days = 2

[template.t]
text = "Yth. {name}, iuran {month} jatuh tempo {due_date}."
"#;

async fn downtime_catches_up_without_a_flood(db: &TestDb) {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (1..=20).map(|i| participant(i, "2025-06")).collect();
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let schedules = parse_schedules(CATCH_UP);
    let due = DueDateRules::default();
    // Last scan on Thursday 10 July, before any rule's day (12, 14, 15 July).
    assert_eq!(
        scan_at(db, &schedules, &due, at("2025-07-10T02:05:00Z"))
            .await
            .totals
            .created,
        0
    );
    // Down for three days: back on Monday 14 July at 09:05 WIB.
    let report = scan_at(db, &schedules, &due, at("2025-07-14T02:05:00Z")).await;
    assert_eq!(
        report.totals.created, 40,
        "early (2 days late, allowed) and mid (today) for 20"
    );
    assert_eq!(report.totals.skipped, 20, "strict is 2 days late, 1 allowed");
    assert_eq!(report.totals.superseded, 20, "early gives way to the more urgent mid");
    let list = reminders(db).await;
    let status_of = |rule: &str| -> BTreeSet<Option<ReminderStatus>> {
        list.iter().filter(|r| r.rule == rule).map(|r| r.status()).collect()
    };
    assert_eq!(status_of("mid"), BTreeSet::from([Some(ReminderStatus::Pending)]));
    assert_eq!(status_of("early"), BTreeSet::from([Some(ReminderStatus::Superseded)]));
    assert_eq!(status_of("strict"), BTreeSet::from([Some(ReminderStatus::Skipped)]));
    assert!(
        list.iter()
            .filter(|r| r.rule == "strict")
            .all(|r| r.reason.as_deref().is_some_and(|x| x.contains("2 days")))
    );
    assert!(status_of("due").is_empty(), "due is tomorrow");
    // Nobody holds more than one live message per channel per day.
    let mut per_day: HashMap<(i64, String, i32), u32> = HashMap::new();
    for r in list
        .iter()
        .filter(|r| !matches!(r.status(), Some(ReminderStatus::Skipped | ReminderStatus::Superseded)))
    {
        *per_day
            .entry((r.participant_id, r.channel.clone(), r.send_date))
            .or_default() += 1;
    }
    assert!(per_day.values().all(|n| *n == 1), "{per_day:?}");
}

async fn removed_rule_cancels_pending_and_changed_rule_is_replanned(db: &TestDb) {
    one_participant_first_unpaid_july(db).await;
    let due = DueDateRules::default();
    let schedules = parse_schedules(CATCH_UP);
    scan_at(db, &schedules, &due, at("2025-07-12T02:05:00Z")).await;
    // early and strict share 12 July; strict is written later and keeps it.
    assert_eq!(pending(db).await, set(&[("strict", "sms", "2025-07-12T02:00:00Z")]));
    let early = reminders(db).await.into_iter().find(|r| r.rule == "early").unwrap();
    assert_eq!(early.status(), Some(ReminderStatus::Superseded));

    // "strict" removed, "early" moved to H-2 (13 July).
    let edited = parse_schedules(
        &CATCH_UP
            .replace(
                "name = \"strict\"\noffset_days = -3",
                "name = \"strict-2\"\noffset_days = -3\nenabled = false",
            )
            .replace(
                "name = \"early\"\noffset_days = -3",
                "name = \"early\"\noffset_days = -2",
            ),
    );
    let report = scan_at(db, &edited, &due, at("2025-07-12T03:00:00Z")).await;
    assert_eq!(
        report.totals.cancelled, 1,
        "strict cancelled; early's superseded day released"
    );
    let list = reminders(db).await;
    let strict = list.iter().find(|r| r.rule == "strict").unwrap();
    assert_eq!(strict.status(), Some(ReminderStatus::Cancelled));
    assert_eq!(
        strict.reason.as_deref(),
        Some("rule strict was removed from the schedules")
    );
    assert!(pending(db).await.is_empty(), "early's new day (13 July) has not come");
    scan_at(db, &edited, &due, at("2025-07-13T02:05:00Z")).await;
    assert_eq!(pending(db).await, set(&[("early", "sms", "2025-07-13T02:00:00Z")]));
    // A second scan the same day changes nothing.
    assert_eq!(
        scan_at(db, &edited, &due, at("2025-07-13T02:20:00Z"))
            .await
            .totals
            .created,
        0
    );
}
