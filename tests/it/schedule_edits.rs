//! Schedule edits against pending reminders, and the urgency order of one
//! participant's day, on both backends with fixed instants: every field
//! that decides when or whether a pending reminder goes out re-plans it on
//! the next scan; the most urgent reminder of a day is the one whose rule
//! falls latest for the participant's first unpaid month; rules anchored on
//! the non-active day follow `standing.nonactive_after_months`.

use std::path::Path;

use chrono::{DateTime, Utc};
use pengingat::domain::{DueDateRules, KelurahanCode, ReminderStatus, StandingRules};
use pengingat::scan::{self, PlanMode, ScanContext, ScanReport};
use pengingat::schedule::Schedules;
use pengingat::store::{NoProgress, ReminderRecord};

use crate::helpers::*;

both_backends!(
    a_send_time_edit_replans_pending_reminders,
    send_window_edits_replan_pending_reminders,
    offset_and_filter_edits_move_or_cancel_pending_reminders,
    the_latest_rule_date_wins_the_day,
    on_the_same_date_the_rule_written_later_wins,
    nonactive_rules_follow_the_nonactive_threshold,
);

fn shipped_text() -> String {
    std::fs::read_to_string("config/schedules.toml").expect("the shipped schedules")
}

/// Schedules from `text`, with template files resolved under `config/`.
fn schedules(text: &str) -> Schedules {
    Schedules::parse(text, Path::new("config"), "test-schedules.toml").expect("test schedules")
}

async fn scan_with(db: &TestDb, s: &Schedules, nonactive_after_months: u32, now: &str) -> ScanReport {
    let kelurahan = db.store.list_kelurahan().await.unwrap();
    let due = DueDateRules::default();
    let standing = StandingRules { nonactive_after_months };
    let ctx = ScanContext {
        schedules: s,
        kelurahan: &kelurahan,
        due: &due,
        standing: &standing,
    };
    scan::run(db.store.as_ref(), &ctx, at(now)).await.expect("scan")
}

async fn scan(db: &TestDb, s: &Schedules, now: &str) -> ScanReport {
    scan_with(db, s, 3, now).await
}

async fn reminders(db: &TestDb) -> Vec<ReminderRecord> {
    let mut list = db.store.list_reminders(None, 10_000).await.unwrap();
    list.sort_by_key(|r| r.id);
    list
}

/// The reminders of one participant (by serial) for `rule`.
async fn of(db: &TestDb, serial: u32, rule: &str) -> Vec<ReminderRecord> {
    let nik = nik(serial);
    reminders(db)
        .await
        .into_iter()
        .filter(|r| r.nik == nik && r.rule == rule)
        .collect()
}

/// The one pending reminder of a participant for `rule`.
async fn pending_of(db: &TestDb, serial: u32, rule: &str) -> ReminderRecord {
    let pending: Vec<_> = of(db, serial, rule)
        .await
        .into_iter()
        .filter(|r| r.status() == Some(ReminderStatus::Pending))
        .collect();
    assert_eq!(
        pending.len(),
        1,
        "one pending {rule} for participant {serial}: {pending:?}"
    );
    pending.into_iter().next().unwrap()
}

fn nik(serial: u32) -> String {
    format!("187201120590{serial:04}")
}

