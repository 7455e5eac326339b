//! A delivery receipt that comes after the payment it was credited with:
//! the real daemon on 127.0.0.1:0 sends through the mock gateway, whose
//! "undelivered" receipts are held at a gate in front of the daemon's
//! receipt endpoint until the payments are recorded. When they pass, each
//! payment's credit moves to the latest reminder still eligible in its
//! window (or to none), in the receipt's transaction, and both the credit
//! and its withdrawal stay in the history.

use std::sync::Arc;
use std::time::Duration;

use mock_sms_gateway::MockGatewayConfig;
use pengingat::clock::FixedClock;
use pengingat::config::Settings;
use pengingat::config::delivery::{Preset, SmsSettings};
use pengingat::domain::ReminderStatus;
use pengingat::store::{NoProgress, OutcomeFilter, ReminderRecord};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::app::TestDaemon;
use crate::channels::{Secrets, gateway};
use crate::helpers::*;
use crate::mock_gateway::Gateway;

both_backends!(a_late_undelivered_receipt_moves_the_credit);

const SCHEDULES: &str = r#"
[scan]
cron = ["0 */15 * * * *"]
time_zone = "Asia/Jakarta"

[[rule]]
name = "h-7"
offset_days = -7
channels = ["sms"]
template = "t"
send_time = "09:00"

[[rule]]
name = "h0"
offset_days = 0
channels = ["sms"]
template = "t"
send_time = "09:00"

[template.t]
text = "Yth. {name}, iuran BPJS Ketenagakerjaan {month} sebesar {amount} jatuh tempo {due_date}."
"#;

const PAYMENTS_TOKEN: &str = "rahasia-pembayaran";

/// A daemon on its own port, the clock pinned, sending through `mock`
/// with receipts addressed to `public_url`.
struct RunningDaemon {
    daemon: TestDaemon,
    _files: tempfile::TempDir,
    _secrets: Secrets,
}

impl RunningDaemon {
    async fn start(db: &TestDb, mock: &Gateway, clock: &str, listener: TcpListener, public_url: &str) -> Self {
        let files = tempfile::tempdir().unwrap();
        let schedules_path = files.path().join("schedules.toml");
        std::fs::write(&schedules_path, SCHEDULES).unwrap();
        let token_path = files.path().join("payments-token");
        std::fs::write(&token_path, format!("{PAYMENTS_TOKEN}\n")).unwrap();
        let secrets = Secrets::new();
        let mut settings = Settings::default();
        settings.database.url = db.url.clone();
        settings.schedules.path = schedules_path;
        settings.delivery.public_url = public_url.to_string();
        settings.delivery.poll_ms = 20;
        settings.payments.token_file = Some(token_path);
        settings.sms = SmsSettings {
            gateways: vec![gateway("gw", Preset::Kannel, &mock.base, &secrets)],
            ..Default::default()
        };
        let daemon = TestDaemon::start_on(listener, settings, Arc::new(FixedClock::at(at(clock)))).await;
        Self {
            daemon,
            _files: files,
            _secrets: secrets,
        }
    }

    async fn pay(&self, body: Value) -> Value {
        let (status, answer) = self.daemon.post_payment(Some(PAYMENTS_TOKEN), &body.to_string()).await;
        assert_eq!(status, 201);
        answer
    }

    async fn stop(self) {
        self.daemon.stop().await;
    }
}

/// The mock, deciding every message `delivered` or not, receipts at once.
async fn mock(delivered: bool) -> Gateway {
    let mut config: MockGatewayConfig = crate::mock_gateway::config();
    config.receipts.delivered_ratio = if delivered { 1.0 } else { 0.0 };
    // Receipts wait at the gate for as long as the test needs.
    config.receipts.callback_timeout = Duration::from_secs(60);
    Gateway::start(config).await
}

