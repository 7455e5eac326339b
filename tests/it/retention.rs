//! Retention on both backends: reminders of old contribution months go with
//! their receipts and status history, reports of those months give the same
//! figures afterwards, and nothing younger than the age goes: months still
//! in use, recent history, payments.

use chrono::{DateTime, Utc};
use pengingat::domain::{Channel, DueDateRules};
use pengingat::report::effect;
use pengingat::report::outcomes::{OutcomeReport, ReportQuery};
use pengingat::retention::{self, RetentionContext};
use pengingat::schedule::Schedules;
use pengingat::seed::effect::Behaviour;
use pengingat::store::{NewReceipt, ReceiptState};

use crate::app::TestDaemon;
use crate::helpers::*;

both_backends!(
    reports_of_retired_months_keep_their_figures,
    the_holdout_effect_of_retired_months_is_kept,
    months_in_use_recent_history_and_payments_stay,
    the_daemon_runs_retention_on_its_own,
);

/// Two years and a quarter after the population's July 2025.
const LATER: &str = "2027-09-15T00:00:00Z";

/// The July 2025 report (a whole WIB month) at `now`.
async fn july_report(db: &TestDb, now: DateTime<Utc>) -> OutcomeReport {
    let query = ReportQuery {
        from: Some("2025-07-01".parse().unwrap()),
        to: Some("2025-07-31".parse().unwrap()),
        kelurahan: None,
    };
    crate::outcomes::report_at(db, query, now).await
}

/// Retention with `months` at `now`, with the shipped schedules or `schedules`.
async fn retain(db: &TestDb, schedules: &Schedules, months: u32, now: DateTime<Utc>) -> retention::RetentionReport {
    let kelurahan = db.store.list_kelurahan().await.unwrap();
    let due = DueDateRules::default();
    let standing = pengingat::domain::StandingRules::default();
    let ctx = RetentionContext {
        kelurahan: &kelurahan,
        schedules,
        due: &due,
        standing: &standing,
    };
    retention::run(db.store.as_ref(), ctx, months, now).await.unwrap()
}

/// One number from the test database.
async fn count(db: &TestDb, sql: &'static str) -> i64 {
    if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

async fn reports_of_retired_months_keep_their_figures(db: &TestDb) {
    crate::outcomes::population(db).await;
    let later = at(LATER);
    let before = july_report(db, later).await;
    assert_eq!(before.total.effect.sms.sent, 3, "the population sent three SMS in July");
    assert_eq!(before.total.effect.converted, 2);

    let deletions = db.store.reminder_deletions().await.unwrap();
    let done = retain(db, &Schedules::shipped(), 24, later).await;
    assert_eq!(done.before_month.map(|m| m.to_string()).as_deref(), Some("2025-09"));
    assert_eq!(done.reminders, 4, "every reminder of July 2025 and before");
    assert!(
        db.store.reminder_deletions().await.unwrap() > deletions,
        "the deletion is counted, so the daemons' scans stop trusting their memory"
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM reminders").await, 0);
    assert_eq!(count(db, "SELECT COUNT(*) FROM reminder_events").await, 0);
    assert_eq!(count(db, "SELECT COUNT(*) FROM receipts").await, 0);
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM payments").await,
        2,
        "payments are never deleted"
    );

    let after = july_report(db, later).await;
    assert_eq!(after, before, "the retired month reads the same from its totals");

    // A second run finds nothing more and adds nothing twice.
    assert_eq!(retain(db, &Schedules::shipped(), 24, later).await.reminders, 0);
    assert_eq!(july_report(db, later).await, before);
}

async fn the_holdout_effect_of_retired_months_is_kept(db: &TestDb) {
    let behaviour = Behaviour {
        base_per_mille: 450,
        lift_per_mille: 350,
    };
    pengingat::demo::effect_run::run(db.store.as_ref(), 1, 200, 0.2, behaviour)
        .await
        .expect("run");
    // The reminders nobody sent expired: the month is over.
    execute_sql(
        db,
        "UPDATE reminders SET status = 'expired', reason = 'expired', updated_at = 1753920000 WHERE status = 'pending'",
    )
    .await;
    let schedules = Schedules::shipped_with("[holdout]\nfraction = 0.2\nsalt = \"simulasi-1\"\n").unwrap();
    let kelurahan = db.store.list_kelurahan().await.unwrap();
    let due = DueDateRules::default();
    let later = at(LATER);
    let effect_at = |now| effect::compute(db.store.as_ref(), &kelurahan, &schedules, &due, None, now);
    let before = effect_at(later).await.unwrap();
    let total = before.lines.iter().find(|l| l.kelurahan_code.is_none()).unwrap();
    assert_eq!(total.by_due.unwrap().held_out.total, 40, "20% of 200");

    let done = retain(db, &schedules, 24, later).await;
    assert!(done.reminders >= 200, "{done:?}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM reminders").await, 0);
    let after = effect_at(later).await.unwrap();
    assert_eq!(after, before, "every line, kelurahan and total, from the kept totals");
}

