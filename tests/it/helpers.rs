//! Shared test setup: a fresh database per test on each backend, and small
//! builders for domain values.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use pengingat::domain::*;
use pengingat::store::{self, ConnectOptions, Kelurahan, Store};

/// The PostgreSQL server tests create their databases on. Any role that may
/// `CREATE DATABASE` works; the default matches a local trust-auth server.
pub fn postgres_admin_url() -> String {
    std::env::var("PENGINGAT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".to_string())
}

/// A migrated, empty database that belongs to one test.
pub struct TestDb {
    /// The store under test.
    pub store: Arc<dyn Store>,
    /// The URL the store was opened with (for tests that start the binary).
    pub url: String,
    /// For PostgreSQL, the database to drop afterwards.
    pg_name: Option<String>,
    /// For SQLite, the directory holding the file; removed on drop.
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh SQLite database in its own temporary directory.
pub async fn sqlite_db() -> TestDb {
    crate::prerequisites::require();
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("pengingat.db").display());
    let store = store::connect(&url, &ConnectOptions::default())
        .await
        .expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    TestDb {
        store,
        url,
        pg_name: None,
        _dir: Some(dir),
    }
}

/// A fresh PostgreSQL database with a unique name.
pub async fn postgres_db() -> TestDb {
    crate::prerequisites::require();
    let admin = postgres_admin_url();
    let name = format!(
        "pengingat_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        rand::random::<u32>()
    );
    let admin_pool = sqlx::PgPool::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must be reachable at {admin} for the test suite: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin_pool)
        .await
        .expect("create test database");
    admin_pool.close().await;
    let url = database_url_for(&admin, &name);
    let store = store::connect(&url, &ConnectOptions::default())
        .await
        .expect("open PostgreSQL");
    store.migrate().await.expect("migrate PostgreSQL");
    TestDb {
        store,
        url,
        pg_name: Some(name),
        _dir: None,
    }
}

/// `admin` with its database name replaced by `name`.
fn database_url_for(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(head, _)| head);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDb {
    /// Drops a PostgreSQL test database (a failed test keeps its database
    /// for inspection, as `#[sqlx::test]` does).
    pub async fn cleanup(self) {
        let Some(name) = self.pg_name.clone() else { return };
        drop(self.store);
        if let Ok(pool) = sqlx::PgPool::connect(&postgres_admin_url()).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&pool)
            .await;
            pool.close().await;
        }
    }
}

/// Runs one statement on the test database directly (to clear tables
/// between the cases of one test).
pub async fn execute_sql(db: &TestDb, sql: &'static str) {
    if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// Runs each named `async fn(&TestDb)` on both backends.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = crate::helpers::sqlite_db().await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let db = crate::helpers::postgres_db().await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            }
        )*
    };
}

/// One scan with the shipped schedules and national rules at `now`, with
/// `memo` (a daemon's way) or without (a process's first scan).
pub async fn scan_shipped(
    db: &TestDb,
    now: DateTime<Utc>,
    memo: Option<&mut pengingat::scan::ScanMemo>,
) -> pengingat::scan::ScanReport {
    use pengingat::scan::{self, ScanContext};
    let schedules = pengingat::schedule::Schedules::load(std::path::Path::new("config/schedules.toml"))
        .expect("the shipped schedules load");
    let kelurahan = db.store.list_kelurahan().await.unwrap();
    let standing = StandingRules::default();
    let due = DueDateRules::default();
    let ctx = ScanContext {
        schedules: &schedules,
        kelurahan: &kelurahan,
        due: &due,
        standing: &standing,
    };
    match memo {
        Some(memo) => scan::run_remembering(db.store.as_ref(), &ctx, now, memo).await,
        None => scan::run(db.store.as_ref(), &ctx, now).await,
    }
    .expect("scan")
}

/// An instant from RFC 3339 text.
pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339 instant")
}

pub fn month(s: &str) -> ContributionMonth {
    ContributionMonth::parse(s).expect("YYYY-MM")
}

/// A kelurahan with made-up names under `code`.
pub fn kelurahan(code: &str, name: &str) -> Kelurahan {
    let code = KelurahanCode::parse(code).expect("kelurahan code");
    Kelurahan {
        time_zone: code.time_zone(),
        code,
        name: name.to_string(),
        kecamatan: "Kecamatan Uji".to_string(),
        kabupaten_kota: "Kota Uji".to_string(),
        provinsi: "Provinsi Uji".to_string(),
    }
}

/// Two Kota Metro kelurahan (WIB) and one in Kota Denpasar (WITA).
pub async fn load_test_kelurahan(db: &TestDb) {
    db.store
        .upsert_kelurahan(&[
            kelurahan("18.72.01.1001", "Metro"),
            kelurahan("18.72.01.1005", "Yosomulyo"),
            kelurahan("51.71.01.1001", "Dangin Puri"),
        ])
        .await
        .expect("load kelurahan");
}

/// A BPU participant of Metro, self-funded, Rp16.800 a month, paid through
/// `paid_through`; `serial` makes the NIK and phone unique.
pub fn participant(serial: u32, paid_through: &str) -> NewParticipant {
    let paid_through = month(paid_through);
    NewParticipant {
        nik: Nik::parse(&format!("187201120590{:04}", serial)).expect("NIK"),
        kpj: None,
        name: ParticipantName::parse(&format!("Peserta {serial}")).expect("name"),
        phone: Some(PhoneNumber::parse(&format!("0812{:08}", serial)).expect("phone")),
        email: None,
        kelurahan: KelurahanCode::parse("18.72.01.1001").expect("code"),
        segment: Segment::Bpu,
        funding: Funding::SelfPaid,
        monthly_amount: Rupiah::new(16_800).expect("amount"),
        start_month: month("2024-01"),
        paid_through,
        preferred_channel: PreferredChannel::Sms,
        opted_out: false,
    }
}

/// A payment of `amount` by the participant with `serial`.
pub fn payment(reference: &str, serial: u32, amount: i64, paid_at: &str) -> NewPayment {
    NewPayment {
        external_ref: ExternalRef::parse(reference).expect("reference"),
        payer: Payer::Nik(Nik::parse(&format!("187201120590{:04}", serial)).expect("NIK")),
        amount: Rupiah::new(amount).expect("amount"),
        months: None,
        paid_at: at(paid_at),
        channel: PaymentChannel::parse("jmo").expect("channel"),
    }
}

/// The h0 reminder of July 2025 for Metro's participants whose first unpaid
/// month is July: due Tuesday 15 July, planned 09:00 WIB, expiring at 19:00.
pub fn h0_july(channel: Channel) -> pengingat::store::RuleOccurrences {
    let planned = at("2025-07-15T02:00:00Z").timestamp();
    pengingat::store::RuleOccurrences {
        rule: "h0".into(),
        rule_offset: 0,
        channel,
        funding: None,
        holdout: false,
        occurrences: vec![pengingat::store::Occurrence {
            kelurahan_code: "18.72.01.1001".into(),
            contribution_month: month("2025-07").index(),
            occurrence_date: 20_284,
            send_date: 20_284,
            planned_at: planned,
            expires_at: Some(planned + 10 * 3600),
            skip_reason: None,
        }],
    }
}