/// A TCP gate: connections queue at `listener` until `open` is sent, then
/// each is spliced to `target`.
fn gate(listener: TcpListener, target: String) -> oneshot::Sender<()> {
    let (open, opened) = oneshot::channel::<()>();
    tokio::spawn(async move {
        if opened.await.is_err() {
            return;
        }
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    open
}

/// Polls the reminders until `done` holds for them (at most 20 s).
async fn wait_for(db: &TestDb, what: &str, done: impl Fn(&[ReminderRecord]) -> bool) -> Vec<ReminderRecord> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = db.store.list_reminders(None, 100).await.unwrap();
        if done(&list) {
            return list;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {list:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn has(list: &[ReminderRecord], nik: &str, rule: &str, status: ReminderStatus) -> bool {
    list.iter()
        .any(|r| r.nik == nik && r.rule == rule && r.status() == Some(status))
}

fn id_of(list: &[ReminderRecord], nik: &str, rule: &str) -> i64 {
    list.iter()
        .find(|r| r.nik == nik && r.rule == rule)
        .map(|r| r.id)
        .unwrap()
}

fn nik(serial: u32) -> String {
    format!("187201120590{serial:04}")
}

async fn a_late_undelivered_receipt_moves_the_credit(db: &TestDb) {
    // July 2025 is due Tuesday 15 July. Participant 1 is imported early and
    // gets h-7 on 8 July, delivered; participant 2 only after that.
    load_test_kelurahan(db).await;
    db.store
        .upsert_participants(&[participant(1, "2025-06")], at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let (one, two) = (nik(1), nik(2));
    let delivering = mock(true).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let direct = format!("http://{}", listener.local_addr().unwrap());
    let daemon = RunningDaemon::start(db, &delivering, "2025-07-08T02:00:30Z", listener, &direct).await;
    wait_for(db, "h-7 delivered", |l| has(l, &one, "h-7", ReminderStatus::Delivered)).await;
    daemon.stop().await;
    delivering.stop().await;

    // 15 July, 09:00:30 WIB: both get h0; the network will report both
    // undelivered, but the receipts wait at the gate.
    db.store
        .upsert_participants(&[participant(2, "2025-06")], at("2025-07-09T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let failing = mock(false).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let daemon_addr = listener.local_addr().unwrap().to_string();
    let gate_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gated = format!("http://{}", gate_listener.local_addr().unwrap());
    let open = gate(gate_listener, daemon_addr);
    let daemon = RunningDaemon::start(db, &failing, "2025-07-15T02:00:30Z", listener, &gated).await;
    let sent = wait_for(db, "both h0 sent", |l| {
        has(l, &one, "h0", ReminderStatus::Sent) && has(l, &two, "h0", ReminderStatus::Sent)
    })
    .await;
    let (h7_one, h0_one, h0_two) = (
        id_of(&sent, &one, "h-7"),
        id_of(&sent, &one, "h0"),
        id_of(&sent, &two, "h0"),
    );

    // Both pay right after the send: each payment is credited to its h0.
    for (reference, nik, h0) in [("JMO-1", &one, h0_one), ("JMO-2", &two, h0_two)] {
        let answer = daemon
            .pay(json!({"external_ref": reference, "nik": nik, "amount": 16800,
                        "paid_at": "2025-07-15T02:00:30Z", "channel": "jmo"}))
            .await;
        assert_eq!(answer["results"][0]["attributed_reminder"]["id"], h0, "{answer}");
        assert_eq!(answer["results"][0]["attributed_reminder"]["rule"], "h0", "{answer}");
    }

    // The late receipts pass: both h0 are undelivered.
    open.send(()).unwrap();
    wait_for(db, "both h0 undelivered", |l| {
        has(l, &one, "h0", ReminderStatus::Undelivered) && has(l, &two, "h0", ReminderStatus::Undelivered)
    })
    .await;

    // Participant 1's payment now counts for h-7, delivered seven days
    // before; participant 2 had no other reminder: credited to none.
    let credited = db.store.attributed_payments(&OutcomeFilter::default()).await.unwrap();
    let credited: Vec<(i64, String, i32, i64)> = credited
        .into_iter()
        .map(|a| (a.reminder_id, a.rule, a.days_to_pay, a.amount))
        .collect();
    assert_eq!(credited, vec![(h7_one, "h-7".to_string(), 7, 16_800)]);

    // The history keeps the credit and its move, with the reason.
    let moves = credit_history(db).await;
    assert_eq!(
        moves,
        vec![
            ("JMO-1".to_string(), Some(h0_one), Some(h7_one)),
            ("JMO-2".to_string(), Some(h0_two), None),
        ],
    );
    let reasons = credit_reasons(db).await;
    assert!(reasons.iter().all(|r| r.contains("undelivered")), "{reasons:?}");
    daemon.stop().await;
    failing.stop().await;
}

/// (payment reference, from reminder, to reminder) of every credit move.
async fn credit_history(db: &TestDb) -> Vec<(String, Option<i64>, Option<i64>)> {
    let sql = "SELECT p.external_ref, c.from_reminder_id, c.to_reminder_id FROM payment_credit_changes c \
               JOIN payments p ON p.id = c.payment_id ORDER BY p.external_ref, c.id";
    read(db, sql).await
}

async fn credit_reasons(db: &TestDb) -> Vec<String> {
    let rows: Vec<(String, Option<i64>, Option<i64>)> = read(
        db,
        "SELECT reason, from_reminder_id, to_reminder_id FROM payment_credit_changes ORDER BY id",
    )
    .await;
    rows.into_iter().map(|(reason, _, _)| reason).collect()
}

async fn read(db: &TestDb, sql: &'static str) -> Vec<(String, Option<i64>, Option<i64>)> {
    if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}
