//! `pengingat demo`: the whole loop on the embedded default. A SQLite
//! database in its own directory, the Kota Metro population, the bundled
//! mock SMS gateway (and an SMTP sink), and the daemon on a simulated clock
//! that runs through about two monthly contribution cycles: scans create
//! reminders, the dispatcher sends them, the mock returns receipts, and the
//! simulated participants pay through the payments API, some whether
//! reminded or not, more when a reminder reached them ([`payers`]). A
//! holdout group does not get the early reminders, so the effect report at
//! the end measures what the reminders add ([`story`]). Every step is the
//! daemon's own code ([`SteppedDaemon`]); only the clock is simulated.

pub mod effect_run;
pub mod payers;
mod setup;
pub mod story;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::Context;
use chrono::{Duration, NaiveDate};
use tokio::net::TcpListener;

use payers::{Payers, post};
pub use setup::Mocks;
use setup::{demo_settings, fresh_database, payments_token, start_mocks};
use story::DemoEffect;

use crate::clock::{Clock, FixedClock};
use crate::config::Settings;
use crate::daemon::{Daemon, SteppedDaemon};
use crate::domain::RegionTimeZone;
use crate::domain::calendar::local_midnight;
use crate::report::status::{self, StatusAt};
use crate::report::{contacts, effect};
use crate::schedule::HoldoutSettings;
use crate::seed::effect::Behaviour;
use crate::seed::{Population, SeedOptions};
use crate::store::NoProgress;

/// How the demo's participants behave: three in ten pay a month anyway; a
/// reminder that reaches one of the others persuades three in ten of them.
pub const DEMO_BEHAVIOUR: Behaviour = Behaviour {
    base_per_mille: 300,
    lift_per_mille: 300,
};

/// The demo's holdout group: 10% of each kelurahan's BPU participants,
/// drawn with a salt from the seed, without the early reminders.
pub fn demo_holdout(seed: u64) -> HoldoutSettings {
    HoldoutSettings {
        fraction: 0.1,
        salt: format!("demo-{seed}"),
        ..HoldoutSettings::default()
    }
}

/// What a demo run does.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where the database and the secrets go.
    pub dir: PathBuf,
    /// The seed of the population and of who pays.
    pub seed: u64,
    /// The first simulated day (WIB).
    pub first_day: NaiveDate,
    /// How many days are simulated.
    pub days: u32,
    /// Where the daemon listens (`127.0.0.1:0` for any free port).
    pub bind: String,
    /// Who is seeded ([`Population::Metro`] for the demo).
    pub population: Population,
    /// The database; `None`: a fresh SQLite database in `dir`.
    pub database_url: Option<String>,
    /// How the simulated participants pay.
    pub behaviour: Behaviour,
    /// The holdout group put in force before the first scan.
    pub holdout: HoldoutSettings,
}

/// The figures of one simulated week, for progress lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WeekFigures {
    /// Which week, from 1.
    pub week: u32,
    /// Its first day.
    pub from: Option<NaiveDate>,
    /// Its last day.
    pub to: Option<NaiveDate>,
    /// Reminders sent (SMS and e-mail).
    pub sent: u64,
    /// Payments recorded through the payments API.
    pub payments: u64,
    /// BPU participants and active ones at the week's end.
    pub bpu: i64,
    pub active: i64,
}

/// A finished simulation whose daemon still serves.
pub struct Demo {
    /// The daemon, serving HTTP (dashboard, receipts, payments).
    pub daemon: SteppedDaemon,
    /// The mock gateway and SMTP sink.
    pub mocks: Mocks,
    /// The simulated clock, at the end of the last day.
    pub clock: Arc<FixedClock>,
    /// The settings the daemon runs with.
    pub settings: Settings,
    /// Seeded participants.
    pub participants: u64,
    /// The simulated participants and what they were drawn to do.
    pub payers: Payers,
}

impl Demo {
    /// The effect report at the clock's "now", with the true effect of
    /// each month's total.
    pub async fn effect(&self) -> anyhow::Result<DemoEffect> {
        let store = self.daemon.store();
        let schedules = self.daemon.schedules();
        let kelurahan = store.list_kelurahan().await?;
        let base_due = self.settings.due_date_rules();
        let report = effect::compute(
            store.as_ref(),
            &kelurahan,
            &schedules,
            &base_due,
            None,
            self.clock.now(),
        )
        .await?;
        let rows = store.effect_rows(&schedules.holdout().rules).await?;
        let deadlines = story::Deadlines {
            kelurahan: &kelurahan,
            schedules: &schedules,
            base_due: &base_due,
        };
        let months = story::months(&report, &rows, &self.payers, &deadlines);
        Ok(DemoEffect { report, months })
    }

    /// How many participants each kelurahan has on the contact-verification
    /// list at the end of the run, by name, in code order (kelurahan with
    /// nobody listed included, as 0).
    pub async fn contact_counts(&self) -> anyhow::Result<Vec<(String, i64)>> {
        let store = self.daemon.store();
        let kelurahan = store.list_kelurahan().await?;
        let list = contacts::contact_list(store.as_ref(), &kelurahan, None).await?;
        let counts = contacts::counts(&list);
        Ok(kelurahan
            .iter()
            .map(|k| (k.name.clone(), counts.get(k.code.as_str()).copied().unwrap_or(0)))
            .collect())
    }
}

