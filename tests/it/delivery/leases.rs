//! Claims stay with a live dispatcher. Two dispatchers, each sending
//! through a gateway limited to 4 messages per second, with a lease of 2 s
//! against a backlog that takes each of them several seconds: their
//! heartbeats keep every claim theirs, so the gateway receives every
//! reminder exactly once. The clock moves with real time, so a dispatcher
//! that stopped heartbeating would be taken for gone and its claims sent
//! again by the other.

use std::collections::HashMap;
use std::time::Duration;

use pengingat::clock::FixedClock;
use pengingat::config::delivery::Preset;
use pengingat::domain::ReminderStatus;
use tokio_util::sync::CancellationToken;

use super::{SEND_AT, dispatcher, due_reminders, reminders};
use crate::channels::{Secrets, gateway, mock_config};
use crate::helpers::*;
use crate::mock_gateway::Gateway;

both_backends!(a_slow_gateway_and_a_short_lease_send_each_reminder_once);

/// Reminders: 40 at 8 per second (two dispatchers at 4 each) take 5 s, the
/// lease is 2 s.
const REMINDERS: u32 = 40;

/// The longest the test waits for every reminder to be recorded sent.
const PATIENCE: Duration = Duration::from_secs(60);

async fn a_slow_gateway_and_a_short_lease_send_each_reminder_once(db: &TestDb) {
    due_reminders(db, REMINDERS).await;
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let moving = tokio::spawn({
        let clock = clock.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                clock.advance(chrono::Duration::milliseconds(100));
            }
        }
    });
    let mut slow = gateway("kannel", Preset::Kannel, &mock.base, &secrets);
    slow.rate_limit_per_second = 4.0;
    let other = pengingat::store::connect(&db.url, &Default::default()).await.unwrap();
    let cancel = CancellationToken::new();
    let mut runs = Vec::new();
    for (name, store) in [("a", db.store.clone()), ("b", other)] {
        let mut d = dispatcher(db, vec![slow.clone()], &clock, name);
        d.store = store;
        d.settings.lease_secs = 2;
        d.settings.heartbeat_secs = 1;
        d.settings.concurrency = 4;
        d.settings.poll_ms = 50;
        runs.push(tokio::spawn(d.run(cancel.clone())));
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let list = reminders(db).await;
        if list.iter().all(|r| r.status() == Some(ReminderStatus::Sent)) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not all sent: {list:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Another lease period, for a claim taken over late to be sent again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    cancel.cancel();
    for run in runs {
        run.await.unwrap();
    }
    moving.abort();
    let mut copies: HashMap<String, usize> = HashMap::new();
    for m in mock.messages().await {
        *copies.entry(m.to).or_default() += 1;
    }
    let repeated: Vec<_> = copies.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "sent more than once: {repeated:?}");
    assert_eq!(copies.len(), REMINDERS as usize, "every reminder reached the gateway");
    let sent_by: Vec<i32> = reminders(db).await.iter().map(|r| r.attempts).collect();
    assert!(sent_by.iter().all(|a| *a == 1), "one attempt each: {sent_by:?}");
    mock.stop().await;
}
