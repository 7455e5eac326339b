//! Delivery benchmark: N due SMS reminders dispatched end to end — claim,
//! re-check, render, send over HTTP to the mock SMS gateway (a separate
//! process, Kannel preset, receipts off), record the outcome — on each
//! backend. Reports messages per second and CPU time per message of the
//! dispatcher and of the mock.
//!
//! `cargo build --release -p mock-sms-gateway && cargo bench --bench dispatch`
//! (`PENGINGAT_BENCH_MESSAGES` changes N).
//! The daemon's pipelined dispatcher is measured; with
//! `PENGINGAT_BENCH_STEPPED=1` the stepped one (`pengingat demo`'s) instead.
//!
//! Against a gateway already running (`benches/dispatch-vs-pgboss.sh`):
//! `PENGINGAT_BENCH_GATEWAY=http://127.0.0.1:PORT/webhook/send` sends through
//! the generic webhook preset (JSON `{id, to, text}`) to that URL with the
//! shipped `[delivery]` defaults, and prints one JSON line per backend.
//! `PENGINGAT_BENCH_BACKENDS` (`sqlite,postgres`), `PENGINGAT_BENCH_BATCH`
//! and `PENGINGAT_BENCH_CONCURRENCY` narrow or change the run;
//! `PENGINGAT_BENCH_GATEWAY_PID` names the gateway's process for its CPU.

#[path = "support.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use pengingat::channels::{DeploymentId, GatewayPool, RetryPolicy};
use pengingat::clock::FixedClock;
use pengingat::config::delivery::{
    DeliverySettings, GatewaySettings, Preset, RetrySettings, SmsSettings, WebhookSettings, default_idempotency_header,
};
use pengingat::dispatch::Dispatcher;
use pengingat::domain::*;
use pengingat::schedule::Schedules;
use pengingat::store::{Kelurahan, NoProgress, Occurrence, RuleOccurrences};
use support::BenchDb;

const PLANNED: i64 = 1_752_544_800; // 2025-07-15T02:00:00Z, 09:00 WIB
const SCHEDULES: &str = r#"
[scan]
cron = ["0 */15 * * * *"]
time_zone = "Asia/Jakarta"

[[rule]]
name = "h0"
offset_days = 0
channels = ["sms"]
template = "t"
send_time = "09:00"

[template.t]
text = "Yth. {name}, iuran BPJS Ketenagakerjaan {month} sebesar {amount} jatuh tempo hari ini {due_date}."
"#;

/// Where the messages go.
struct Target {
    /// The gateway's base URL.
    base: String,
    /// The gateway's process, for its CPU time.
    pid: Option<u32>,
    /// A gateway given from outside: generic webhook to this path, one JSON
    /// line per backend, shipped `[delivery]` defaults.
    webhook_path: Option<String>,
}

/// A number from the environment.
fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let n: u32 = env_number("PENGINGAT_BENCH_MESSAGES").unwrap_or(50_000);
    let backends = std::env::var("PENGINGAT_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if let Ok(url) = std::env::var("PENGINGAT_BENCH_GATEWAY") {
        let url = reqwest::Url::parse(&url).context("PENGINGAT_BENCH_GATEWAY")?;
        let target = Target {
            base: url.origin().ascii_serialization(),
            pid: env_number("PENGINGAT_BENCH_GATEWAY_PID"),
            webhook_path: Some(url.path().to_string()),
        };
        for backend in backends.split(',').map(str::trim) {
            let db = open(backend).await?;
            let result = measure(&db, n, &target).await;
            db.drop_db().await;
            let run = result?;
            let line = serde_json::json!({
                "system": "pengingat", "backend": backend, "messages": n,
                "seconds": run.seconds, "msgs_per_s": (f64::from(n) / run.seconds).round(),
                "started_at": run.started_at, "ended_at": run.ended_at,
                "dispatcher_cpu_s": run.cpu, "peak_rss_mb": support::peak_rss_mb().round(),
            });
            println!("{line}");
        }
        return Ok(());
    }
    let (mut mock, base) = start_mock()?;
    println!("delivery benchmark: {n} SMS reminders to the mock gateway at {base} (Kannel preset, receipts off)");
    let mut rows = Vec::new();
    let target = Target {
        base: base.clone(),
        pid: Some(mock.id()),
        webhook_path: None,
    };
    for backend in backends.split(',').map(str::trim) {
        let db = open(backend).await?;
        let result = measure(&db, n, &target).await;
        db.drop_db().await;
        let run = result?;
        rows.push((backend, run.seconds, run.cpu, run.gateway_cpu));
    }
    let _ = mock.kill();
    println!("\n| backend | messages | seconds | messages/s | dispatcher CPU per message | mock CPU per message |");
    println!("|---|---|---|---|---|---|");
    for (backend, secs, cpu, mock_cpu) in rows {
        println!(
            "| {backend} | {n} | {secs:.2} | {:.0} | {:.1} µs | {:.1} µs |",
            f64::from(n) / secs,
            cpu / f64::from(n) * 1e6,
            mock_cpu / f64::from(n) * 1e6
        );
    }
    println!("\npeak RSS of the benchmark process: {:.0} MB", support::peak_rss_mb());
    Ok(())
}

