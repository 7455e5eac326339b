//! The whole loop through the daemon: the scan's reminders go out through
//! the mock gateway in each preset's wire format, the mock sends receipts in
//! that preset's format to the daemon's receipt endpoint, and every reminder
//! ends delivered or undelivered exactly as the mock decided.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mock_sms_gateway::FinalStatus;
use pengingat::clock::FixedClock;
use pengingat::config::Settings;
use pengingat::config::delivery::{Preset, SmsSettings};
use pengingat::daemon::Daemon;
use pengingat::domain::ReminderStatus;

use super::{SCHEDULES, SEND_AT, due_reminders, numbered_participant, reminders};
use crate::channels::{Secrets, WEBHOOK_TOKEN, gateway};
use crate::helpers::*;
use crate::mock_gateway::Gateway;

both_backends!(kannel, jasmin, twilio, infobip, webhook);

async fn kannel(db: &TestDb) {
    receipts_settle_every_reminder(db, Preset::Kannel).await;
}
async fn jasmin(db: &TestDb) {
    receipts_settle_every_reminder(db, Preset::Jasmin).await;
}
async fn twilio(db: &TestDb) {
    receipts_settle_every_reminder(db, Preset::Twilio).await;
}
async fn infobip(db: &TestDb) {
    receipts_settle_every_reminder(db, Preset::Infobip).await;
}
async fn webhook(db: &TestDb) {
    receipts_settle_every_reminder(db, Preset::Webhook).await;
}

const PARTICIPANTS: u32 = 12;

async fn receipts_settle_every_reminder(db: &TestDb, preset: Preset) {
    due_reminders(db, PARTICIPANTS).await;
    let mut config = crate::mock_gateway::config();
    config.receipts.delivered_ratio = 0.5;
    config.receipts.seed = 11;
    config.credentials.webhook_token = Some(WEBHOOK_TOKEN.into());
    let mock = Gateway::start(config).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let schedules_path = dir.path().join("schedules.toml");
    std::fs::write(&schedules_path, SCHEDULES).unwrap();
    let secrets = Secrets::new();
    let mut settings = Settings::default();
    settings.database.url = db.url.clone();
    settings.schedules.path = schedules_path;
    settings.delivery.public_url = public_url.clone();
    settings.delivery.poll_ms = 20;
    settings.sms = SmsSettings {
        gateways: vec![gateway("gw", preset, &mock.base, &secrets)],
        ..Default::default()
    };
    let clock = Arc::new(FixedClock::at(at(SEND_AT)));
    let daemon = Daemon::build_on(listener, settings, clock)
        .await
        .expect("daemon builds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(daemon.run(async move {
        let _ = stopped.await;
    }));

    // Wait until every reminder is final (delivered or undelivered).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let list = loop {
        let list = reminders(db).await;
        let settled = list.iter().all(|r| {
            matches!(
                r.status(),
                Some(ReminderStatus::Delivered | ReminderStatus::Undelivered)
            )
        });
        if settled || std::time::Instant::now() > deadline {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Jasmin and Infobip carry numbers without the plus sign.
    let decided: HashMap<String, FinalStatus> = mock
        .messages()
        .await
        .into_iter()
        .map(|m| (format!("+{}", m.to.trim_start_matches('+')), m.final_status))
        .collect();
    assert_eq!(
        decided.len(),
        PARTICIPANTS as usize,
        "{preset:?}: one message per participant"
    );
    let phone_of: HashMap<String, String> = (0..PARTICIPANTS)
        .map(|i| {
            let p = numbered_participant(i);
            (p.nik.as_str().to_string(), p.phone.unwrap().as_str().to_string())
        })
        .collect();
    let mut counts: HashMap<ReminderStatus, usize> = HashMap::new();
    for r in &list {
        let phone = &phone_of[&r.nik];
        let expected = match decided.get(phone) {
            Some(FinalStatus::Delivered) => ReminderStatus::Delivered,
            Some(_) => ReminderStatus::Undelivered,
            None => panic!("{preset:?}: the mock never received {phone}"),
        };
        assert_eq!(r.status(), Some(expected), "{preset:?}: reminder {} to {phone}", r.id);
        *counts.entry(expected).or_default() += 1;
    }
    let delivered = decided.values().filter(|s| matches!(s, FinalStatus::Delivered)).count();
    assert_eq!(
        counts.get(&ReminderStatus::Delivered).copied().unwrap_or(0),
        delivered,
        "{preset:?}"
    );
    assert!(
        delivered > 0 && delivered < PARTICIPANTS as usize,
        "{preset:?}: both outcomes occur"
    );
    // /metrics counts the sends and the receipts that settled them.
    let metrics = reqwest::get(format!("{public_url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sent = format!("pengingat_delivery_attempts_total{{channel=\"sms\",outcome=\"sent\"}} {PARTICIPANTS}\n");
    assert!(metrics.contains(&sent), "{preset:?}: {metrics}");
    assert!(
        metrics.contains("pengingat_receipts_total{gateway=\"gw\",outcome=\"applied\"}"),
        "{preset:?}: {metrics}"
    );

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    mock.stop().await;
}
