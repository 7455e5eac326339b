//! A configuration error (Twilio refusing our credentials with 401, the
//! SMTP relay with 535) takes the channel out of service, and the backlog
//! waits for the fix instead of failing: one request finds the error, the
//! reminders it met are postponed with what to fix, nothing more is claimed
//! for the channel, `/readyz` answers 503, and after a restart with the
//! right credentials every reminder is sent exactly once.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::app::TestApp;
use pengingat::channels::{ChannelHealth, EmailSender, GatewayPool};
use pengingat::clock::FixedClock;
use pengingat::config::delivery::{EmailSettings, GatewaySettings, Preset, RetrySettings, SmsSettings};
use pengingat::dispatch::Dispatcher;
use pengingat::domain::{Channel, EmailAddress, PreferredChannel, ReminderStatus};
use pengingat::schedule::Schedules;
use pengingat::store::NoProgress;

use super::{SCHEDULES, SEND_AT, dispatcher, due_reminders, numbered_participant, reminders, statuses};
use crate::channels::email::Sink;
use crate::channels::{Secrets, gateway, mock_config};
use crate::helpers::*;
use crate::mock_gateway::Gateway;

both_backends!(
    refused_gateway_credentials_keep_the_backlog_pending_until_a_restart_with_the_fix,
    refused_relay_credentials_keep_email_reminders_pending_until_a_restart_with_the_fix,
);

async fn refused_gateway_credentials_keep_the_backlog_pending_until_a_restart_with_the_fix(db: &TestDb) {
    due_reminders(db, 20).await;
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let right = gateway("twilio", Preset::Twilio, &mock.base, &secrets);
    let mut wrong = right.clone();
    wrong.password_file = Some(secrets.file("twilio.wrong", "bukan-token"));
    let health = ChannelHealth::default();
    let mut d = dispatcher(db, vec![wrong.clone()], &clock, "w1");
    d.sms = Some(Arc::new(pool(&[wrong]).with_health(health.clone())));

    let report = d.drain().await.unwrap();
    assert_eq!((report.sent, report.failed), (0, 0), "{report:?}");
    assert_eq!(d.dispatch_once().await.unwrap().claimed, 0, "nothing claimed for SMS");
    let stats = mock.stats().await;
    assert_eq!(stats["accepted"], 0);
    assert!(
        stats["unauthenticated"].as_u64().unwrap() <= 1,
        "one request found the error: {stats}"
    );
    let list = reminders(db).await;
    assert_eq!(statuses(&list), HashMap::from([(ReminderStatus::Pending, 20)]));
    assert!(list.iter().all(|r| r.attempts == 0), "no attempt counted");
    for error in last_errors(db).await {
        let error = error.expect("postponed with what to fix");
        assert!(
            error.contains("configuration error") && error.contains("Account SID"),
            "{error}"
        );
    }
    let (status, text) = readyz(db, &health).await;
    assert_eq!(status, 503);
    assert!(text.starts_with("twilio out of service: "), "{text}");

    // The operator fixes the auth token and restarts.
    let fixed = dispatcher(db, vec![right], &clock, "w2");
    let report = fixed.drain().await.unwrap();
    assert_eq!((report.sent, report.failed), (20, 0), "{report:?}");
    let messages = mock.messages().await;
    let to: HashSet<_> = messages.iter().map(|m| m.to.clone()).collect();
    assert_eq!((messages.len(), to.len()), (20, 20), "each reminder exactly once");
    let list = reminders(db).await;
    assert_eq!(statuses(&list), HashMap::from([(ReminderStatus::Sent, 20)]));
    mock.stop().await;
}

