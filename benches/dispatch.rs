//! Delivery benchmark: N due SMS reminders dispatched end to end — claim,
//! re-check, render, send over HTTP to the mock SMS gateway (a separate
//! process, Kannel preset, receipts off), record the outcome — on each
//! backend. Reports messages per second and CPU time per message of the
//! dispatcher and of the mock.
//!
//! `cargo bench --bench dispatch` (`PENGINGAT_BENCH_MESSAGES` changes N).
//! The daemon's pipelined dispatcher is measured; with
//! `PENGINGAT_BENCH_STEPPED=1` the stepped one (`pengingat demo`'s) instead.

#[path = "support.rs"]
mod support;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use pengingat::channels::{GatewayPool, RetryPolicy};
use pengingat::clock::FixedClock;
use pengingat::config::delivery::{DeliverySettings, GatewaySettings, Preset, RetrySettings, SmsSettings};
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let n: u32 = std::env::var("PENGINGAT_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let (mut mock, base) = start_mock()?;
    println!("delivery benchmark: {n} SMS reminders to the mock gateway at {base} (Kannel preset, receipts off)");
    let mut rows = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let db = if backend == "sqlite" {
            BenchDb::sqlite().await?
        } else {
            BenchDb::postgres().await?
        };
        let result = measure(&db, n, &base, mock.id()).await;
        db.drop_db().await;
        let (secs, cpu, mock_cpu) = result?;
        rows.push((backend, secs, cpu, mock_cpu));
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

/// The mock gateway binary on a free port, without receipts.
fn start_mock() -> Result<(std::process::Child, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-sms-gateway"))
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

/// Seconds, dispatcher CPU seconds and mock CPU seconds for `n` messages.
async fn measure(db: &BenchDb, n: u32, base: &str, mock_pid: u32) -> Result<(f64, f64, f64)> {
    prepare(db, n).await?;
    let dir = tempfile::tempdir()?;
    let password = dir.path().join("kannel");
    std::fs::write(&password, "kannel")?;
    let gateway = GatewaySettings {
        name: "mock".into(),
        preset: Preset::Kannel,
        base_url: base.into(),
        username: Some("kannel".into()),
        password_env: None,
        password_file: Some(password),
        sender: Some("BPJSTK".into()),
        rate_limit_per_second: 1e9,
        timeout_ms: 10_000,
        priority: 1,
        receipt_token_env: None,
        receipt_token_file: None,
        webhook: None,
    };
    let sms = SmsSettings {
        gateways: vec![gateway],
        retry: RetrySettings::default(),
    };
    let http = reqwest::Client::builder().pool_max_idle_per_host(512).build()?;
    let pool = GatewayPool::from_settings(&sms, "http://127.0.0.1:8080", http)?;
    let schedules = Schedules::parse(SCHEDULES, std::path::Path::new("."), "bench.toml")?;
    let (_keep, schedules) = tokio::sync::watch::channel(Arc::new(schedules));
    let dispatcher = Dispatcher {
        store: db.store.clone(),
        sms: Some(Arc::new(pool)),
        email: None,
        schedules,
        due: DueDateRules::default(),
        standing: StandingRules::default(),
        settings: DeliverySettings {
            batch_size: 2_000,
            concurrency: 128,
            batches_in_flight: std::env::var("PENGINGAT_BENCH_BATCHES_IN_FLIGHT")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(2),
            ..DeliverySettings::default()
        },
        retry: RetryPolicy::from_settings(&RetrySettings::default()),
        clock: Arc::new(FixedClock::at("2025-07-15T02:00:30Z".parse()?)),
        worker: "bench".into(),
        presets: [("mock".to_string(), Preset::Kannel)].into_iter().collect(),
        kelurahan: Default::default(),
        metrics: Default::default(),
    };
    let (cpu0, mock0) = (cpu_seconds("self")?, cpu_seconds(&mock_pid.to_string())?);
    let started = Instant::now();
    let sent = if std::env::var_os("PENGINGAT_BENCH_STEPPED").is_some() {
        dispatcher.drain().await?.sent
    } else {
        run_until_sent(dispatcher, n).await?
    };
    let secs = started.elapsed().as_secs_f64();
    let (cpu1, mock1) = (cpu_seconds("self")?, cpu_seconds(&mock_pid.to_string())?);
    anyhow::ensure!(sent == u64::from(n), "sent {sent} of {n}");
    Ok((secs, cpu1 - cpu0, mock1 - mock0))
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