/// The hours of a simulated day at which the daemon works: just after
/// midnight (receipt time-outs), then through the day's send window.
const WORK_HOURS: [u32; 15] = [0, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];

/// Seeds the population, starts the mocks and the daemon, and runs the
/// days, telling `progress` about each week.
pub async fn simulate(options: &DemoOptions, progress: &mut dyn FnMut(WeekFigures)) -> anyhow::Result<Demo> {
    let wib = RegionTimeZone::Wib.tz();
    let start = local_midnight(options.first_day, wib);
    let clock = Arc::new(FixedClock::at(start));
    if options.database_url.is_none() {
        fresh_database(&options.dir)?;
    }
    let mocks = start_mocks(clock.clone(), options.seed).await?;
    let listener = match TcpListener::bind(&options.bind).await {
        Ok(l) => l,
        Err(_) => TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on loopback")?,
    };
    let base = format!("http://{}", listener.local_addr()?);
    let mut settings = demo_settings(&options.dir, &mocks, &format!("{base}/"))?;
    if let Some(url) = &options.database_url {
        settings.database.url = url.clone();
    }
    let store = crate::store::connect(&settings.database.url, &settings.database.connect_options()).await?;
    store.migrate().await?;
    let seed_options = SeedOptions {
        population: options.population.clone(),
        seed: options.seed,
        now: start,
    };
    let seeded = crate::seed::seed(store.as_ref(), &seed_options, &NoProgress).await?;
    drop(store);
    let daemon = Daemon::build_on(listener, settings.clone(), clock.clone())
        .await?
        .stepped()?;
    daemon.set_holdout(options.holdout.clone());
    let mut run = Run {
        daemon: &daemon,
        clock: &clock,
        settings: &settings,
        mocks: &mocks,
        payers: Payers::new(options.seed, options.behaviour),
        http: reqwest::Client::builder().no_proxy().build()?,
        base,
        week: WeekFigures::default(),
    };
    for day in 0..options.days {
        let date = options.first_day + Duration::days(i64::from(day));
        run.day(date).await?;
        if day % 7 == 6 || day + 1 == options.days {
            progress(run.close_week(date).await?);
        }
    }
    let payers = run.payers;
    Ok(Demo {
        daemon,
        mocks,
        clock,
        settings,
        participants: seeded.participants,
        payers,
    })
}

/// The state of a simulation in progress.
struct Run<'a> {
    daemon: &'a SteppedDaemon,
    clock: &'a FixedClock,
    settings: &'a Settings,
    mocks: &'a Mocks,
    payers: Payers,
    http: reqwest::Client,
    /// The daemon's base URL.
    base: String,
    /// The week being counted.
    week: WeekFigures,
}

impl Run<'_> {
    /// One simulated day.
    async fn day(&mut self, date: NaiveDate) -> anyhow::Result<()> {
        let midnight = local_midnight(date, RegionTimeZone::Wib.tz());
        if self.week.from.is_none() {
            self.week.from = Some(date);
        }
        for hour in WORK_HOURS {
            let now = midnight + Duration::hours(i64::from(hour)) + Duration::minutes(5);
            self.clock.set(now);
            // The scan creates a reminder once its send time has come, as
            // the daemon's scans every 15 minutes do through the day.
            self.daemon.scan().await;
            if hour == 0 {
                self.daemon.time_out_unconfirmed().await;
                // The month-end snapshots, as the daemon's scan loop takes them.
                self.daemon.take_snapshots().await?;
                continue;
            }
            let sent = self.daemon.dispatch_due().await?.sent;
            self.week.sent += sent;
            if sent > 0 {
                self.wait_for_receipts().await;
            }
            let due = self.payers.due(now);
            self.week.payments += post(&self.http, &self.base, payments_token(), &due).await?;
        }
        self.payers
            .observe(self.daemon.store().as_ref(), self.clock.now())
            .await?;
        Ok(())
    }

    /// Waits (a few seconds at most) until the mock has sent every receipt it queued.
    async fn wait_for_receipts(&self) {
        let deadline = std::time::Instant::now() + StdDuration::from_secs(5);
        while std::time::Instant::now() < deadline {
            let stats: Option<serde_json::Value> =
                match self.http.get(format!("{}/stats", self.mocks.gateway_url)).send().await {
                    Ok(r) => r.json().await.ok(),
                    Err(_) => None,
                };
            let n = |k: &str| stats.as_ref().and_then(|s| s[k].as_u64()).unwrap_or(0);
            if n("receipts_queued") <= n("callbacks_sent") + n("callbacks_failed") + n("receipts_dropped") {
                return;
            }
            tokio::time::sleep(StdDuration::from_millis(5)).await;
        }
    }

    /// Ends the week on `date`: its figures with the standing at its end.
    async fn close_week(&mut self, date: NaiveDate) -> anyhow::Result<WeekFigures> {
        let store = self.daemon.store();
        let status = status::compute(
            store.as_ref(),
            &self.settings.due_date_rules(),
            &self.settings.standing.rules(),
            StatusAt::Instant(self.clock.now()),
            None,
        )
        .await?;
        let done = WeekFigures {
            week: self.week.week + 1,
            to: Some(date),
            bpu: status.total.bpu,
            active: status.total.active,
            ..self.week
        };
        self.week = WeekFigures {
            week: done.week,
            ..WeekFigures::default()
        };
        Ok(done)
    }
}