fn utc(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

/// Participants paid through `paid_through`, by serial, in `kelurahan`.
async fn participants_in(db: &TestDb, kelurahan: &str, serials: &[u32], paid_through: &str) {
    let rows: Vec<_> = serials
        .iter()
        .map(|s| {
            let mut p = participant(*s, paid_through);
            p.kelurahan = KelurahanCode::parse(kelurahan).unwrap();
            p
        })
        .collect();
    db.store
        .upsert_participants(&rows, at("2026-06-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
}

/// The shipped schedules with lines of the h-7 rule replaced.
fn h7_edited(edits: &[(&str, &str)]) -> String {
    let text = shipped_text();
    let start = text.find("name = \"h-7\"").expect("the h-7 rule");
    let end = start + text[start..].find("[[rule]]").expect("a rule after h-7");
    let mut h7 = text[start..end].to_string();
    for (from, to) in edits {
        assert!(h7.contains(from), "{from:?} is in the h-7 rule");
        h7 = h7.replace(from, to);
    }
    format!("{}{h7}{}", &text[..start], &text[end..])
}

// ------------------------------------------------------------------------------------------
// Re-planning on an edit.

async fn a_send_time_edit_replans_pending_reminders(db: &TestDb) {
    // One participant of Yosomulyo paid through June 2026: July is due
    // Wednesday 15 July, so h-7 falls on Wednesday 8 July, 09:00 WIB.
    load_test_kelurahan(db).await;
    participants_in(db, "18.72.01.1005", &[1], "2026-06").await;
    let shipped = schedules(&shipped_text());
    scan(db, &shipped, "2026-07-08T02:30:00Z").await;
    let h7 = pending_of(db, 1, "h-7").await;
    assert_eq!(utc(h7.planned_at), at("2026-07-08T02:00:00Z"));
    assert_eq!(h7.expires_at.map(utc), Some(at("2026-07-08T12:00:00Z")));

    // send_time 15:00: the same reminder is now planned for 15:00 WIB and
    // expires ten hours after that.
    let later = schedules(&h7_edited(&[("send_time = \"09:00\"", "send_time = \"15:00\"")]));
    let report = scan(db, &later, "2026-07-08T02:31:00Z").await;
    assert_eq!(report.totals.created, 0);
    let moved = pending_of(db, 1, "h-7").await;
    assert_eq!(moved.id, h7.id, "re-planned in place, not replaced");
    assert_eq!(utc(moved.planned_at), at("2026-07-08T08:00:00Z"));
    assert_eq!(moved.expires_at.map(utc), Some(at("2026-07-08T18:00:00Z")));
    assert_eq!(moved.send_date, h7.send_date);
    // A second scan with the same schedules changes nothing more.
    scan(db, &later, "2026-07-08T02:46:00Z").await;
    assert_eq!(pending_of(db, 1, "h-7").await, moved);

    // expire_after_hours 4: the expiry follows.
    let sooner = schedules(&h7_edited(&[
        ("send_time = \"09:00\"", "send_time = \"15:00\""),
        ("expire_after_hours = 10", "expire_after_hours = 4"),
    ]));
    scan(db, &sooner, "2026-07-08T03:00:00Z").await;
    let expiring = pending_of(db, 1, "h-7").await;
    assert_eq!(utc(expiring.planned_at), at("2026-07-08T08:00:00Z"));
    assert_eq!(expiring.expires_at.map(utc), Some(at("2026-07-08T12:00:00Z")));

    // Back to 09:00, which has passed: due at once, as first planned.
    scan(db, &shipped, "2026-07-08T03:15:00Z").await;
    let back = pending_of(db, 1, "h-7").await;
    assert_eq!(utc(back.planned_at), at("2026-07-08T02:00:00Z"));
    assert_eq!(back.expires_at.map(utc), Some(at("2026-07-08T12:00:00Z")));
    assert_eq!(of(db, 1, "h-7").await.len(), 1, "never a second h-7 reminder");
    assert_eq!(
        replan_notes(db, h7.id).await,
        [
            "re-planned after a schedule edit: planned 2026-07-08 15:00 instead of 2026-07-08 09:00 local time",
            "re-planned after a schedule edit: expires 2026-07-08 19:00 instead of 2026-07-09 01:00 local time",
            "re-planned after a schedule edit: planned 2026-07-08 09:00 instead of 2026-07-08 15:00 local time",
        ],
        "each re-plan is kept in the reminder's history"
    );
}

/// The reasons of a reminder's history entries that are re-plans (status
/// stays pending).
async fn replan_notes(db: &TestDb, id: i64) -> Vec<String> {
    let sql = "SELECT reason FROM reminder_events WHERE reminder_id = $1 AND status = 'pending' ORDER BY id";
    let rows: Vec<(Option<String>,)> = if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let rows = sqlx::query_as(sql).bind(id).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let rows = sqlx::query_as(sql).bind(id).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    };
    rows.into_iter().map(|(r,)| r.unwrap_or_default()).collect()
}

async fn send_window_edits_replan_pending_reminders(db: &TestDb) {
    // Participant 1 in Yosomulyo, participant 2 in Metro (no override).
    load_test_kelurahan(db).await;
    participants_in(db, "18.72.01.1005", &[1], "2026-06").await;
    participants_in(db, "18.72.01.1001", &[2], "2026-06").await;
    scan(db, &schedules(&shipped_text()), "2026-07-08T02:30:00Z").await;
    for serial in [1, 2] {
        assert_eq!(
            utc(pending_of(db, serial, "h-7").await.planned_at),
            at("2026-07-08T02:00:00Z")
        );
    }

    // Yosomulyo's own window opens at 14:00: only its reminder moves.
    let kelurahan_window = format!(
        "{}\n[kelurahan.\"18.72.01.1005\"]\nsend_window = {{ start = \"14:00\", end = \"17:00\" }}\n",
        shipped_text()
    );
    scan(db, &schedules(&kelurahan_window), "2026-07-08T02:40:00Z").await;
    let yosomulyo = pending_of(db, 1, "h-7").await;
    assert_eq!(utc(yosomulyo.planned_at), at("2026-07-08T07:00:00Z"));
    assert_eq!(yosomulyo.expires_at.map(utc), Some(at("2026-07-08T17:00:00Z")));
    assert_eq!(
        utc(pending_of(db, 2, "h-7").await.planned_at),
        at("2026-07-08T02:00:00Z")
    );

    // The default window opens at 16:00: Metro's moves; Yosomulyo keeps its own.
    let default_window = kelurahan_window.replacen(
        "[send_window]\nstart = \"08:00\"",
        "[send_window]\nstart = \"16:00\"",
        1,
    );
    assert_ne!(default_window, kelurahan_window);
    scan(db, &schedules(&default_window), "2026-07-08T02:50:00Z").await;
    assert_eq!(
        utc(pending_of(db, 2, "h-7").await.planned_at),
        at("2026-07-08T09:00:00Z")
    );
    assert_eq!(
        utc(pending_of(db, 1, "h-7").await.planned_at),
        at("2026-07-08T07:00:00Z")
    );
}

async fn offset_and_filter_edits_move_or_cancel_pending_reminders(db: &TestDb) {
    load_test_kelurahan(db).await;
    participants_in(db, "18.72.01.1005", &[1], "2026-06").await;
    let shipped = schedules(&shipped_text());
    scan(db, &shipped, "2026-07-08T02:30:00Z").await;
    let h7 = pending_of(db, 1, "h-7").await;

    // h-5: the day moves to Friday 10 July; the reminder waits for it.
    let h5 = schedules(&h7_edited(&[("offset_days = -7", "offset_days = -5")]));
    scan(db, &h5, "2026-07-08T02:35:00Z").await;
    let moved = pending_of(db, 1, "h-7").await;
    assert_eq!(moved.id, h7.id);
    assert_eq!(utc(moved.planned_at), at("2026-07-10T02:00:00Z"));
    assert_eq!(moved.occurrence_date, h7.occurrence_date + 2);
    assert_eq!(moved.send_date, h7.send_date + 2);

    // Collective payers only: this self-paying participant's reminder is
    // cancelled with the reason.
    let collective = schedules(&h7_edited(&[
        ("offset_days = -7", "offset_days = -5"),
        ("funding = [\"self\", \"collective\"]", "funding = [\"collective\"]"),
    ]));
    let report = scan(db, &collective, "2026-07-08T02:40:00Z").await;
    assert_eq!(report.totals.cancelled, 1);
    let cancelled = of(db, 1, "h-7").await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].status(), Some(ReminderStatus::Cancelled));
    let reason = cancelled[0].reason.clone().unwrap_or_default();
    assert!(reason.contains("h-7") && reason.contains("funding"), "{reason}");

    // Admitted again: planned anew once its time comes, on 10 July.
    scan(db, &h5, "2026-07-08T02:45:00Z").await;
    assert!(
        of(db, 1, "h-7")
            .await
            .iter()
            .all(|r| r.status() != Some(ReminderStatus::Pending))
    );
    scan(db, &h5, "2026-07-10T02:05:00Z").await;
    assert_eq!(
        utc(pending_of(db, 1, "h-7").await.planned_at),
        at("2026-07-10T02:00:00Z")
    );

    // h-10 puts the day on 5 July, five days ago, past max_late_days (3):
    // cancelled, never sent late.
    let h10 = schedules(&h7_edited(&[("offset_days = -7", "offset_days = -10")]));
    scan(db, &h10, "2026-07-10T02:10:00Z").await;
    let list = of(db, 1, "h-7").await;
    assert!(
        list.iter().all(|r| r.status() == Some(ReminderStatus::Cancelled)),
        "{list:?}"
    );
    let last = list.last().unwrap().reason.clone().unwrap_or_default();
    assert!(last.contains("max_late_days"), "{last}");
}

