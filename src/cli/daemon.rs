//! `run`, `scan --once` and `preview`: the commands around the scan.

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use tokio::signal::unix::{SignalKind, signal};

use super::commands::open;
use crate::clock::Clock;
use crate::config::Settings;
use crate::daemon::Daemon;
use crate::domain::calendar::local_midnight;
use crate::message::{MessageContext, reminder_vars};
use crate::report::table::{Align, render};
use crate::scan::{self, PlanMode, ScanContext};
use crate::schedule::measure;
use crate::store::{Kelurahan, Store};

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
pub async fn scan_once(settings: &Settings, clock: &dyn Clock) -> anyhow::Result<ExitCode> {
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

/// `pengingat preview`: who would be reminded on `date`, writing nothing.
pub async fn preview(
    settings: &Settings,
    date: NaiveDate,
    filter: Option<&str>,
    samples: usize,
) -> anyhow::Result<ExitCode> {
    let store = open(settings).await?;
    let schedules = crate::daemon::load_schedules(&settings.schedules.path, store.as_ref()).await?;
    let kelurahan: Vec<Kelurahan> = store
        .list_kelurahan()
        .await?
        .into_iter()
        .filter(|k| filter.is_none_or(|f| k.code.has_prefix(f)))
        .collect();
    let due = settings.due_date.rules();
    let standing = settings.standing.rules();
    // The last second of `date` in the easternmost zone (WIT) lies inside
    // `date` everywhere in Indonesia, after every send window has opened.
    let at: DateTime<Utc> = local_midnight(date + Duration::days(1), chrono_tz::Asia::Jayapura) - Duration::seconds(1);
    let plan = scan::plan::plan(&schedules, &kelurahan, &due, &standing, at, None, PlanMode::Preview);
    let names: HashMap<&str, &Kelurahan> = kelurahan.iter().map(|k| (k.code.as_str(), k)).collect();
    let mut rows = Vec::new();
    let mut total = 0;
    for batch in &plan.batches {
        for count in store.preview_reminders(batch).await? {
            total += count.participants;
            let name = names.get(count.kelurahan_code.as_str()).map_or("", |k| k.name.as_str());
            rows.push(vec![
                count.kelurahan_code.clone(),
                name.to_string(),
                batch.rule.clone(),
                batch.channel.to_string(),
                count.participants.to_string(),
            ]);
        }
    }
    rows.sort();
    println!("Pratinjau pengingat untuk {date} (tidak ada yang dikirim atau disimpan)");
    let align = [Align::Left, Align::Left, Align::Left, Align::Left, Align::Right];
    print!(
        "{}",
        render(&["Kode", "Kelurahan", "Aturan", "Kanal", "Peserta"], &align, &rows, 18)
    );
    println!("Total: {total} pengingat");
    print_samples(store.as_ref(), &schedules, &plan, &names, settings, at, samples).await?;
    Ok(ExitCode::SUCCESS)
}

/// A few rendered messages per rule and channel.
async fn print_samples(
    store: &dyn Store,
    schedules: &crate::schedule::Schedules,
    plan: &scan::ScanPlan,
    names: &HashMap<&str, &Kelurahan>,
    settings: &Settings,
    at: DateTime<Utc>,
    samples: usize,
) -> anyhow::Result<()> {
    let standing = settings.standing.rules();
    for batch in &plan.batches {
        let Some(rule) = schedules.rule(&batch.rule) else {
            continue;
        };
        let Some(template) = schedules.template_for(rule) else {
            continue;
        };
        for participant in store.preview_participants(batch, samples as i64).await? {
            let Some(k) = names.get(participant.kelurahan_code.as_str()) else {
                continue;
            };
            let due = schedules.due_date_rules_for(&k.code, &settings.due_date.rules());
            let coordinator = schedules.coordinators_for(&k.code).first().map(|c| c.name.as_str());
            let ctx = MessageContext {
                kelurahan_name: &k.name,
                tz: k.time_zone.tz(),
                due: &due,
                standing: &standing,
                coordinator,
            };
            let text = template.render(&reminder_vars((&participant).into(), &ctx, at));
            let size = measure(&text);
            println!(
                "\n[{} {}] {} ({}, {} segmen {:?})\n{}",
                batch.rule, batch.channel, participant.name, k.name, size.segments, size.encoding, text
            );
        }
    }
    Ok(())
}
