//! Delivery receipts and inbound SMS over real HTTP on loopback: the
//! receipt routes served on 127.0.0.1:0 with every preset configured, fed
//! hand-written callbacks in each gateway's format, or real ones from the
//! mock gateway. Reminders are put in `sending` / `sent` with SQL, as the
//! dispatcher would.

mod end_to_end;
mod kannel_reports;
mod late_receipt;
mod opt_out;
mod presets;
mod refusals;
mod signed;
mod transitions;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use pengingat::clock::FixedClock;
use pengingat::config::delivery::SmsSettings;
use pengingat::domain::Channel;
use pengingat::store::{Backend, NoProgress, Occurrence, RuleOccurrences};
use sqlx::{PgPool, SqlitePool};

use crate::app::TestApp;
use crate::helpers::*;

/// The instant receipts arrive at.
pub fn now() -> DateTime<Utc> {
    at("2025-07-15T03:00:00Z")
}

/// The Twilio auth token (the gateway's password), which signs callbacks.
pub const TWILIO_TOKEN: &str = "twilio-auth-token";

/// The receipt token of gateway `name`.
pub fn token(name: &str) -> String {
    format!("{name}-secret")
}

/// The longest a test waits for receipts the mock gateway sends.
const PATIENCE: Duration = Duration::from_secs(10);

/// The dispatcher's "record sent" as it must be written so a receipt that
/// came first is never downgraded: the status moves only from `sending`,
/// the gateway's id is recorded either way.
pub const RECORD_SENT_SQL: &str = "UPDATE reminders \
     SET status = CASE WHEN status = 'sending' THEN 'sent' ELSE status END, \
         gateway = $2, provider_message_id = $3, sent_at = $4, lease_until = NULL, leased_by = NULL, updated_at = $4 \
     WHERE id = $1 AND status IN ('sending', 'delivered', 'undelivered')";

/// The daemon's routes with every preset's gateway configured (see
/// [`Receiver::start_with`]) and the clock at [`now`].
pub type Receiver = TestApp;

impl Receiver {
    /// Serves the receipt routes for every preset: gateways named after
    /// their preset, tokens from files.
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with(db, "").await
    }

    /// The same, with `kannel_extra` (TOML lines) added to the Kannel gateway.
    pub async fn start_with(db: &TestDb, kannel_extra: &str) -> Self {
        let (sms, secrets) = every_preset(kannel_extra);
        TestApp::builder(db)
            .clock(Arc::new(FixedClock::at(now())))
            .gateways(sms, Some(secrets))
            .spawn()
            .await
    }

    /// The signature Twilio sends for `form` posted to `path`.
    pub fn twilio_signature(&self, path: &str, form: &[(&str, &str)]) -> String {
        pengingat::channels::sms::providers::twilio_signature(TWILIO_TOKEN, &self.url(path), form)
    }
}

/// A gateway of every preset, named after it, that nothing is sent to
/// (`http://127.0.0.1:9`), with its receipt token ([`token`]) or Twilio
/// auth token ([`TWILIO_TOKEN`]) in a file of the returned folder;
/// `kannel_extra` (TOML lines) is added to the Kannel gateway.
pub fn every_preset(kannel_extra: &str) -> (SmsSettings, tempfile::TempDir) {
    let secrets = tempfile::tempdir().unwrap();
    let file = |name: &str, content: &str| {
        let path = secrets.path().join(name);
        std::fs::write(&path, format!("{content}\n")).unwrap();
        path.display().to_string()
    };
    let mut toml = String::new();
    for name in ["kannel", "jasmin", "infobip", "webhook"] {
        toml += &format!(
            "[[gateway]]\nname = \"{name}\"\npreset = \"{name}\"\nbase_url = \"http://127.0.0.1:9\"\n\
             receipt_token_file = \"{}\"\n",
            file(name, &token(name))
        );
        if name == "kannel" {
            toml += kannel_extra;
        }
        if name == "webhook" {
            toml += "[gateway.webhook]\npath = \"/webhook/send\"\n";
        }
    }
    toml += &format!(
        "[[gateway]]\nname = \"twilio\"\npreset = \"twilio\"\nbase_url = \"http://127.0.0.1:9\"\n\
         password_file = \"{}\"\n",
        file("twilio", TWILIO_TOKEN)
    );
    (toml::from_str(&toml).unwrap(), secrets)
}

/// Direct SQL on a test database, for setting up what the dispatcher would
/// have written and reading what the store did.
pub enum Sql {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A reminder's delivery columns.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct Delivery {
    pub status: String,
    pub reason: Option<String>,
    pub gateway: Option<String>,
    pub provider_message_id: Option<String>,
    pub sent_at: Option<i64>,
    pub final_at: Option<i64>,
}