/// The mock gateway binary on a free port, without receipts. It is the
/// workspace member mock-sms-gateway's, built beside pengingat's by
/// `cargo build --release` (Cargo tells a benchmark only where its own
/// package's binaries are).
fn start_mock() -> Result<(std::process::Child, String)> {
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_pengingat"))
        .with_file_name(format!("mock-sms-gateway{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        binary.is_file(),
        "{} is missing: build it first with `cargo build --release -p mock-sms-gateway`",
        binary.display()
    );
    let mut child = Command::new(&binary)
        .args(["--listen", "127.0.0.1:0", "--no-receipts", "--max-recorded", "1000"])
        .stdout(Stdio::piped())
        .spawn()
        .context("start mock-sms-gateway")?;
    let stdout = child.stdout.take().context("mock stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .context("the mock's first line")?
        .to_string();
    Ok((child, format!("http://{addr}")))
}

/// A fresh database on `backend` (`sqlite` or `postgres`).
async fn open(backend: &str) -> Result<BenchDb> {
    match backend {
        "sqlite" => BenchDb::sqlite().await,
        "postgres" => BenchDb::postgres().await,
        other => anyhow::bail!("unknown backend {other:?} (sqlite or postgres)"),
    }
}

/// One measured drain.
struct Run {
    /// Wall time of the drain.
    seconds: f64,
    /// When the drain started and ended, Unix seconds (to cut other
    /// processes' CPU samples to the drain).
    started_at: f64,
    ended_at: f64,
    /// This process's CPU seconds during the drain.
    cpu: f64,
    /// The gateway's CPU seconds during the drain (0 when unknown).
    gateway_cpu: f64,
}

/// Now, Unix seconds.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The gateway the dispatcher sends through: the Kannel preset to our own
/// mock, or the generic webhook (`{id, to, text}`) to a gateway given.
fn gateway_settings(target: &Target, password: std::path::PathBuf) -> GatewaySettings {
    let webhook = target.webhook_path.as_ref().map(|path| WebhookSettings {
        method: "POST".into(),
        path: path.clone(),
        headers: BTreeMap::new(),
        body: "json".into(),
        fields: [("id", "{id}"), ("to", "{to}"), ("text", "{text}")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        message_id_pointer: Some("/message_id".into()),
        success_status: vec![200],
        receipt: Default::default(),
        idempotency_header: default_idempotency_header(),
    });
    GatewaySettings {
        name: "mock".into(),
        preset: if webhook.is_some() {
            Preset::Webhook
        } else {
            Preset::Kannel
        },
        base_url: target.base.clone(),
        username: Some("kannel".into()),
        password_env: None,
        password_file: Some(password),
        sender: Some("BPJSTK".into()),
        rate_limit_per_second: 1e9,
        timeout_ms: 10_000,
        priority: 1,
        receipt_token_env: None,
        receipt_token_file: None,
        receipt_auth: Default::default(),
        max_segments: None,
        ca_file: None,
        webhook,
    }
}

/// The `[delivery]` settings of a run: the shipped defaults against a given
/// gateway, else batches of 2,000 with 128 in flight; the environment may
/// change the batch and the concurrency.
fn delivery_settings(target: &Target) -> DeliverySettings {
    let mut settings = if target.webhook_path.is_some() {
        DeliverySettings::default()
    } else {
        DeliverySettings {
            batch_size: 2_000,
            concurrency: 128,
            batches_in_flight: env_number("PENGINGAT_BENCH_BATCHES_IN_FLIGHT").unwrap_or(2),
            ..DeliverySettings::default()
        }
    };
    if let Some(batch) = env_number("PENGINGAT_BENCH_BATCH") {
        settings.batch_size = batch;
    }
    if let Some(concurrency) = env_number("PENGINGAT_BENCH_CONCURRENCY") {
        settings.concurrency = concurrency;
    }
    settings
}

/// Dispatches `n` due reminders to `target` and measures it.
async fn measure(db: &BenchDb, n: u32, target: &Target) -> Result<Run> {
    prepare(db, n).await?;
    let dir = tempfile::tempdir()?;
    let password = dir.path().join("kannel");
    std::fs::write(&password, "kannel")?;
    let gateway = gateway_settings(target, password);
    let preset = gateway.preset;
    let sms = SmsSettings {
        gateways: vec![gateway],
        retry: RetrySettings::default(),
    };
    let http = reqwest::Client::builder().pool_max_idle_per_host(512).build()?;
    let deployment = DeploymentId::parse(&db.store.deployment_id().await?)?;
    let pool = GatewayPool::from_settings(&sms, "http://127.0.0.1:8080", http)?.for_deployment(deployment);
    let schedules = Schedules::parse(SCHEDULES, std::path::Path::new("."), "bench.toml")?;
    let (_keep, schedules) = tokio::sync::watch::channel(Arc::new(schedules));
    let dispatcher = Dispatcher {
        store: db.store.clone(),
        sms: Some(Arc::new(pool)),
        email: None,
        schedules,
        due: DueDateRules::default(),
        standing: StandingRules::default(),
        settings: delivery_settings(target),
        retry: RetryPolicy::from_settings(&RetrySettings::default()),
        clock: Arc::new(FixedClock::at("2025-07-15T02:00:30Z".parse()?)),
        worker: "bench".into(),
        presets: [("mock".to_string(), preset)].into_iter().collect(),
        kelurahan: Default::default(),
        metrics: Default::default(),
    };
    let gateway_cpu = || target.pid.map_or(Ok(0.0), |pid| cpu_seconds(&pid.to_string()));
    let (cpu0, mock0) = (cpu_seconds("self")?, gateway_cpu()?);
    let started_at = unix_now();
    let started = Instant::now();
    let sent = if std::env::var_os("PENGINGAT_BENCH_STEPPED").is_some() {
        dispatcher.drain().await?.sent
    } else {
        run_until_sent(dispatcher, n).await?
    };
    let seconds = started.elapsed().as_secs_f64();
    let ended_at = unix_now();
    let (cpu1, mock1) = (cpu_seconds("self")?, gateway_cpu()?);
    anyhow::ensure!(sent == u64::from(n), "sent {sent} of {n}");
    Ok(Run {
        seconds,
        started_at,
        ended_at,
        cpu: cpu1 - cpu0,
        gateway_cpu: mock1 - mock0,
    })
}

/// Runs the daemon's dispatcher until `n` messages were accepted, then
/// stops it gracefully (every outcome recorded); returns the messages sent.
async fn run_until_sent(dispatcher: Dispatcher, n: u32) -> Result<u64> {
    let metrics = dispatcher.metrics.clone();
    let cancel = tokio_util::sync::CancellationToken::new();
    let run = tokio::spawn(dispatcher.run(cancel.clone()));
    while metrics.attempts("sms", "sent") < u64::from(n) {
        anyhow::ensure!(!run.is_finished(), "the dispatcher stopped early");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    cancel.cancel();
    run.await?;
    Ok(metrics.attempts("sms", "sent"))
}

/// `n` participants, each with a pending h0 SMS reminder due now.
async fn prepare(db: &BenchDb, n: u32) -> Result<()> {
    let code = KelurahanCode::parse("18.72.01.1001")?;
    let kelurahan = Kelurahan {
        time_zone: code.time_zone(),
        code,
        name: "Metro".into(),
        kecamatan: "Metro Pusat".into(),
        kabupaten_kota: "Kota Metro".into(),
        provinsi: "Lampung".into(),
    };
    db.store.upsert_kelurahan(&[kelurahan]).await?;
    let june = ContributionMonth::new(2025, 6).context("month")?;
    let rows: Vec<NewParticipant> = (0..n)
        .map(|i| NewParticipant {
            nik: Nik::parse(&format!("187201{:02}0590{:04}", 10 + i / 9_999, i % 9_999 + 1)).expect("NIK"),
            kpj: None,
            name: ParticipantName::parse(&format!("Peserta {i}")).expect("name"),
            phone: Some(PhoneNumber::parse(&format!("0813{i:08}")).expect("phone")),
            email: None,
            kelurahan: KelurahanCode::parse("18.72.01.1001").expect("code"),
            segment: Segment::Bpu,
            funding: Funding::SelfPaid,
            monthly_amount: Rupiah::new(16_800).expect("amount"),
            start_month: june.plus(-12),
            paid_through: june,
            preferred_channel: PreferredChannel::Sms,
            opted_out: false,
        })
        .collect();
    for chunk in rows.chunks(10_000) {
        db.store
            .upsert_participants(chunk, "2025-07-01T00:00:00Z".parse()?, &NoProgress)
            .await?;
    }
    let batch = RuleOccurrences {
        rule: "h0".into(),
        rule_offset: 0,
        channel: Channel::Sms,
        funding: None,
        holdout: false,
        occurrences: vec![Occurrence {
            kelurahan_code: "18.72.01.1001".into(),
            contribution_month: june.next().index(),
            occurrence_date: 20_284,
            send_date: 20_284,
            planned_at: PLANNED,
            expires_at: Some(PLANNED + 36_000),
            skip_reason: None,
        }],
    };
    db.store
        .insert_reminders(&batch, "2025-07-15T01:59:00Z".parse()?)
        .await?;
    Ok(())
}

/// User + system CPU seconds of a process (`self` or a pid), from /proc.
fn cpu_seconds(pid: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).context("stat format")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    Ok(ticks / 100.0)
}