async fn months_in_use_recent_history_and_payments_stay(db: &TestDb) {
    // July 2025's history gets a partition of its own on PostgreSQL, to be dropped whole.
    db.store
        .prepare_history(&[at("2025-07-01T00:00:00Z").timestamp()])
        .await
        .unwrap();
    crate::outcomes::population(db).await;
    // Metro's earliest h+7 month gets a second reminder, waiting for 2030: that participant's
    // month stays whole.
    execute_sql(
        db,
        "INSERT INTO reminders (participant_id, kelurahan_code, contribution_month, rule, rule_offset, channel, \
         status, occurrence_date, send_date, planned_at, created_at, updated_at) \
         SELECT participant_id, kelurahan_code, contribution_month, 'h+30', 30, channel, 'pending', \
         occurrence_date, send_date, 1900000000, created_at, updated_at FROM reminders \
         WHERE rule = 'h+7' AND kelurahan_code = '18.72.01.1001' ORDER BY contribution_month LIMIT 1",
    )
    .await;
    // A recent reminder of September 2027 in Yosomulyo, due on the 8th: sent and delivered.
    execute_sql(
        db,
        "INSERT INTO reminders (participant_id, kelurahan_code, contribution_month, rule, rule_offset, channel, \
         status, occurrence_date, send_date, planned_at, created_at, updated_at) \
         SELECT participant_id, kelurahan_code, 24332, 'h-7', -7, channel, 'pending', \
         21069, 21069, 1820368800, 1820368800, 1820368800 FROM reminders \
         WHERE kelurahan_code = '18.72.01.1005' LIMIT 1",
    )
    .await;
    let claimed = db
        .store
        .claim_due(at("2027-09-08T02:00:00Z"), Channel::Sms, 10, "w")
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "only the September reminder is due");
    let recent = claimed[0].id;
    db.store
        .finish_attempts("w", &[(recent, crate::outcomes::sent())], at("2027-09-08T02:00:00Z"))
        .await
        .unwrap();
    let receipt = NewReceipt {
        reminder_id: Some(recent),
        provider_message_id: None,
        state: ReceiptState::Delivered,
        detail: None,
        raw: "uji",
    };
    db.store
        .record_receipt("kannel", &receipt, at("2027-09-08T02:01:00Z"))
        .await
        .unwrap();
    let events_before = count(db, "SELECT COUNT(*) FROM reminder_events").await;
    let recent_events = count(db, "SELECT COUNT(*) FROM reminder_events WHERE at >= 1819756800").await;
    assert!(recent_events >= 2, "sending, sent, delivered");
    assert!(events_before > recent_events);

    let done = retain(db, &Schedules::shipped(), 24, at(LATER)).await;
    assert_eq!(done.reminders, 3, "the population's four, but the month still in use");

    let mut left: Vec<(String, String)> = db
        .store
        .list_reminders(None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.rule,
                pengingat::domain::ContributionMonth::from_index(r.contribution_month).to_string(),
            )
        })
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ("h+30".to_string(), "2025-05".to_string()),
            ("h+7".to_string(), "2025-05".to_string()),
            ("h-7".to_string(), "2027-09".to_string()),
        ],
        "a month with a reminder still waiting stays whole, and recent months stay"
    );
    // 1 September 2025 00:00 UTC: the history cutoff.
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM reminder_events WHERE at < 1756684800").await,
        0
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM reminder_events").await,
        recent_events,
        "recent history stays"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM receipts").await,
        1,
        "the recent receipt stays"
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM payments").await, 2);
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM payments WHERE reminder_id IS NOT NULL").await,
        0,
        "both credited reminders were retired; the payments stay, unlinked"
    );
    if !db.url.starts_with("sqlite") {
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM pg_class WHERE relname = 'reminder_events_p202507'"
            )
            .await,
            0,
            "July 2025's history partition is dropped whole"
        );
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM reminder_events_default").await,
            recent_events,
            "September 2027 had no partition: its rows stay in the DEFAULT one, the older ones went"
        );
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM pg_class WHERE relname = 'reminder_events_p202712'"
            )
            .await,
            1,
            "the months to come get their partitions"
        );
    }
}

async fn the_daemon_runs_retention_on_its_own(db: &TestDb) {
    crate::outcomes::population(db).await;
    let mut settings = crate::daemon::daemon_settings(db);
    settings.retention.months = 3;
    // December 2025: with 3 months kept, the months before September 2025 go.
    let clock = std::sync::Arc::new(pengingat::clock::FixedClock::at(at("2025-12-20T03:00:00Z")));
    let daemon = TestDaemon::start(settings, clock).await;
    let september = month("2025-09").index();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let old_left = loop {
        let reminders = db.store.list_reminders(None, 1_000).await.unwrap();
        let old = reminders.iter().filter(|r| r.contribution_month < september).count();
        if old == 0 || std::time::Instant::now() > deadline {
            break old;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    daemon.stop().await;
    assert_eq!(old_left, 0, "the July 2025 reminders were retired in the background");
    let after = july_report(db, at("2025-12-20T03:00:00Z")).await;
    assert_eq!(after.total.effect.sms.sent, 3, "and July still reports its three SMS");
}
