//! SIGTERM while a gateway takes 5 s to answer: the daemon stops claiming,
//! gives back what it has not started, waits for the sends at the gateway,
//! records them and exits 0 within `delivery.stop_deadline_secs`; nothing
//! is left `sending`, and a new start sends each of the rest once.

use pengingat::domain::ReminderStatus;

use super::*;
use crate::delivery::{SCHEDULES, due_reminders};

both_backends!(sigterm_with_a_slow_gateway_exits_in_time_and_nothing_is_sent_twice);

const REMINDERS: u32 = 24;
/// `stop_deadline_secs` in [`LEASES`].
const STOP_DEADLINE: Duration = Duration::from_secs(8);
/// What the process may take beyond the deadline to close its pools and exit.
const EXIT_GRACE: Duration = Duration::from_secs(3);

async fn sigterm_with_a_slow_gateway_exits_in_time_and_nothing_is_sent_twice(db: &TestDb) {
    due_reminders(db, REMINDERS).await;
    let mock = MockGatewayProcess::start(5_000).await;
    let secrets = Secrets::new();
    // One batch of all 24 at 4 at once would take 30 s at this gateway.
    let config = daemon_config(
        &mock,
        &secrets,
        &format!("batch_size = {REMINDERS}\nconcurrency = 4\n{LEASES}"),
    );
    let mut daemon = RunningDaemon::start_on(&db.url, SCHEDULES, SEND_AT, &config).await;
    // Sends are at the gateway once reminders are claimed.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !reminders(db)
        .await
        .iter()
        .any(|r| r.status() == Some(ReminderStatus::Sending))
    {
        assert!(tokio::time::Instant::now() < deadline, "nothing was claimed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    daemon.signal("TERM");
    let exited = tokio::time::timeout(STOP_DEADLINE + EXIT_GRACE, daemon.child.wait()).await;
    let log = tail(&daemon);
    let status = exited
        .unwrap_or_else(|_| panic!("no exit within the {STOP_DEADLINE:?} stop deadline\n{log}"))
        .unwrap();
    assert!(status.success(), "exit status {status}\n{log}");

    let list = reminders(db).await;
    let at_stop = mock.copies().await;
    assert_eq!(at_stop.extra(), 0, "nothing sent twice before the stop");
    let sent = list.iter().filter(|r| r.status() == Some(ReminderStatus::Sent)).count();
    assert_eq!(
        sent,
        at_stop.total(),
        "what reached the gateway is recorded as sent: {:?}",
        statuses(&list)
    );
    assert!(sent > 0, "the sends at the gateway were waited for");
    for r in list.iter().filter(|r| r.status() != Some(ReminderStatus::Sent)) {
        assert_eq!(
            (r.status(), r.attempts),
            (Some(ReminderStatus::Pending), 0),
            "reminder {} was not started: pending again, no attempt counted",
            r.id
        );
    }

    // A new start with a fast gateway sends the rest, each once.
    mock.control(serde_json::json!({"latency_ms": 0})).await;
    let again = RunningDaemon::start_on(&db.url, SCHEDULES, SEND_AT, &config).await;
    let list = settled(db).await;
    let copies = mock.copies().await;
    let log = tail(&again);
    assert!(stop(again).await.success(), "{log}");
    assert_eq!(copies.missing(REMINDERS), Vec::<String>::new(), "no reminder is lost");
    assert_eq!(copies.extra(), 0, "nothing is sent twice after the restart");
    assert_eq!(
        statuses(&list),
        HashMap::from([(Some(ReminderStatus::Sent), REMINDERS as usize)])
    );
}
