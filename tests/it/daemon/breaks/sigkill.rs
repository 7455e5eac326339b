//! SIGKILL in the middle of a batch, then a new start: no reminder is lost,
//! and the only extra copies are of sends that were at the gateway at the
//! kill, never more than `delivery.concurrency`.

use super::*;
use crate::delivery::{SCHEDULES, due_reminders};

both_backends!(a_killed_daemon_loses_nothing_and_resends_at_most_what_was_in_flight);

const REMINDERS: u32 = 60;
/// Sends at the gateway at once.
const CONCURRENCY: usize = 4;

async fn a_killed_daemon_loses_nothing_and_resends_at_most_what_was_in_flight(db: &TestDb) {
    due_reminders(db, REMINDERS).await;
    // 200 ms a send: a batch of 20 at 4 at once takes a second.
    let mock = MockGatewayProcess::start(200).await;
    let secrets = Secrets::new();
    let config = daemon_config(
        &mock,
        &secrets,
        &format!("batch_size = 20\nconcurrency = {CONCURRENCY}\n{LEASES}"),
    );

    let mut first = RunningDaemon::start_on(&db.url, SCHEDULES, SEND_AT, &config).await;
    mock.accepted_at_least(10).await;
    first.child.start_kill().unwrap();
    first.child.wait().await.unwrap();
    let at_kill = mock.copies().await;
    assert!(
        at_kill.total() < REMINDERS as usize,
        "killed in the middle: {} of {REMINDERS} were at the mock",
        at_kill.total()
    );

    // Started again once the killed daemon's leases have run out.
    restart_after_kill(
        db,
        &mock,
        &config,
        &clock_after(LEASE_SECS + 1),
        REMINDERS,
        CONCURRENCY,
        &at_kill,
    )
    .await;
}
