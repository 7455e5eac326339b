//! `run` and `scan --once`: the commands around the scan.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use tokio::signal::unix::{SignalKind, signal};

use super::database::open;
use crate::clock::Clock;
use crate::config::Settings;
use crate::daemon::Daemon;
use crate::report::table::{Align, render};
use crate::scan::{self, ScanContext};

/// `pengingat run`: serve until SIGTERM or SIGINT; SIGHUP reloads the schedules.
pub async fn run(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<ExitCode> {
    let daemon = Daemon::build(settings, clock).await?;
    let reload = daemon.reload_trigger();
    let mut hangup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            reload.notify_one();
        }
    });
    let mut terminate = signal(SignalKind::terminate())?;
    let shutdown = async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    daemon.run(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// `pengingat scan --once`: one real scan now.
pub(crate) async fn scan_once(settings: &Settings, clock: &dyn Clock) -> anyhow::Result<ExitCode> {
    let store = open(settings).await?;
    let schedules = crate::daemon::load_schedules(&settings.schedules.path, store.as_ref()).await?;
    let kelurahan = store.list_kelurahan().await?;
    let due = settings.due_date.rules();
    let standing = settings.standing.rules();
    let ctx = ScanContext {
        schedules: &schedules,
        kelurahan: &kelurahan,
        due: &due,
        standing: &standing,
    };
    let report = scan::run(store.as_ref(), &ctx, clock.now()).await?;
    let mut per_rule: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (rule, created, skipped) in &report.per_rule {
        let e = per_rule.entry(rule).or_default();
        e.0 += created;
        e.1 += skipped;
    }
    let rows: Vec<Vec<String>> = per_rule
        .iter()
        .map(|(r, (c, s))| vec![r.to_string(), c.to_string(), s.to_string()])
        .collect();
    print!(
        "{}",
        render(
            &["Aturan", "Dibuat", "Terlewat"],
            &[Align::Left, Align::Right, Align::Right],
            &rows,
            30
        )
    );
    let t = report.totals;
    println!(
        "scan: {} created, {} skipped, {} superseded, {} cancelled, {} re-planned",
        t.created, t.skipped, t.superseded, t.cancelled, t.replanned
    );
    Ok(ExitCode::SUCCESS)
}