// ------------------------------------------------------------------------------------------
// Urgency: the latest real date wins a participant's channel for a day.

const URGENCY: &str = r#"
[scan]
cron = ["0 */15 * * * *"]
time_zone = "Asia/Jakarta"

[[rule]]
name = "h+30"
offset_days = 30
channels = ["sms"]
template = "t"
max_late_days = 5

[[rule]]
name = "h+60"
offset_days = 60
channels = ["sms"]
template = "t"
max_late_days = 5

[[rule]]
name = "h+90"
offset_days = 90
channels = ["sms"]
template = "t"
max_late_days = 5

[[rule]]
name = "last-chance"
anchor = "nonactive"
offset_days = -3
channels = ["sms"]
template = "t"
max_late_days = 2

[[rule]]
name = "nonaktif"
anchor = "nonactive"
offset_days = 0
channels = ["sms"]
template = "t"
max_late_days = 7

[template.t]
text = "Yth. {name}, iuran {month} belum dibayar."
"#;

/// (rule, status) of one participant's reminders.
async fn statuses_of(db: &TestDb, serial: u32) -> Vec<(String, ReminderStatus)> {
    let nik = nik(serial);
    let mut v: Vec<_> = reminders(db)
        .await
        .into_iter()
        .filter(|r| r.nik == nik)
        .filter_map(|r| r.status().map(|s| (r.rule, s)))
        .filter(|(_, s)| *s != ReminderStatus::Skipped)
        .collect();
    v.sort();
    v
}

