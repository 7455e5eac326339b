//! Delivery through the dispatcher: real HTTP to the mock SMS gateway on
//! loopback, on both backends, with fixed instants.

mod config_errors;
mod end_to_end;
mod graceful_stop;
mod leases;
mod out_of_service;
mod outage;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use pengingat::channels::{GatewayPool, RetryPolicy};
use pengingat::clock::FixedClock;
use pengingat::config::delivery::{DeliverySettings, GatewaySettings, Preset, RetrySettings, SmsSettings};
use pengingat::dispatch::Dispatcher;
use pengingat::domain::{Channel, DueDateRules, Nik, ReminderStatus, StandingRules};
use pengingat::schedule::Schedules;
use pengingat::store::{NoProgress, ReminderRecord};
use serde_json::json;

use crate::channels::{Secrets, gateway, mock_config};
use crate::helpers::*;
use crate::mock_gateway::Gateway;

both_backends!(
    every_due_reminder_is_sent_once_with_its_encoding,
    a_gateway_outage_is_retried_until_every_reminder_is_sent_once,
    retry_after_is_honoured_and_permanent_refusals_are_not_retried,
    the_second_gateway_takes_over_when_the_first_is_down,
    expired_reminders_are_not_sent,
    payment_or_opt_out_after_the_scan_cancels_the_send,
    two_dispatchers_send_each_reminder_exactly_once,
    batches_in_flight_send_each_reminder_exactly_once,
    email_reminders_arrive_at_a_real_smtp_server,
);

/// 09:00:30 WIB on Tuesday 15 July 2025: h0's reminders (planned 09:00) are due.
pub const SEND_AT: &str = "2025-07-15T02:00:30Z";

pub const SCHEDULES: &str = r#"
[scan]
cron = ["0 */15 * * * *"]
time_zone = "Asia/Jakarta"

[[rule]]
name = "h0"
offset_days = 0
channels = ["sms"]
template = "t"
send_time = "09:00"
expire_after_hours = 10

[template.t]
text = "Yth. {name}, iuran BPJS Ketenagakerjaan {month} sebesar {amount} jatuh tempo hari ini {due_date}."
"#;

pub fn schedules() -> Schedules {
    Schedules::parse(SCHEDULES, Path::new("."), "test-schedules.toml").unwrap()
}

/// A participant whose NIK and phone are unique for `i` below 200,000.
pub fn numbered_participant(i: u32) -> pengingat::domain::NewParticipant {
    let mut p = participant(1, "2025-06");
    p.nik = Nik::parse(&format!("187201{:02}0590{:04}", 10 + i / 9_999, i % 9_999 + 1)).unwrap();
    p.phone = Some(pengingat::domain::PhoneNumber::parse(&format!("0813{:08}", i)).unwrap());
    p.name = pengingat::domain::ParticipantName::parse(&format!("Peserta {i}")).unwrap();
    p
}

/// `n` participants, each with a pending h0 SMS reminder planned for 09:00 WIB.
pub async fn due_reminders(db: &TestDb, n: u32) {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (0..n).map(numbered_participant).collect();
    for chunk in rows.chunks(5_000) {
        db.store
            .upsert_participants(chunk, at("2025-07-01T00:00:00Z"), &NoProgress)
            .await
            .unwrap();
    }
    let batch = h0_july(Channel::Sms);
    let created = db
        .store
        .insert_reminders(&batch, at("2025-07-15T01:59:00Z"))
        .await
        .unwrap()
        .created;
    assert_eq!(created, u64::from(n));
}

/// A dispatcher on `db` sending through `gateways` on a fixed clock.
fn dispatcher(db: &TestDb, gateways: Vec<GatewaySettings>, clock: &FixedClock, worker: &str) -> Dispatcher {
    let sms = SmsSettings {
        gateways: gateways.clone(),
        retry: RetrySettings::default(),
    };
    let pool = GatewayPool::from_settings(&sms, "http://127.0.0.1:9", crate::mock_gateway::http()).unwrap();
    let (_, schedules) = tokio::sync::watch::channel(Arc::new(schedules()));
    Dispatcher {
        store: db.store.clone(),
        sms: Some(Arc::new(pool)),
        email: None,
        schedules,
        due: DueDateRules::default(),
        standing: StandingRules::default(),
        settings: DeliverySettings {
            batch_size: 200,
            concurrency: 16,
            ..DeliverySettings::default()
        },
        retry: RetryPolicy::from_settings(&RetrySettings::default()),
        clock: Arc::new(clock.clone()),
        worker: worker.to_string(),
        presets: gateways.iter().map(|g| (g.name.clone(), g.preset)).collect(),
        kelurahan: Default::default(),
        metrics: Default::default(),
    }
}