async fn refused_relay_credentials_keep_email_reminders_pending_until_a_restart_with_the_fix(db: &TestDb) {
    due_email_reminders(db, 4).await;
    let sink = Sink::start(&["--auth", "pengingat:rahasia-smtp"]).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let relay = |password: &str| EmailSettings {
        username: Some("pengingat".into()),
        password_file: Some(secrets.file(&format!("smtp.{password}"), password)),
        ..sink.settings()
    };
    let health = ChannelHealth::default();
    let wrong = EmailSender::from_settings(&relay("salah"))
        .unwrap()
        .with_health(health.clone());
    let d = email_dispatcher(db, wrong, &clock, "w1");

    let report = d.drain().await.unwrap();
    assert_eq!((report.sent, report.failed), (0, 0), "{report:?}");
    assert_eq!(
        d.dispatch_once().await.unwrap().claimed,
        0,
        "nothing claimed for e-mail"
    );
    assert!(
        sink.refused_logins() <= 1,
        "one login found the error: {}",
        sink.refused_logins()
    );
    assert_eq!(sink.count(), 0);
    let list = reminders(db).await;
    assert_eq!(statuses(&list), HashMap::from([(ReminderStatus::Pending, 4)]));
    assert!(list.iter().all(|r| r.attempts == 0), "no attempt counted");
    for error in last_errors(db).await {
        let error = error.expect("postponed with what to fix");
        assert!(
            error.contains("535") && error.contains("email.password_file"),
            "{error}"
        );
    }
    let (status, text) = readyz(db, &health).await;
    assert_eq!(status, 503);
    assert!(text.starts_with("smtp out of service: "), "{text}");

    // The operator fixes the password and restarts.
    let fixed = EmailSender::from_settings(&relay("rahasia-smtp")).unwrap();
    let report = email_dispatcher(db, fixed, &clock, "w2").drain().await.unwrap();
    assert_eq!((report.sent, report.failed), (4, 0), "{report:?}");
    assert_eq!(sink.count(), 4);
    let mut to = HashSet::new();
    for n in 1..=4 {
        to.insert(sink.message(n).await["rcpt_tos"].to_string());
    }
    assert_eq!(to.len(), 4, "each reminder exactly once");
    assert_eq!(
        statuses(&reminders(db).await),
        HashMap::from([(ReminderStatus::Sent, 4)])
    );
    sink.stop().await;
}

/// A pool of `gateways` as the test dispatcher builds it.
fn pool(gateways: &[GatewaySettings]) -> GatewayPool {
    let sms = SmsSettings {
        gateways: gateways.to_vec(),
        retry: RetrySettings::default(),
    };
    GatewayPool::from_settings(&sms, "http://127.0.0.1:9", crate::mock_gateway::http()).unwrap()
}

/// `n` participants with an e-mail address, each with a pending h0 e-mail
/// reminder planned for 09:00 WIB.
async fn due_email_reminders(db: &TestDb, n: u32) {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (0..n)
        .map(|i| {
            let mut p = numbered_participant(i);
            p.email = Some(EmailAddress::parse(&format!("peserta{i}@example.co.id")).unwrap());
            p.preferred_channel = PreferredChannel::Both;
            p
        })
        .collect();
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let created = db
        .store
        .insert_reminders(&h0_july(Channel::Email), at("2025-07-15T01:59:00Z"))
        .await
        .unwrap()
        .created;
    assert_eq!(created, u64::from(n));
}

/// A dispatcher sending e-mail only, through `sender`.
fn email_dispatcher(db: &TestDb, sender: EmailSender, clock: &FixedClock, worker: &str) -> Dispatcher {
    let with_subject = SCHEDULES.replace(
        "[template.t]\n",
        "[template.t]\nsubject = \"Iuran BPJS Ketenagakerjaan {month}\"\n",
    );
    let schedules = Schedules::parse(&with_subject, Path::new("."), "test.toml").unwrap();
    let mut d = dispatcher(db, vec![], clock, worker);
    d.sms = None;
    d.email = Some(Arc::new(sender));
    d.schedules = tokio::sync::watch::channel(Arc::new(schedules)).1;
    d
}

/// Each reminder's last error, read from the database.
async fn last_errors(db: &TestDb) -> Vec<Option<String>> {
    let sql = "SELECT last_error FROM reminders ORDER BY id";
    if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}

/// `/readyz`'s status and text for a daemon on `db` whose channels report to `health`.
async fn readyz(db: &TestDb, health: &ChannelHealth) -> (u16, String) {
    let app = TestApp::builder(db).channels(health.clone()).spawn().await;
    let answer = app.readyz().await;
    app.stop().await;
    answer
}