async fn the_latest_rule_date_wins_the_day(db: &TestDb) {
    // The daemon was down and comes back on Saturday 15 August 2026 at 09:05
    // WIB. August's due date rolls to Monday 17 August, so cover ends on
    // Tuesday 18 August for someone whose last unpaid month of the
    // threshold is August, and "last-chance" falls on Saturday 15 August.
    // A due-date rule of the same participant fell a day or two earlier and
    // is caught up on the same day: the later date, last-chance, wins.
    //   threshold 2, first unpaid July (due Wed 15 July): h+30 is Fri 14 Aug;
    //   threshold 3, first unpaid June (due Mon 15 June): h+60 is Fri 14 Aug;
    //   threshold 4, first unpaid May (due Fri 15 May): h+90 is Thu 13 Aug.
    load_test_kelurahan(db).await;
    let s = schedules(URGENCY);
    let mut wrong = Vec::new();
    for (serial, threshold, paid_through, caught_up) in [
        (2, 2, "2026-06", "h+30"),
        (3, 3, "2026-05", "h+60"),
        (4, 4, "2026-04", "h+90"),
    ] {
        participants_in(db, "18.72.01.1001", &[serial], paid_through).await;
        scan_with(db, &s, threshold, "2026-08-15T02:05:00Z").await;
        let expected = vec![
            (caught_up.to_string(), ReminderStatus::Superseded),
            ("last-chance".to_string(), ReminderStatus::Pending),
        ];
        let got = statuses_of(db, serial).await;
        if got != expected {
            wrong.push(format!("threshold {threshold}: {got:?}"));
        }
        delete_reminders(db).await;
    }
    assert!(
        wrong.is_empty(),
        "last-chance is the latest date of the day: {wrong:#?}"
    );
}