pub async fn reminders(db: &TestDb) -> Vec<ReminderRecord> {
    db.store.list_reminders(None, 1_000_000).await.unwrap()
}

fn statuses(list: &[ReminderRecord]) -> HashMap<ReminderStatus, usize> {
    let mut m = HashMap::new();
    for r in list {
        *m.entry(r.status().unwrap()).or_default() += 1;
    }
    m
}

async fn every_due_reminder_is_sent_once_with_its_encoding(db: &TestDb) {
    due_reminders(db, 20).await;
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let d = dispatcher(
        db,
        vec![gateway("kannel", Preset::Kannel, &mock.base, &secrets)],
        &clock,
        "w1",
    );
    let report = d.dispatch_once().await.unwrap();
    assert_eq!((report.claimed, report.sent), (20, 20));
    assert_eq!(d.dispatch_once().await.unwrap().claimed, 0, "nothing left");
    let messages = mock.messages().await;
    assert_eq!(messages.len(), 20);
    let to: std::collections::HashSet<_> = messages.iter().map(|m| m.to.clone()).collect();
    assert_eq!(to.len(), 20, "one message per participant");
    assert!(messages[0].text.starts_with("Yth. Peserta"), "{}", messages[0].text);
    assert!(messages[0].text.contains("Rp16.800") && messages[0].text.contains("Juli 2025"));
    let list = reminders(db).await;
    assert_eq!(statuses(&list), HashMap::from([(ReminderStatus::Sent, 20)]));
    mock.stop().await;
}

async fn a_gateway_outage_is_retried_until_every_reminder_is_sent_once(db: &TestDb) {
    due_reminders(db, 10).await;
    let mock = Gateway::start(mock_config()).await;
    mock.control(json!({"fail_next": 4, "status": 503})).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let mut d = dispatcher(
        db,
        vec![gateway("kannel", Preset::Kannel, &mock.base, &secrets)],
        &clock,
        "w1",
    );
    d.settings.concurrency = 1;
    let first = d.dispatch_once().await.unwrap();
    assert_eq!((first.sent, first.retried), (6, 4));
    assert_eq!(
        d.dispatch_once().await.unwrap().claimed,
        0,
        "the retries wait their backoff"
    );
    clock.advance(chrono::Duration::minutes(5));
    let second = d.dispatch_once().await.unwrap();
    assert_eq!((second.claimed, second.sent), (4, 4));
    let messages = mock.messages().await;
    assert_eq!(messages.len(), 10, "every reminder reached the gateway exactly once");
    let list = reminders(db).await;
    assert_eq!(statuses(&list), HashMap::from([(ReminderStatus::Sent, 10)]));
    let mut attempts: Vec<i32> = list.iter().map(|r| r.attempts).collect();
    attempts.sort();
    assert_eq!(
        attempts,
        vec![1, 1, 1, 1, 1, 1, 2, 2, 2, 2],
        "the retried ones show two attempts"
    );
    mock.stop().await;
}

