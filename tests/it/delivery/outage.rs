//! A long outage of the only gateway, on an injected clock (the reminders'
//! time and the circuit breaker's): once the breaker is open nothing is
//! claimed but one probe at a time, and no attempt is counted; after the
//! gateway comes back every reminder is sent exactly once, or expired with
//! its reason when it could not go out in time.

use std::sync::Arc;
use std::time::Duration;

use pengingat::channels::{BreakerState, GatewayPool, ManualTicker};
use pengingat::clock::FixedClock;
use pengingat::config::delivery::{Preset, RetrySettings, SmsSettings};
use pengingat::domain::ReminderStatus;
use serde_json::json;

use super::{SEND_AT, dispatcher, due_reminders, reminders};
use crate::channels::{Secrets, gateway, mock_config};
use crate::helpers::*;
use crate::mock_gateway::Gateway;

both_backends!(a_long_outage_uses_no_attempts_and_ends_sent_or_expired);

const REMINDERS: u32 = 20;

/// Minutes the gateway is down.
const OUTAGE_MINUTES: u32 = 60;

async fn attempts_in_all(db: &TestDb) -> i32 {
    reminders(db).await.iter().map(|r| r.attempts).sum()
}

async fn a_long_outage_uses_no_attempts_and_ends_sent_or_expired(db: &TestDb) {
    due_reminders(db, REMINDERS).await;
    // Every second reminder may go out at most 30 minutes late.
    execute_sql(
        db,
        "UPDATE reminders SET expires_at = planned_at + 1800 WHERE id % 2 = 0",
    )
    .await;
    let mock = Gateway::start(mock_config()).await;
    mock.control(json!({"down": true})).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let ticker = ManualTicker::new();
    let settings = gateway("kannel", Preset::Kannel, &mock.base, &secrets);
    let sms = SmsSettings {
        gateways: vec![settings.clone()],
        retry: RetrySettings::default(),
    };
    let pool = GatewayPool::with_ticker(
        &sms,
        "http://127.0.0.1:9",
        crate::mock_gateway::http(),
        Arc::new(ticker.clone()),
    )
    .unwrap();
    let pool = Arc::new(pool);
    let mut d = dispatcher(db, vec![settings], &clock, "w1");
    d.sms = Some(pool.clone());

    // The outage begins: the failures that open the breaker. Those before
    // it opened count as attempts; the one that opened it and those after
    // are the gateway's failure and count none.
    d.drain().await.unwrap();
    assert!(matches!(pool.status()[0].breaker, BreakerState::Open { .. }));
    let at_opening = attempts_in_all(db).await;
    assert!(
        at_opening < 5,
        "only failures before the breaker opened count: {at_opening}"
    );
    let faults_at_opening = mock.stats().await["faults_injected"].as_u64().unwrap();

    for _ in 0..OUTAGE_MINUTES {
        clock.advance(chrono::Duration::minutes(1));
        ticker.advance(Duration::from_secs(60));
        d.drain().await.unwrap();
        assert!(matches!(pool.status()[0].breaker, BreakerState::Open { .. }));
    }
    assert_eq!(
        attempts_in_all(db).await,
        at_opening,
        "no attempt consumed while the breaker is open"
    );
    let probes = mock.stats().await["faults_injected"].as_u64().unwrap() - faults_at_opening;
    assert_eq!(
        probes,
        u64::from(OUTAGE_MINUTES),
        "one probe each time the breaker half-opened"
    );
    assert!(mock.messages().await.is_empty());
    let waiting = reminders(db).await;
    assert!(
        waiting.iter().all(|r| r.status() == Some(ReminderStatus::Pending)
            || (r.status() == Some(ReminderStatus::Expired) && r.id % 2 == 0)),
        "nothing claimed is left behind, only the short-lived ones expired: {waiting:?}"
    );

    mock.control(json!({"down": false})).await;
    clock.advance(chrono::Duration::minutes(1));
    ticker.advance(Duration::from_secs(60));
    d.drain().await.unwrap();

    let list = reminders(db).await;
    let sent: Vec<_> = list
        .iter()
        .filter(|r| r.status() == Some(ReminderStatus::Sent))
        .collect();
    let expired: Vec<_> = list
        .iter()
        .filter(|r| r.status() == Some(ReminderStatus::Expired))
        .collect();
    assert_eq!(
        sent.len() + expired.len(),
        list.len(),
        "every reminder sent or expired: {list:?}"
    );
    assert!(sent.iter().all(|r| r.id % 2 == 1) && expired.iter().all(|r| r.id % 2 == 0));
    assert_eq!(expired.len(), REMINDERS as usize / 2);
    for r in &expired {
        let reason = r.reason.as_deref().unwrap_or_default();
        assert_eq!(reason, "not sent within 30 minutes of its planned time");
        assert!(
            r.attempts <= 1,
            "tried at most before the breaker opened: {}",
            r.attempts
        );
    }
    let messages = mock.messages().await;
    let to: std::collections::HashSet<_> = messages.iter().map(|m| m.to.clone()).collect();
    assert_eq!(
        (messages.len(), to.len()),
        (sent.len(), sent.len()),
        "each sent exactly once"
    );
    mock.stop().await;
}
