//! `pengingat demo`: the whole loop on the embedded default, in a directory
//! of its own: a SQLite database, the Kota Metro population, a scan with the
//! shipped schedules, and the resulting status.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context;

use super::DemoArgs;
use super::commands::{open, run_seed};
use crate::clock::Clock;
use crate::config::Settings;
use crate::report::OutputFormat;
use crate::report::status::{self, StatusAt};
use crate::report::table::{Align, render};
use crate::scan::{self, ScanContext};
use crate::schedule::Schedules;
use crate::seed::Population;
use crate::store::redact_url;

pub async fn run(args: &DemoArgs, clock: &dyn Clock) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::default();
    std::fs::create_dir_all(&args.dir).with_context(|| format!("cannot create {}", args.dir.display()))?;
    settings.database.url = format!("sqlite://{}", args.dir.join("pengingat.db").display());
    crate::telemetry::init(&settings.log);
    let store = open(&settings).await?;
    println!("pengingat demo: database {}", redact_url(&settings.database.url));
    let now = clock.now();
    let report = run_seed(store.as_ref(), Population::Metro, args.seed, now).await?;
    println!(
        "Kota Metro population: {} participants ({} BPU, {} PU) in {} kelurahan",
        report.participants, report.bpu, report.pu, report.kelurahan
    );

    let schedules = Schedules::load(&settings.schedules.path).with_context(|| {
        format!(
            "the demo uses the shipped schedules, {}",
            settings.schedules.path.display()
        )
    })?;
    let kelurahan = store.list_kelurahan().await?;
    let (due, standing) = (settings.due_date.rules(), settings.standing.rules());
    let ctx = ScanContext {
        schedules: &schedules,
        kelurahan: &kelurahan,
        due: &due,
        standing: &standing,
    };
    let scanned = scan::run(store.as_ref(), &ctx, now).await?;
    let mut per_rule: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (rule, created, skipped) in &scanned.per_rule {
        let e = per_rule.entry(rule).or_default();
        e.0 += created;
        e.1 += skipped;
    }
    let rows: Vec<Vec<String>> = per_rule
        .iter()
        .map(|(r, (c, s))| vec![r.to_string(), c.to_string(), s.to_string()])
        .collect();
    println!("\nScan now: reminders created per rule (skipped = their day passed before this first scan)");
    print!(
        "{}",
        render(
            &["Aturan", "Dibuat", "Terlewat"],
            &[Align::Left, Align::Right, Align::Right],
            &rows,
            30
        )
    );

    let status = status::compute(store.as_ref(), &due, &standing, StatusAt::Instant(now), None).await?;
    print!("\n{}", status::render_report(&status, OutputFormat::Table));
    println!(
        "\nNext: PENGINGAT__DATABASE__URL={} cargo run -- preview --date YYYY-MM-DD",
        settings.database.url
    );
    Ok(ExitCode::SUCCESS)
}