async fn retry_after_is_honoured_and_permanent_refusals_are_not_retried(db: &TestDb) {
    due_reminders(db, 2).await;
    let mock = Gateway::start(mock_config()).await;
    let refused = "+6281300000001";
    mock.control(json!({"rate_limit_next": 1, "retry_after_secs": 900, "reject_numbers": [refused]}))
        .await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let mut d = dispatcher(
        db,
        vec![gateway("kannel", Preset::Kannel, &mock.base, &secrets)],
        &clock,
        "w1",
    );
    d.settings.concurrency = 1;
    let report = d.dispatch_once().await.unwrap();
    assert_eq!((report.retried, report.failed), (1, 1));
    let list = reminders(db).await;
    let failed = list
        .iter()
        .find(|r| r.status() == Some(ReminderStatus::Failed))
        .unwrap();
    assert!(
        failed.reason.as_deref().is_some_and(|r| !r.is_empty()),
        "{:?}",
        failed.reason
    );
    // Retry-After 900 s: not before 15 minutes, then sent.
    clock.advance(chrono::Duration::seconds(890));
    assert_eq!(d.dispatch_once().await.unwrap().claimed, 0);
    clock.advance(chrono::Duration::seconds(20));
    let later = d.dispatch_once().await.unwrap();
    assert_eq!((later.claimed, later.sent), (1, 1), "the refused one is never retried");
    mock.stop().await;
}

async fn the_second_gateway_takes_over_when_the_first_is_down(db: &TestDb) {
    due_reminders(db, 5).await;
    let first = Gateway::start(mock_config()).await;
    let second = Gateway::start(mock_config()).await;
    first.control(json!({"down": true})).await;
    let secrets = Secrets::new();
    let mut backup = gateway("jasmin-backup", Preset::Jasmin, &second.base, &secrets);
    backup.priority = 2;
    let clock = FixedClock::at(at(SEND_AT));
    let d = dispatcher(
        db,
        vec![gateway("kannel", Preset::Kannel, &first.base, &secrets), backup],
        &clock,
        "w1",
    );
    assert_eq!(d.dispatch_once().await.unwrap().sent, 5);
    assert!(first.messages().await.is_empty());
    assert_eq!(second.messages().await.len(), 5);
    let list = reminders(db).await;
    assert!(list.iter().all(|r| r.status() == Some(ReminderStatus::Sent)));
    first.stop().await;
    second.stop().await;
}

async fn expired_reminders_are_not_sent(db: &TestDb) {
    due_reminders(db, 3).await;
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    // Ten hours after 09:00 the reminders have expired (it is 19:00:01, still in the window).
    let clock = FixedClock::at(at("2025-07-15T12:00:01Z"));
    let d = dispatcher(
        db,
        vec![gateway("kannel", Preset::Kannel, &mock.base, &secrets)],
        &clock,
        "w1",
    );
    assert_eq!(d.dispatch_once().await.unwrap().expired, 3);
    assert!(mock.messages().await.is_empty());
    assert_eq!(
        statuses(&reminders(db).await),
        HashMap::from([(ReminderStatus::Expired, 3)])
    );
    mock.stop().await;
}

async fn payment_or_opt_out_after_the_scan_cancels_the_send(db: &TestDb) {
    due_reminders(db, 3).await;
    // Participant 0 is paid through July by a participants file after the
    // scan (a recorded payment would cancel the reminder at once; a file
    // only moves paid-through, so the send-time re-check must catch it).
    // Participant 1 opts out.
    let mut paid = numbered_participant(0);
    paid.paid_through = pengingat::domain::ContributionMonth::parse("2025-07").unwrap();
    db.store
        .upsert_participants(&[paid], at("2025-07-15T01:31:00Z"), &NoProgress)
        .await
        .unwrap();
    db.store
        .set_opt_out_by_nik(&numbered_participant(1).nik, true, at("2025-07-15T01:32:00Z"))
        .await
        .unwrap();
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let d = dispatcher(
        db,
        vec![gateway("kannel", Preset::Kannel, &mock.base, &secrets)],
        &clock,
        "w1",
    );
    let report = d.dispatch_once().await.unwrap();
    assert_eq!(
        (report.sent, report.cancelled),
        (1, 1),
        "the opt-out cancelled its own pending reminder already"
    );
    assert_eq!(mock.messages().await.len(), 1);
    let list = reminders(db).await;
    let reasons: Vec<String> = list.iter().filter_map(|r| r.reason.clone()).collect();
    assert!(reasons.iter().any(|r| r.starts_with("paid")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("opted out")), "{reasons:?}");
    mock.stop().await;
}