/// A stored receipt.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct StoredReceipt {
    pub gateway: String,
    pub provider_message_id: Option<String>,
    pub reminder_id: Option<i64>,
    pub status: String,
    pub raw: String,
    pub received_at: i64,
    pub outcome: String,
}

impl Sql {
    pub async fn open(db: &TestDb) -> Self {
        match db.store.backend() {
            Backend::Sqlite => Self::Sqlite(SqlitePool::connect(&db.url).await.unwrap()),
            Backend::Postgres => Self::Postgres(PgPool::connect(&db.url).await.unwrap()),
        }
    }

    /// Runs a statement with up to four values bound.
    pub async fn exec(&self, sql: &'static str, id: i64, text: Option<&str>, other: Option<&str>, at: i64) {
        match self {
            Self::Sqlite(pool) => {
                let q = sqlx::query(sql).bind(id).bind(text).bind(other).bind(at);
                q.execute(pool).await.unwrap();
            }
            Self::Postgres(pool) => {
                let q = sqlx::query(sql).bind(id).bind(text).bind(other).bind(at);
                q.execute(pool).await.unwrap();
            }
        };
    }

    /// A reminder claimed by the dispatcher, its send not yet recorded.
    pub async fn mark_sending(&self, id: i64) {
        self.exec(
            "UPDATE reminders SET status = 'sending', attempts = attempts + 1, \
             leased_by = COALESCE($2, $3), lease_until = $4 + 120, updated_at = $4 WHERE id = $1",
            id,
            Some("test-dispatcher"),
            None,
            now().timestamp() - 60,
        )
        .await;
    }

    /// The dispatcher's record of an accepted send (see [`RECORD_SENT_SQL`]).
    pub async fn record_sent(&self, id: i64, gateway: &str, pid: Option<&str>, sent_at: i64) {
        self.exec(RECORD_SENT_SQL, id, Some(gateway), pid, sent_at).await;
    }

    /// Claimed then recorded sent, as one step.
    pub async fn mark_sent(&self, id: i64, gateway: &str, pid: Option<&str>, sent_at: i64) {
        self.mark_sending(id).await;
        self.record_sent(id, gateway, pid, sent_at).await;
    }

    pub async fn delivery(&self, id: i64) -> Delivery {
        let sql = "SELECT status, reason, gateway, provider_message_id, sent_at, final_at FROM reminders WHERE id = $1";
        match self {
            Self::Sqlite(pool) => sqlx::query_as(sql).bind(id).fetch_one(pool).await.unwrap(),
            Self::Postgres(pool) => sqlx::query_as(sql).bind(id).fetch_one(pool).await.unwrap(),
        }
    }

    /// Every stored receipt, in received order.
    pub async fn receipts(&self) -> Vec<StoredReceipt> {
        let sql = "SELECT gateway, provider_message_id, reminder_id, status, raw, received_at, outcome \
                   FROM receipts ORDER BY id";
        match self {
            Self::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            Self::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        }
    }

    /// A participant's opt-out flag and time.
    pub async fn opt_out(&self, nik: &str) -> (bool, Option<i64>) {
        let sql = "SELECT opted_out, opted_out_at FROM participants WHERE nik = $1";
        match self {
            Self::Sqlite(pool) => sqlx::query_as(sql).bind(nik).fetch_one(pool).await.unwrap(),
            Self::Postgres(pool) => sqlx::query_as(sql).bind(nik).fetch_one(pool).await.unwrap(),
        }
    }

    /// Waits until reminder `id` is final (for receipts the mock gateway sends).
    pub async fn wait_final(&self, id: i64) -> Delivery {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let delivery = self.delivery(id).await;
            if !matches!(delivery.status.as_str(), "pending" | "sending" | "sent") {
                return delivery;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "reminder {id} never became final: {delivery:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub async fn close(self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// `n` pending SMS reminders for participants 1..=n (NIK `187201120590000k`,
/// phone `+62812000000k`), in participant order.
pub async fn pending_reminders(db: &TestDb, n: u32) -> Vec<i64> {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (1..=n).map(|serial| participant(serial, "2025-06")).collect();
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let batch = RuleOccurrences {
        rule: "h0".into(),
        rule_offset: 0,
        channel: Channel::Sms,
        funding: None,
        holdout: false,
        occurrences: vec![Occurrence {
            kelurahan_code: "18.72.01.1001".into(),
            contribution_month: month("2025-07").index(),
            occurrence_date: 20_284,
            send_date: 20_284,
            planned_at: 1_752_544_800,
            expires_at: None,
            skip_reason: None,
        }],
    };
    let created = db
        .store
        .insert_reminders(&batch, at("2025-07-15T01:00:00Z"))
        .await
        .unwrap();
    assert_eq!(created.created, u64::from(n));
    let mut list = db.store.list_reminders(None, 1_000).await.unwrap();
    list.sort_by_key(|r| r.participant_id);
    list.into_iter().map(|r| r.id).collect()
}
