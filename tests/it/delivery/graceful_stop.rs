//! A graceful stop of the daemon's dispatcher while messages are at a slow
//! gateway: what has not reached the gateway goes back to pending with no
//! attempt counted, what has is recorded, nothing is left `sending`, and a
//! dispatcher started afterwards sends the rest without sending anything
//! twice (counted at the gateway).

use std::collections::HashMap;
use std::time::Duration;

use pengingat::clock::FixedClock;
use pengingat::config::delivery::Preset;
use pengingat::domain::ReminderStatus;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{SEND_AT, dispatcher, due_reminders, reminders};
use crate::channels::{Secrets, gateway, mock_config};
use crate::helpers::*;
use crate::mock_gateway::Gateway;

both_backends!(a_stop_gives_back_unsent_claims_and_records_the_rest);

const REMINDERS: u32 = 30;

/// The longest the test waits for the gateway or the database to get somewhere.
const PATIENCE: Duration = Duration::from_secs(30);

async fn a_stop_gives_back_unsent_claims_and_records_the_rest(db: &TestDb) {
    due_reminders(db, REMINDERS).await;
    let mock = Gateway::start(mock_config()).await;
    mock.control(json!({"latency_ms": 300})).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let mut slow = gateway("kannel", Preset::Kannel, &mock.base, &secrets);
    slow.rate_limit_per_second = 10.0;
    let start = |name: &str| {
        let mut d = dispatcher(db, vec![slow.clone()], &clock, name);
        d.settings.concurrency = 4;
        d.settings.poll_ms = 50;
        let cancel = CancellationToken::new();
        (cancel.clone(), tokio::spawn(d.run(cancel)))
    };
    let (cancel, run) = start("first");
    mock.stats_until(|s| s["accepted"].as_u64().unwrap_or(0) >= 3).await;
    cancel.cancel();
    tokio::time::timeout(PATIENCE, run).await.unwrap().unwrap();

    let list = reminders(db).await;
    assert!(
        list.iter().all(|r| r.status() != Some(ReminderStatus::Sending)),
        "nothing left sending: {list:?}"
    );
    let at_gateway: Vec<String> = mock.messages().await.into_iter().map(|m| m.to).collect();
    let sent = list.iter().filter(|r| r.status() == Some(ReminderStatus::Sent)).count();
    assert_eq!(sent, at_gateway.len(), "every message at the gateway was recorded sent");
    assert!(sent < REMINDERS as usize, "the stop came before the end");
    let waiting: Vec<_> = list
        .iter()
        .filter(|r| r.status() == Some(ReminderStatus::Pending))
        .collect();
    assert_eq!(sent + waiting.len(), list.len());
    assert!(waiting.iter().all(|r| r.attempts == 0), "given back without an attempt");

    let (cancel, run) = start("second");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while reminders(db)
        .await
        .iter()
        .any(|r| r.status() != Some(ReminderStatus::Sent))
    {
        assert!(tokio::time::Instant::now() < deadline, "the rest was never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cancel.cancel();
    tokio::time::timeout(PATIENCE, run).await.unwrap().unwrap();
    let mut copies: HashMap<String, usize> = HashMap::new();
    for m in mock.messages().await {
        *copies.entry(m.to).or_default() += 1;
    }
    assert_eq!(copies.len(), REMINDERS as usize);
    assert!(copies.values().all(|n| *n == 1), "nothing sent twice: {copies:?}");
    mock.stop().await;
}