async fn two_dispatchers_send_each_reminder_exactly_once(db: &TestDb) {
    let n = if db.url.starts_with("postgres") { 10_000 } else { 2_000 };
    due_reminders(db, n).await;
    let mut config = mock_config();
    config.max_recorded = 20_000;
    let mock = Gateway::start(config).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let other = pengingat::store::connect(&db.url, &Default::default()).await.unwrap();
    let g = vec![gateway("kannel", Preset::Kannel, &mock.base, &secrets)];
    let a = dispatcher(db, g.clone(), &clock, "a");
    let mut b = dispatcher(db, g, &clock, "b");
    b.store = other;
    let drain = |d: Dispatcher| async move {
        let mut sent = 0;
        loop {
            let r = d.dispatch_once().await.unwrap();
            if r.claimed == 0 {
                return sent;
            }
            sent += r.sent;
        }
    };
    let (sa, sb) = tokio::join!(drain(a), drain(b));
    assert_eq!(sa + sb, u64::from(n));
    assert!(sa > 0 && sb > 0, "both took part: {sa} and {sb}");
    let messages = mock.messages().await;
    assert_eq!(messages.len(), n as usize);
    let to: std::collections::HashSet<_> = messages.iter().map(|m| m.to.clone()).collect();
    assert_eq!(to.len(), n as usize, "the gateway received each reminder exactly once");
    mock.stop().await;
}

async fn batches_in_flight_send_each_reminder_exactly_once(db: &TestDb) {
    let n = 1_000;
    due_reminders(db, n).await;
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let mut d = dispatcher(
        db,
        vec![gateway("kannel", Preset::Kannel, &mock.base, &secrets)],
        &clock,
        "w1",
    );
    d.settings.batch_size = 40;
    d.settings.batches_in_flight = 4;
    let report = d.drain().await.unwrap();
    assert_eq!((report.claimed, report.sent), (u64::from(n), u64::from(n)));
    let messages = mock.messages().await;
    let to: std::collections::HashSet<_> = messages.iter().map(|m| m.to.clone()).collect();
    assert_eq!(
        (messages.len(), to.len()),
        (n as usize, n as usize),
        "each reminder exactly once"
    );
    let sent = reminders(db).await.iter().filter(|r| r.status == "sent").count();
    assert_eq!(sent, n as usize);
    mock.stop().await;
}

async fn email_reminders_arrive_at_a_real_smtp_server(db: &TestDb) {
    load_test_kelurahan(db).await;
    let mut p = numbered_participant(0);
    p.email = Some(pengingat::domain::EmailAddress::parse("siti.aminah@example.co.id").unwrap());
    p.preferred_channel = pengingat::domain::PreferredChannel::Both;
    db.store
        .upsert_participants(&[p], at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let batch = h0_july(Channel::Email);
    db.store
        .insert_reminders(&batch, at("2025-07-15T01:59:00Z"))
        .await
        .unwrap();
    let sink = crate::channels::email::Sink::start(&[]).await;
    let sender = pengingat::channels::EmailSender::from_settings(&sink.settings()).unwrap();
    let with_subject = SCHEDULES.replace(
        "[template.t]\n",
        "[template.t]\nsubject = \"Iuran BPJS Ketenagakerjaan {month} \u{2013} jatuh tempo hari ini\"\n",
    );
    let schedules = Schedules::parse(&with_subject, Path::new("."), "test.toml").unwrap();
    let clock = FixedClock::at(at(SEND_AT));
    let mut d = dispatcher(db, vec![], &clock, "w1");
    d.sms = None;
    d.email = Some(Arc::new(sender));
    d.schedules = tokio::sync::watch::channel(Arc::new(schedules)).1;
    assert_eq!(d.dispatch_once().await.unwrap().sent, 1);
    let got = sink.message(1).await;
    assert_eq!(got["rcpt_tos"], json!(["siti.aminah@example.co.id"]));
    assert_eq!(
        got["headers"]["Subject"],
        "Iuran BPJS Ketenagakerjaan Juli 2025 \u{2013} jatuh tempo hari ini"
    );
    let text = got["text"].as_str().unwrap_or_default().to_string() + &got.to_string();
    assert!(text.contains("Rp16.800") && text.contains("15 Juli 2025"), "{got}");
    let list = reminders(db).await;
    assert_eq!(list[0].status(), Some(ReminderStatus::Sent));
    sink.stop().await;
}
