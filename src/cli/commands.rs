//! What each command does: load the configuration, open the store, call the
//! library, print the result. No domain logic lives here.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};

use super::database::{kelurahan_filter, open};
use super::progress::TerminalProgress;
use super::{Cli, Command, FileFormatArg, ImportCommand, ImportFileArgs, NamedPopulation, SeedArgs, StatusArgs};
use crate::clock::{Clock, FixedClock, SystemClock};
use crate::config::{self, Settings};
use crate::import::{self, ImportCounts, ImportError, ImportOptions, ImportReport, InputFormat};
use crate::report::status::{self, StatusAt};
use crate::schedule::Schedules;
use crate::seed::{self, Population, SeedOptions};
use crate::store::{self, BulkTable, Store, redact_url};

/// Runs the command line and returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let clock: Arc<dyn Clock> = match cli.clock {
        Some(instant) => Arc::new(FixedClock::at(instant)),
        None => Arc::new(SystemClock),
    };
    match &cli.command {
        Command::Demo(args) => return super::demo::run(args, clock.as_ref()).await,
        Command::Init { dir } => return init(dir),
        _ => {}
    }
    let (settings, source) = match config::load(cli.config.as_deref()) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: invalid configuration\n{e}");
            return Ok(ExitCode::from(2));
        }
    };
    crate::telemetry::init(&settings.log);
    match cli.command {
        Command::CheckConfig => check_config(&settings, &source, clock.now()).await,
        Command::Migrate => {
            let store = open(&settings).await?;
            println!("database {} is up to date", redact_url(&settings.database.url));
            drop(store);
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(what) => import(&settings, what, clock.as_ref()).await,
        Command::Seed(args) => seed_population(&settings, &args, clock.now()).await,
        Command::Status(args) => print_status(&settings, &args, clock.now()).await,
        Command::Report(args) => super::report::print_report(&settings, &args, clock.now()).await,
        Command::Snapshot(args) => super::snapshot::take(&settings, &args, clock.now()).await,
        Command::Retention => super::retention::run(&settings, clock.now()).await,
        Command::Demo(_) | Command::Init { .. } => unreachable_demo(),
        Command::Run => super::daemon::run(settings, clock).await,
        Command::SendTest(args) => super::operator::send_test(&settings, &args).await,
        Command::Participant(command) => super::operator::participant(&settings, &command, clock.as_ref()).await,
        Command::Scan { .. } => super::daemon::scan_once(&settings, clock.as_ref()).await,
        Command::Preview(args) => {
            let date = args.date.unwrap_or_else(|| {
                clock
                    .now()
                    .with_timezone(&crate::domain::RegionTimeZone::Wib.tz())
                    .date_naive()
            });
            super::preview::preview(&settings, date, args.kelurahan.as_deref(), args.samples, args.format).await
        }
    }
}

/// `demo` and `init` are dispatched before the configuration is read.
fn unreachable_demo() -> anyhow::Result<ExitCode> {
    bail!("the demo and init commands run without a configuration file")
}

