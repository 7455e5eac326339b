//! The real `pengingat run` binary: systemd notifications on a socket the
//! test listens on, HTTP, SIGTERM and SIGHUP.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pengingat::domain::{EmailAddress, PreferredChannel, ReminderStatus};
use pengingat::store::NoProgress;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::UnixDatagram;
use tokio::process::{Child, Command};

use crate::app::Routes;
use crate::helpers::*;

both_backends!(
    reports_ready_serves_and_stops_on_sigterm,
    sighup_reloads_only_valid_schedules,
    sighup_replans_pending_reminders_and_warns_of_unreachable_rules,
);

/// A `pengingat run` child process.
pub(super) struct RunningDaemon {
    pub(super) child: Child,
    /// Its HTTP routes.
    routes: Routes,
    notify: UnixDatagram,
    dir: tempfile::TempDir,
    /// Its JSON log lines on stderr, as they come.
    pub(super) log: Arc<Mutex<Vec<String>>>,
}

pub(super) const SCHEDULES_V1: &str = r#"
[scan]
cron = ["0 */15 * * * *"]
time_zone = "Asia/Jakarta"

[[rule]]
name = "h0"
offset_days = 0
channels = ["sms"]
template = "t"
send_time = "08:00"

[template.t]
text = "Yth. {name}, iuran {month} {amount} jatuh tempo hari ini, {due_date}."
subject = "Iuran BPJS Ketenagakerjaan {month}"
"#;

impl std::ops::Deref for RunningDaemon {
    type Target = Routes;

    fn deref(&self) -> &Routes {
        &self.routes
    }
}

impl RunningDaemon {
    /// Starts the binary on `db` with `schedules`, the clock pinned at `clock`.
    async fn start(db: &TestDb, schedules: &str, clock: &str) -> Self {
        Self::start_with(db, schedules, clock, "").await
    }

    /// As [`RunningDaemon::start`], with more of pengingat.toml (whole tables).
    async fn start_with(db: &TestDb, schedules: &str, clock: &str, more_config: &str) -> Self {
        Self::start_on(&db.url, schedules, clock, more_config).await
    }

    /// As [`RunningDaemon::start_with`], on the database at `url`.
    pub(super) async fn start_on(url: &str, schedules: &str, clock: &str, more_config: &str) -> Self {
        Self::launch(url, schedules, clock, "", more_config).await
    }

    /// As [`RunningDaemon::start`], logging at `level` (`[log] level`).
    pub(super) async fn start_logging_at(db: &TestDb, schedules: &str, clock: &str, level: &str) -> Self {
        Self::launch(&db.url, schedules, clock, &format!("level = \"{level}\"\n"), "").await
    }

    /// The child on `url`; `log` goes into the `[log]` table.
    async fn launch(url: &str, schedules: &str, clock: &str, log: &str, more_config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let schedules_path = dir.path().join("schedules.toml");
        std::fs::write(&schedules_path, schedules).unwrap();
        let config = dir.path().join("pengingat.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"{}\"\n[http]\nbind = \"127.0.0.1:0\"\n[log]\nformat = \"json\"\n{log}\
                 [schedules]\npath = \"{}\"\n{more_config}",
                url,
                schedules_path.display()
            ),
        )
        .unwrap();
        let socket_path = dir.path().join("notify.sock");
        let notify = UnixDatagram::bind(&socket_path).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_pengingat"))
            .arg("--config")
            .arg(&config)
            .args(["--clock", clock, "run"])
            .env("NOTIFY_SOCKET", &socket_path)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start pengingat run");
        let log = Arc::new(Mutex::new(Vec::new()));
        let addr = read_serving_addr(&mut child, log.clone()).await;
        Self {
            child,
            routes: Routes::at(format!("http://{addr}")),
            notify,
            dir,
            log,
        }
    }

    fn schedules_path(&self) -> PathBuf {
        self.dir.path().join("schedules.toml")
    }

    /// The next notification datagram (at most 10 s).
    async fn next_notification(&self) -> String {
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), self.notify.recv(&mut buf))
            .await
            .expect("a notification within 10 s")
            .unwrap();
        String::from_utf8_lossy(&buf[..n]).to_string()
    }

    /// Notifications until one contains `needle`; all of them, in order.
    async fn notifications_until(&self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let message = self.next_notification().await;
            let done = message.contains(needle);
            seen.push(message);
            if done {
                return seen;
            }
        }
    }

    pub(super) fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// Reads the JSON log on stderr until the "serving" line, returning its address,
/// then keeps draining stderr so the child never blocks on a full pipe. Every
/// line goes to `log`.
async fn read_serving_addr(child: &mut Child, log: Arc<Mutex<Vec<String>>>) -> String {
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    let keep = log.clone();
    let addr = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            keep.lock().unwrap().push(line.clone());
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && v["message"] == "pengingat is serving"
            {
                return v["addr"].as_str().map(str::to_string);
            }
        }
        None
    })
    .await
    .expect("the daemon starts serving within 20 s")
    .expect("a serving line with its address");
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            log.lock().unwrap().push(line);
        }
    });
    addr
}

