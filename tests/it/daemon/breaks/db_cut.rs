//! A cut between the daemon and PostgreSQL while sends are at the gateway,
//! longer than the database timeout and shorter than the lease: the
//! outcomes wait in memory and are written when the database answers again,
//! so every reminder reaches the gateway exactly once. While they wait,
//! sending pauses: a daemon killed during the cut sends again no more than
//! `delivery.concurrency` messages.

use std::net::SocketAddr;

use pengingat::domain::ReminderStatus;

use super::*;
use crate::delivery::{SCHEDULES, due_reminders};
use crate::tcp_proxy::TcpProxy;

const REMINDERS: u32 = 40;
/// Sends at the gateway at once.
const CONCURRENCY: usize = 4;
/// Longer than the daemon's database timeout (`[database] timeout_secs`,
/// 5 s by default) counted from the end of the sends, so a write that waits
/// for the database gives up; shorter than [`CUT_LEASE_SECS`].
const CUT: Duration = Duration::from_secs(12);
/// The lease in these tests: longer than the cut.
const CUT_LEASE_SECS: i64 = 30;

/// A daemon on PostgreSQL through a proxy that can be cut, sending the due
/// reminders to a mock that answers in 300 ms, 4 at once: the 40 take 3 s.
struct CutSetup {
    db: TestDb,
    proxy: TcpProxy,
    mock: MockGatewayProcess,
    config: String,
    daemon: RunningDaemon,
    _secrets: Secrets,
}

async fn start_behind_a_proxy() -> CutSetup {
    let db = postgres_db().await;
    due_reminders(&db, REMINDERS).await;
    let mut url = reqwest::Url::parse(&db.url).unwrap();
    let upstream: SocketAddr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432))
        .parse()
        .expect("PostgreSQL on a numeric address");
    let proxy = TcpProxy::start(upstream).await;
    url.set_port(Some(proxy.addr.port())).unwrap();
    let mock = MockGatewayProcess::start(300).await;
    let secrets = Secrets::new();
    let config = daemon_config(
        &mock,
        &secrets,
        &format!(
            "batch_size = {REMINDERS}\nconcurrency = {CONCURRENCY}\n{}",
            LEASES.replace("lease_secs = 10", &format!("lease_secs = {CUT_LEASE_SECS}"))
        ),
    );
    let daemon = RunningDaemon::start_on(url.as_str(), SCHEDULES, SEND_AT, &config).await;
    mock.accepted_at_least(CONCURRENCY).await;
    CutSetup {
        db,
        proxy,
        mock,
        config,
        daemon,
        _secrets: secrets,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_to_postgresql_during_sends_sends_each_reminder_once() {
    let CutSetup {
        db,
        proxy,
        mock,
        config,
        daemon,
        _secrets,
    } = start_behind_a_proxy().await;
    proxy.cut();
    tokio::time::sleep(CUT).await;
    proxy.restore();

    let list = settled(&db).await;
    let copies = mock.copies().await;
    let log = tail(&daemon);
    assert!(stop(daemon).await.success(), "{log}");
    assert_eq!(copies.missing(REMINDERS), Vec::<String>::new(), "no reminder is lost");
    assert_eq!(copies.extra(), 0, "every reminder reached the gateway once\n{log}");
    assert_eq!(
        statuses(&list),
        HashMap::from([(Some(ReminderStatus::Sent), REMINDERS as usize)]),
        "the outcomes were written after the cut"
    );

    // Nothing is left for a later daemon to send again once the leases run out.
    let later = RunningDaemon::start_on(&db.url, SCHEDULES, &clock_after(CUT_LEASE_SECS + 1), &config).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(stop(later).await.success());
    assert_eq!(mock.copies().await.total(), REMINDERS as usize);
    drop(proxy);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_a_cut_resends_at_most_concurrency() {
    let CutSetup {
        db,
        proxy,
        mock,
        config,
        mut daemon,
        _secrets,
    } = start_behind_a_proxy().await;
    proxy.cut();
    // Long enough for every reminder to reach the gateway (3 s) were sending
    // not to pause while outcomes cannot be written.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let at_kill = mock.copies().await;
    daemon.child.start_kill().unwrap();
    daemon.child.wait().await.unwrap();
    proxy.restore();
    assert!(
        at_kill.total() < REMINDERS as usize,
        "sending paused during the cut: {} of {REMINDERS} reached the mock",
        at_kill.total()
    );

    let clock = clock_after(CUT_LEASE_SECS + 1);
    restart_after_kill(&db, &mock, &config, &clock, REMINDERS, CONCURRENCY, &at_kill).await;
    drop(proxy);
    db.cleanup().await;
}