async fn on_the_same_date_the_rule_written_later_wins(db: &TestDb) {
    // Threshold 2, first unpaid April 2027 (due Thursday 15 April): h+30 is
    // Saturday 15 May; May's due date rolls to Monday 17 May, so cover ends
    // on 18 May and last-chance is Saturday 15 May too. Same date: the rule
    // written later in the file (last-chance) wins.
    load_test_kelurahan(db).await;
    participants_in(db, "18.72.01.1001", &[5], "2027-03").await;
    let s = schedules(URGENCY);

    // The preview of that day counts only last-chance for them.
    let kelurahan = db.store.list_kelurahan().await.unwrap();
    let due = DueDateRules::default();
    let standing = StandingRules {
        nonactive_after_months: 2,
    };
    let day_end = at("2027-05-15T14:59:59Z");
    let plan = scan::plan::plan(&s, &kelurahan, &due, &standing, day_end, None, PlanMode::Preview);
    let mut previewed = Vec::new();
    for batch in &plan.batches {
        for count in db.store.preview_reminders(batch).await.unwrap() {
            previewed.push((batch.rule.clone(), count.participants));
        }
    }
    assert_eq!(previewed, vec![("last-chance".to_string(), 1)]);

    let report = scan_with(db, &s, 2, "2027-05-15T02:05:00Z").await;
    assert_eq!(report.totals.superseded, 1);
    assert_eq!(
        statuses_of(db, 5).await,
        vec![
            ("h+30".to_string(), ReminderStatus::Superseded),
            ("last-chance".to_string(), ReminderStatus::Pending),
        ]
    );
}

/// Removes every reminder (and its history), keeping participants.
async fn delete_reminders(db: &TestDb) {
    for sql in ["DELETE FROM reminder_events", "DELETE FROM reminders"] {
        execute_sql(db, sql).await;
    }
}

// ------------------------------------------------------------------------------------------
// The shipped non-active rules under every threshold.

async fn nonactive_rules_follow_the_nonactive_threshold(db: &TestDb) {
    // First unpaid July 2026 (due Wednesday 15 July). With threshold N the
    // N-th unpaid month is due on (2) Mon 17 Aug, (3) Tue 15 Sep, (4) Thu
    // 15 Oct; last-chance falls three days before cover ends, nonaktif on
    // the day it ends, each at 09:00 WIB.
    load_test_kelurahan(db).await;
    participants_in(db, "18.72.01.1001", &[1], "2026-06").await;
    let shipped = schedules(&shipped_text());
    let mut silent = Vec::new();
    for (threshold, last_chance, nonaktif) in [
        (2, "2026-08-15T02:05:00Z", "2026-08-18T02:05:00Z"),
        (3, "2026-09-13T02:05:00Z", "2026-09-16T02:05:00Z"),
        (4, "2026-10-13T02:05:00Z", "2026-10-16T02:05:00Z"),
    ] {
        for (rule, now) in [("last-chance", last_chance), ("nonaktif", nonaktif)] {
            delete_reminders(db).await;
            scan_with(db, &shipped, threshold, now).await;
            let planned = at(now) - chrono::Duration::minutes(5);
            let fired = of(db, 1, rule)
                .await
                .iter()
                .any(|r| r.status() == Some(ReminderStatus::Pending) && utc(r.planned_at) == planned);
            if !fired {
                silent.push(format!("threshold {threshold}: {rule} on {planned}"));
            }
        }
    }
    assert!(silent.is_empty(), "each fires on its day: {silent:#?}");
}
