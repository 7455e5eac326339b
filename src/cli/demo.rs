//! `pengingat demo`: runs the simulation of [`crate::demo`], prints its
//! progress week by week, the per-kelurahan report and the effect of the
//! reminders measured against the holdout group, then keeps the daemon
//! serving the dashboard until Ctrl-C.

use std::process::ExitCode;

use chrono::Duration;

use super::DemoArgs;
use crate::clock::Clock;
use crate::demo::{DEMO_BEHAVIOUR, DemoOptions, WeekFigures, demo_holdout, simulate, story};
use crate::domain::RegionTimeZone;
use crate::report::OutputFormat;
use crate::report::outcomes::{self, ReportQuery};
use crate::report::render_outcomes::{percent, render_outcome_report};

pub async fn run(args: &DemoArgs, clock: &dyn Clock) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    // Progress lines tell the story; the daemon's own logs would drown them.
    crate::telemetry::init(&crate::config::LogSettings {
        level: "warn".into(),
        ..Default::default()
    });
    let today = clock.now().with_timezone(&RegionTimeZone::Wib.tz()).date_naive();
    // The simulation ends yesterday, so its last payments are not dated in the future.
    let first_day = today - Duration::days(i64::from(args.days) + 1);
    let options = DemoOptions {
        dir: args.dir.clone(),
        seed: args.seed,
        first_day,
        days: args.days,
        bind: args.bind.clone(),
        population: crate::seed::Population::Metro,
        database_url: None,
        behaviour: DEMO_BEHAVIOUR,
        holdout: demo_holdout(args.seed),
    };
    println!(
        "pengingat demo: Kota Metro, {} hari simulasi mulai {}\ndatabase {}",
        args.days,
        first_day.format("%d-%m-%Y"),
        args.dir.join("pengingat.db").display()
    );
    let schedules = &crate::config::Settings::default().schedules.path;
    if schedules.exists() {
        println!("jadwal {}", schedules.display());
    } else {
        println!("jadwal bawaan program ({} tidak ada)", schedules.display());
    }
    let demo = simulate(&options, &mut print_week).await?;
    let store = demo.daemon.store();
    let order = super::report::rule_order(&demo.settings);
    let query = ReportQuery {
        from: None,
        to: None,
        kelurahan: None,
    };
    let report = outcomes::compute(
        store.as_ref(),
        &demo.settings.due_date_rules(),
        &demo.settings.standing.rules(),
        &query,
        &order,
        demo.clock.now(),
    )
    .await?;
    println!();
    print!("{}", render_outcome_report(&report, OutputFormat::Table));
    println!();
    print!("{}", story::render(&demo.effect().await?));
    println!();
    print!("{}", story::render_contact_counts(&demo.contact_counts().await?));
    println!(
        "\n{} peserta, {} e-mail diterima sink SMTP; simulasi selesai dalam {:.1} detik.",
        demo.participants,
        demo.mocks.emails.get(),
        started.elapsed().as_secs_f64()
    );
    let url = format!("http://{}/", demo.daemon.addr());
    println!("Dasbor: {url}");
    if args.no_serve {
        demo.daemon.stop().await;
        demo.mocks.cancel.cancel();
        return Ok(ExitCode::SUCCESS);
    }
    println!("Tekan Ctrl-C untuk berhenti.");
    tokio::signal::ctrl_c().await?;
    demo.daemon.stop().await;
    demo.mocks.cancel.cancel();
    Ok(ExitCode::SUCCESS)
}

/// One progress line per simulated week.
fn print_week(w: WeekFigures) {
    let ratio = percent(crate::report::outcomes::ratio(w.active, w.bpu));
    println!(
        "Minggu {:>2} ({} s.d. {}): {:>5} terkirim, {:>4} pembayaran, rasio aktif {}",
        w.week,
        w.from.map(|d| d.format("%d-%m").to_string()).unwrap_or_default(),
        w.to.map(|d| d.format("%d-%m").to_string()).unwrap_or_default(),
        w.sent,
        w.payments,
        ratio
    );
}