async fn reports_ready_serves_and_stops_on_sigterm(db: &TestDb) {
    load_test_kelurahan(db).await;
    let mut daemon = RunningDaemon::start(db, SCHEDULES_V1, "2025-07-15T01:05:00Z").await;
    let first = daemon.notifications_until("READY=1").await;
    assert!(first.last().unwrap().lines().any(|l| l == "READY=1"), "{first:?}");
    assert_eq!(daemon.get("/healthz").await.0, 200);
    let (_, metrics) = daemon.get("/metrics").await;
    assert!(metrics.contains("# TYPE pengingat_scans_total counter"), "{metrics}");

    daemon.signal("TERM");
    let stopping = daemon.notifications_until("STOPPING=1").await;
    assert!(!stopping.is_empty());
    let status = tokio::time::timeout(Duration::from_secs(5), daemon.child.wait())
        .await
        .expect("exits within 5 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "exit status {status}");
}

async fn sighup_reloads_only_valid_schedules(db: &TestDb) {
    load_test_kelurahan(db).await;
    let mut p = participant(1, "2025-06");
    p.email = Some(EmailAddress::parse("peserta1@example.id").unwrap());
    p.preferred_channel = PreferredChannel::Both;
    db.store
        .upsert_participants(&[p], at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let mut daemon = RunningDaemon::start(db, SCHEDULES_V1, "2025-07-15T01:05:00Z").await;
    daemon.notifications_until("READY=1").await;
    daemon.wait_for_metric("pengingat_scans_total 1").await;
    assert_eq!(
        rules_and_statuses(db).await,
        vec![("h0".to_string(), ReminderStatus::Pending)]
    );

    // A broken file: the daemon keeps running on the old rules.
    write(&daemon.schedules_path(), "[[rule]\nname = \"broken\"\n");
    daemon.signal("HUP");
    let reload = daemon.notifications_until("READY=1").await;
    assert!(
        reload
            .iter()
            .any(|m| m.contains("RELOADING=1") && m.contains("MONOTONIC_USEC=")),
        "{reload:?}"
    );
    let metrics = daemon
        .wait_for_metric("pengingat_schedule_reloads_total{result=\"error\"} 1")
        .await;
    assert!(
        metrics.contains("pengingat_schedule_reloads_total{result=\"error\"} 1"),
        "{metrics}"
    );
    assert_eq!(daemon.get("/healthz").await.0, 200);
    assert_eq!(
        rules_and_statuses(db).await,
        vec![("h0".to_string(), ReminderStatus::Pending)]
    );

    // A fixed file with a new e-mail rule: it applies at the next scan.
    let v2 = SCHEDULES_V1.replace(
        "[template.t]",
        "[[rule]]\nname = \"h0-email\"\noffset_days = 0\nchannels = [\"email\"]\ntemplate = \"t\"\n\
         send_time = \"08:00\"\n\n[template.t]",
    );
    write(&daemon.schedules_path(), &v2);
    daemon.signal("HUP");
    daemon
        .wait_for_metric("pengingat_schedule_reloads_total{result=\"ok\"} 1")
        .await;
    daemon
        .wait_for_metric("pengingat_reminders_created_total{rule=\"h0-email\"} 1")
        .await;
    assert_eq!(
        rules_and_statuses(db).await,
        vec![
            ("h0".to_string(), ReminderStatus::Pending),
            ("h0-email".to_string(), ReminderStatus::Pending)
        ]
    );

    daemon.signal("TERM");
    let status = tokio::time::timeout(Duration::from_secs(5), daemon.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

async fn sighup_replans_pending_reminders_and_warns_of_unreachable_rules(db: &TestDb) {
    load_test_kelurahan(db).await;
    db.store
        .upsert_participants(&[participant(1, "2025-06")], at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    // 08:05 WIB on Tuesday 15 July 2025, July's due date: h0 (08:00) is
    // created at start and waits for a dispatcher (none is configured).
    let mut daemon = RunningDaemon::start_with(
        db,
        SCHEDULES_V1,
        "2025-07-15T01:05:00Z",
        "[standing]\nnonactive_after_months = 2\n",
    )
    .await;
    daemon.notifications_until("READY=1").await;
    daemon.wait_for_metric("pengingat_scans_total 1").await;
    let before = db.store.list_reminders(None, 10).await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].planned_at, at("2025-07-15T01:00:00Z").timestamp());

    // h0 now at 10:00, and a notice that waits for three months in arrears
    // while two already make a participant non-active.
    let v2 = SCHEDULES_V1
        .replace("send_time = \"08:00\"", "send_time = \"10:00\"")
        .replace(
            "[template.t]",
            "[[rule]]\nname = \"nonaktif\"\nanchor = \"nonactive\"\noffset_days = 0\nchannels = [\"sms\"]\n\
         template = \"t\"\nmin_months_in_arrears = 3\n\n[template.t]",
        );
    write(&daemon.schedules_path(), &v2);
    daemon.signal("HUP");
    daemon
        .wait_for_metric("pengingat_schedule_reloads_total{result=\"ok\"} 1")
        .await;
    daemon.wait_for_metric("pengingat_scans_total 2").await;
    let after = db.store.list_reminders(None, 10).await.unwrap();
    assert_eq!(after.len(), 1, "the same reminder, re-planned: {after:?}");
    assert_eq!(after[0].id, before[0].id);
    assert_eq!(after[0].status(), Some(ReminderStatus::Pending));
    assert_eq!(after[0].planned_at, at("2025-07-15T03:00:00Z").timestamp());
    assert_eq!(after[0].expires_at, Some(at("2025-07-15T13:00:00Z").timestamp()));

    let warned = daemon.log.lock().unwrap().iter().any(|line| {
        line.contains("\"level\":\"WARN\"")
            && line.contains("nonaktif")
            && line.contains("standing.nonactive_after_months = 2")
    });
    assert!(warned, "the reload warns of the rule that can never fire");

    daemon.signal("TERM");
    let status = tokio::time::timeout(Duration::from_secs(5), daemon.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

/// Replaces a file the way editors do: write a new one, rename it over.
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn rules_and_statuses(db: &TestDb) -> Vec<(String, ReminderStatus)> {
    let mut v: Vec<_> = db
        .store
        .list_reminders(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| r.status().map(|s| (r.rule, s)))
        .collect();
    v.sort();
    v
}