/// `init DIR`: writes the shipped files out for editing, never over a file.
fn init(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let written = crate::shipped::write_to(dir)?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    println!(
        "\nEdit them, then check them with: pengingat --config {} check-config",
        dir.join("pengingat.toml").display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn check_config(
    settings: &Settings,
    source: &config::ConfigSource,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    println!("configuration: {source} (with PENGINGAT__* environment overrides)");
    println!("database:      {}", redact_url(&settings.database.url));
    let rules = settings.due_date.rules();
    println!(
        "due date:      day {} of the contribution month{}, {} holiday(s) configured",
        rules.day,
        match rules.month_offset {
            0 => String::new(),
            n => format!(" + {n}"),
        },
        rules.holidays.len()
    );
    println!(
        "non-active:    from {} months in arrears",
        settings.standing.nonactive_after_months
    );
    println!("http:          {}", settings.http.bind);
    let store = match store::connect(&settings.database.url, &settings.database.connect_options()).await {
        Ok(store) => match store.ping().await {
            Ok(()) => {
                println!("database:      reachable");
                Some(store)
            }
            Err(e) => {
                println!("database:      NOT reachable: {e}");
                None
            }
        },
        Err(e) => {
            println!("database:      NOT reachable: {e}");
            None
        }
    };
    let wired = check_wiring(settings, store.as_deref()).await;
    let ok = check_schedules(settings, store.as_deref(), now).await && wired;
    if ok {
        println!("\nconfiguration is valid");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(2))
    }
}

/// Builds the channels, receipt endpoints and secrets as `run` does
/// ([`crate::daemon::Wiring`]), reading every secret, and prints the first
/// problem. The database's deployment id is used when it can be read.
async fn check_wiring(settings: &Settings, store: Option<&dyn Store>) -> bool {
    let stored = match store {
        Some(store) => store.deployment_id().await.ok(),
        None => None,
    };
    let deployment = stored
        .and_then(|id| crate::channels::DeploymentId::parse(&id).ok())
        .or_else(|| crate::channels::DeploymentId::parse("checkconfig").ok());
    let Some(deployment) = deployment else { return false };
    match crate::daemon::Wiring::from_settings(settings, deployment, &crate::channels::ChannelHealth::default()) {
        Ok(_) => {
            println!("channels:      SMS gateways, e-mail, receipt endpoints and secrets readable");
            true
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            false
        }
    }
}

/// Validates schedules.toml, then shows the next scan times and every
/// template rendered with a sample participant, its encoding and segments.
async fn check_schedules(settings: &Settings, store: Option<&dyn Store>, now: DateTime<Utc>) -> bool {
    let path = &settings.schedules.path;
    let schedules = match Schedules::load_or_shipped(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return false;
        }
    };
    if schedules.is_shipped() {
        println!(
            "\nschedules:     built in (no file at {}; `pengingat init DIR` writes them out)",
            path.display()
        );
    } else {
        println!("\nschedules:     {}", path.display());
    }
    if let Some(store) = store
        && let Ok(kelurahan) = store.list_kelurahan().await
    {
        let known: std::collections::HashSet<String> = kelurahan.iter().map(|k| k.code.to_string()).collect();
        let problems = schedules.validate_kelurahan(&|code| known.contains(code));
        for p in &problems {
            eprintln!("error: {p}");
        }
        if !problems.is_empty() {
            return false;
        }
    }
    let filters = crate::scan::arrears_filter_warnings(
        &schedules,
        &settings.due_date.rules(),
        &settings.standing.rules(),
        now.date_naive(),
    );
    for w in schedules.warnings().iter().chain(&filters) {
        println!("warning: {w}");
    }
    println!(
        "rules:         {}",
        schedules
            .rules()
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("next scans:");
    for t in schedules.next_scan_times(now, 5) {
        println!(
            "  {}",
            t.with_timezone(&crate::domain::RegionTimeZone::Wib.tz())
                .format("%Y-%m-%d %H:%M:%S WIB")
        );
    }
    print_digest_times(settings, &schedules, now);
    let sample = crate::schedule::ReminderVars::sample();
    for (name, template) in schedules.templates() {
        let text = template.render(&sample);
        let size = crate::schedule::measure(&text);
        let warn = if size.segments > 1 {
            "  WARNING: more than one SMS segment"
        } else {
            ""
        };
        println!(
            "\ntemplate {name}: {:?}, {} characters, {} segment(s){warn}\n  {text}",
            size.encoding, size.units, size.segments
        );
    }
    for w in crate::channels::sms::segment_warnings(&settings.sms, &schedules) {
        println!("warning: {w}");
    }
    true
}

/// The next digest times, in the digest's time zone, when `[digest]` is set.
fn print_digest_times(settings: &Settings, schedules: &Schedules, now: DateTime<Utc>) {
    let Some(digest) = schedules.digest() else {
        println!("next digests:  none (no [digest] table)");
        return;
    };
    println!("next digests ({}):", digest.time_zone.name());
    for t in digest.next_times(now, 3) {
        println!(
            "  {}  week {}",
            t.with_timezone(&digest.time_zone).format("%Y-%m-%d %H:%M:%S %Z"),
            digest.week_of(t)
        );
    }
    if !settings.email.enabled {
        println!("warning: [digest] is set but e-mail is disabled ([email] enabled = false): no digest is sent");
    }
}

async fn import(settings: &Settings, what: ImportCommand, clock: &dyn Clock) -> anyhow::Result<ExitCode> {
    let store = open(settings).await?;
    let (report, noun) = match what {
        ImportCommand::Kelurahan { file } => (import::import_kelurahan(store.as_ref(), &file).await, "kelurahan"),
        ImportCommand::Participants(args) => {
            let progress = TerminalProgress::new(None, "participants");
            let r =
                import::import_participants(store.as_ref(), &args.file, &options(settings, &args, clock), &progress)
                    .await;
            progress.finish();
            (r, "participants")
        }
        ImportCommand::Payments(args) => {
            let progress = TerminalProgress::new(None, "payments");
            let r =
                import::import_payments(store.as_ref(), &args.file, &options(settings, &args, clock), &progress).await;
            progress.finish();
            (r, "payments")
        }
    };
    match report {
        Ok(report) => {
            // The rows are in: statistics that cannot be refreshed only slow the next scan.
            if let Err(e) = store.analyze(&changed_tables(&report.counts)).await {
                tracing::warn!(error = %e, "cannot refresh the planner statistics (ANALYZE)");
            }
            print!("{}", import_summary(&report, noun));
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ ImportError::Invalid { .. }) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

/// The tables an import changed, whose statistics the next scan plans with.
fn changed_tables(counts: &ImportCounts) -> Vec<BulkTable> {
    match counts {
        ImportCounts::Kelurahan(c) if c.inserted + c.updated > 0 => vec![BulkTable::Kelurahan],
        ImportCounts::Participants(c) if c.inserted + c.updated > 0 => vec![BulkTable::Participants],
        // Each new payment may advance its participant's paid-through month.
        ImportCounts::Payments(c) if c.recorded > 0 => vec![BulkTable::Payments, BulkTable::Participants],
        _ => Vec::new(),
    }
}

/// What an import did, in a few lines for the operator.
fn import_summary(report: &ImportReport, noun: &str) -> String {
    let mut out = match report.counts {
        ImportCounts::Participants(c) | ImportCounts::Kelurahan(c) => format!(
            "{noun}: {} rows read, {} inserted, {} updated, {} unchanged\n",
            report.rows, c.inserted, c.updated, c.unchanged
        ),
        ImportCounts::Payments(c) => format!(
            "{noun}: {} rows read, {} recorded, {} already recorded; {} credited to a reminder, \
             {} pending reminders cancelled as paid\n",
            report.rows, c.recorded, c.duplicates, c.credited, c.reminders_cancelled
        ),
    };
    for w in &report.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    if let Some(file) = &report.rejected_file {
        out.push_str(&format!(
            "{} problem(s) in rejected rows, written to {}\n",
            report.rejected.len(),
            file.display()
        ));
    }
    out
}

fn options(settings: &Settings, args: &ImportFileArgs, clock: &dyn Clock) -> ImportOptions {
    ImportOptions {
        skip_invalid: args.skip_invalid,
        now: clock.now(),
        max_paid_ahead_months: settings.standing.max_paid_ahead_months,
        earliest_paid_through: settings.standing.earliest_paid_through,
        format: args.format.map(|f| match f {
            FileFormatArg::Csv => InputFormat::Csv,
            FileFormatArg::Json => InputFormat::Json,
        }),
        attribution_secs: settings.payments.attribution_secs(),
        max_file_bytes: Some(settings.import.max_file_bytes()),
        chunk_rows: settings.import.chunk_rows,
        ..ImportOptions::new(clock.now())
    }
}

async fn seed_population(settings: &Settings, args: &SeedArgs, now: DateTime<Utc>) -> anyhow::Result<ExitCode> {
    let store = open(settings).await?;
    let population = match (&args.population, &args.region) {
        (Some(NamedPopulation::Metro), _) => Population::Metro,
        (None, Some(prefix)) => {
            if !(0.0..=1.0).contains(&args.pu_share) {
                bail!("--pu-share must be between 0 and 1, got {}", args.pu_share);
            }
            Population::Region {
                prefix: prefix.clone(),
                participants: args.participants,
                pu_share: args.pu_share,
            }
        }
        (None, None) => bail!("give --population metro or --region PREFIX"),
    };
    let report = run_seed(store.as_ref(), population, args.seed, now).await?;
    println!(
        "seeded {} participants ({} BPU, {} PU) in {} kelurahan",
        report.participants, report.bpu, report.pu, report.kelurahan
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn run_seed(
    store: &dyn Store,
    population: Population,
    seed: u64,
    now: DateTime<Utc>,
) -> anyhow::Result<seed::SeedReport> {
    let total = match &population {
        Population::Metro => Some(7_446),
        Population::Region { participants, .. } => Some(*participants),
    };
    let progress = TerminalProgress::new(total, "seeding");
    let options = SeedOptions { population, seed, now };
    let report = seed::seed(store, &options, &progress).await;
    progress.finish();
    Ok(report?)
}

async fn print_status(settings: &Settings, args: &StatusArgs, now: DateTime<Utc>) -> anyhow::Result<ExitCode> {
    let at = match &args.at {
        None => StatusAt::Instant(now),
        Some(text) => parse_at(text)?,
    };
    let store = open(settings).await?;
    let filter = kelurahan_filter(store.as_ref(), args.kelurahan.as_deref()).await?;
    let filter = filter.as_deref();
    let report = status::compute(
        store.as_ref(),
        &settings.due_date_rules(),
        &settings.standing.rules(),
        at,
        filter,
    )
    .await?;
    if report.kelurahan.is_empty() {
        eprintln!(
            "no BPU participants{}",
            filter.map(|f| format!(" in kelurahan {f}")).unwrap_or_default()
        );
    }
    print!("{}", status::render_report(&report, args.format));
    Ok(ExitCode::SUCCESS)
}

/// `--at`: a date (YYYY-MM-DD) or an RFC 3339 instant.
fn parse_at(text: &str) -> anyhow::Result<StatusAt> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(StatusAt::Date(date));
    }
    let instant = DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("--at {text:?}: expected YYYY-MM-DD or an RFC 3339 instant"))?;
    Ok(StatusAt::Instant(instant.with_timezone(&Utc)))
}
