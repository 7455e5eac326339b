//! Delivery guarantees of the `pengingat run` binary, proven by breaking
//! things (SIGKILL, a cut between the daemon and PostgreSQL, SIGTERM with a
//! slow gateway) and counted where the messages end up: the
//! `mock-sms-gateway` binary's own record of what it accepted.
//!
//! The daemon's clock is pinned at [`SEND_AT`]; a daemon started again after
//! a crash gets a clock past the crashed one's leases, as real time would
//! have moved on.

mod db_cut;
mod sigkill;
mod sigterm;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use mock_sms_gateway::RecordedMessage;
use pengingat::domain::ReminderStatus;
use pengingat::store::ReminderRecord;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::binary::RunningDaemon;
use crate::channels::Secrets;
use crate::delivery::{SEND_AT, numbered_participant, reminders};
use crate::helpers::*;

/// Seconds a claim is leased for in these tests.
const LEASE_SECS: i64 = 10;

/// The dispatcher's lease, heartbeat and stop deadline, as every test here
/// runs it.
const LEASES: &str = "lease_secs = 10\nheartbeat_secs = 2\nstop_deadline_secs = 8\n";

/// The longest any of these tests waits for the daemons to finish the work.
const PATIENCE: Duration = Duration::from_secs(60);

/// The `mock-sms-gateway` binary on a free port, receipts off.
struct MockGatewayProcess {
    /// `http://127.0.0.1:PORT`.
    base: String,
    http: reqwest::Client,
    _child: Child,
}

impl MockGatewayProcess {
    /// Starts it with every send answered after `latency_ms`.
    async fn start(latency_ms: u64) -> Self {
        let mut child = Command::new(crate::mock_gateway::binary())
            .args(["--listen", "127.0.0.1:0", "--no-receipts", "--seed", "1"])
            .args(["--latency-ms", &latency_ms.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start mock-sms-gateway");
        let stdout = child.stdout.take().expect("piped stdout");
        let first = tokio::time::timeout(Duration::from_secs(20), BufReader::new(stdout).lines().next_line())
            .await
            .expect("the mock prints its address")
            .unwrap()
            .expect("a first line");
        let addr = first.strip_prefix("listening on ").expect("listening on ADDRESS");
        Self {
            base: format!("http://{addr}"),
            http: crate::mock_gateway::http(),
            _child: child,
        }
    }

    /// Every message it accepted, in order.
    async fn messages(&self) -> Vec<RecordedMessage> {
        let response = self.http.get(format!("{}/messages", self.base)).send().await.unwrap();
        assert!(response.status().is_success());
        response.json().await.unwrap()
    }

    /// How many copies of each reminder it accepted.
    async fn copies(&self) -> Copies {
        let mut per_phone: HashMap<String, usize> = HashMap::new();
        for m in self.messages().await {
            *per_phone
                .entry(format!("+{}", m.to.trim_start_matches('+')))
                .or_default() += 1;
        }
        Copies(per_phone)
    }

    /// Waits until it has accepted at least `n` messages.
    async fn accepted_at_least(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let count: serde_json::Value = self
                .http
                .get(format!("{}/messages/count", self.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if count["count"].as_u64().unwrap_or(0) >= n as u64 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the mock never got {n} messages"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `POST /control`.
    async fn control(&self, update: serde_json::Value) {
        let response = self
            .http
            .post(format!("{}/control", self.base))
            .json(&update)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
}

/// Messages the mock accepted, per recipient (E.164).
#[derive(Debug)]
struct Copies(HashMap<String, usize>);

impl Copies {
    fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// Copies beyond the first of each reminder.
    fn extra(&self) -> usize {
        self.total() - self.0.len()
    }

    /// The participants among the first `n` numbered ones that got nothing.
    fn missing(&self, n: u32) -> Vec<String> {
        (0..n)
            .filter_map(|i| numbered_participant(i).phone.map(|p| p.as_str().to_string()))
            .filter(|phone| !self.0.contains_key(phone))
            .collect()
    }

    /// The most copies one reminder got.
    fn most(&self) -> usize {
        self.0.values().copied().max().unwrap_or(0)
    }
}

/// The tables of pengingat.toml that point the daemon at `mock` (Kannel
/// preset, no rate limit worth the name) with `delivery` in `[delivery]`.
fn daemon_config(mock: &MockGatewayProcess, secrets: &Secrets, delivery: &str) -> String {
    let password = secrets.file("kannel.password", "kannel");
    format!(
        "[[sms.gateway]]\nname = \"mock\"\npreset = \"kannel\"\nbase_url = \"{}\"\nusername = \"kannel\"\n\
         password_file = \"{}\"\nrate_limit_per_second = 1000.0\ntimeout_ms = 10000\npriority = 1\n\
         [delivery]\npublic_url = \"http://127.0.0.1:9\"\npoll_ms = 50\n{delivery}",
        mock.base,
        password.display()
    )
}

/// [`SEND_AT`] moved on by `secs`, as `--clock` takes it.
fn clock_after(secs: i64) -> String {
    (at(SEND_AT) + chrono::Duration::seconds(secs)).to_rfc3339()
}

/// Waits until none of the reminders is pending or sending any more.
async fn settled(db: &TestDb) -> Vec<ReminderRecord> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let list = reminders(db).await;
        let open = list
            .iter()
            .filter(|r| matches!(r.status(), Some(ReminderStatus::Pending | ReminderStatus::Sending)))
            .count();
        if open == 0 {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} reminders still pending or sending after {PATIENCE:?}: {:?}",
            statuses(&list)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many reminders are in each status.
fn statuses(list: &[ReminderRecord]) -> HashMap<Option<ReminderStatus>, usize> {
    let mut counts = HashMap::new();
    for r in list {
        *counts.entry(r.status()).or_default() += 1;
    }
    counts
}

/// SIGTERM, then the exit status (at most 30 s).
async fn stop(mut daemon: RunningDaemon) -> std::process::ExitStatus {
    daemon.signal("TERM");
    tokio::time::timeout(Duration::from_secs(30), daemon.child.wait())
        .await
        .expect("the daemon exits within 30 s of SIGTERM")
        .unwrap()
}

/// The daemon's last log lines, for a failure message.
fn tail(daemon: &RunningDaemon) -> String {
    let log = daemon.log.lock().unwrap();
    log.iter().rev().take(15).rev().cloned().collect::<Vec<_>>().join("\n")
}

/// Starts a daemon again on `db` at `clock` after one was killed with
/// `at_kill` messages at the mock, waits until every reminder is settled and
/// checks the far end: none of the `reminders` lost, at most `bound` extra
/// copies, all recorded as sent.
async fn restart_after_kill(
    db: &TestDb,
    mock: &MockGatewayProcess,
    config: &str,
    clock: &str,
    reminders: u32,
    bound: usize,
    at_kill: &Copies,
) {
    let second = RunningDaemon::start_on(&db.url, crate::delivery::SCHEDULES, clock, config).await;
    let list = settled(db).await;
    let copies = mock.copies().await;
    let log = tail(&second);
    assert!(stop(second).await.success(), "{log}");

    assert_eq!(copies.missing(reminders), Vec::<String>::new(), "no reminder is lost");
    assert!(
        copies.extra() <= bound,
        "{} extra copies (up to {} of one reminder) after a kill with {} accepted; at most the {bound} \
         in flight may be sent again\n{log}",
        copies.extra(),
        copies.most(),
        at_kill.total()
    );
    assert_eq!(
        statuses(&list),
        HashMap::from([(Some(ReminderStatus::Sent), reminders as usize)]),
        "every reminder is recorded as sent"
    );
}
