//! `pengingat report`.

use std::process::ExitCode;

use chrono::{DateTime, Utc};

use super::ReportArgs;
use super::database::{kelurahan_filter, open};
use crate::config::Settings;
use crate::report::contacts;
use crate::report::effect;
use crate::report::outcomes::{self, ReportQuery};
use crate::report::render_effect::render_effect_report;
use crate::report::render_outcomes::render_outcome_report;
use crate::report::status::StandingData;
use crate::schedule::Schedules;
use crate::store::Store;
use crate::wilayah::region::Level;

/// What `report --group-by` groups kelurahan into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    /// Per kecamatan (`18.72.01`).
    Kecamatan,
    /// Per kabupaten or kota (`18.72`).
    Kabupaten,
    /// Per province (`18`).
    Provinsi,
}

impl From<GroupBy> for Level {
    fn from(g: GroupBy) -> Level {
        match g {
            GroupBy::Kecamatan => Level::Kecamatan,
            GroupBy::Kabupaten => Level::Kabupaten,
            GroupBy::Provinsi => Level::Provinsi,
        }
    }
}

pub(crate) async fn print_report(
    settings: &Settings,
    args: &ReportArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        anyhow::bail!("--from {from} lies after --to {to}");
    }
    let store = open(settings).await?;
    if args.contacts {
        let prefix = kelurahan_filter(store.as_ref(), args.kelurahan.as_deref()).await?;
        let kelurahan = store.list_kelurahan().await?;
        let list = contacts::contact_list(store.as_ref(), &kelurahan, prefix.as_deref()).await?;
        print!("{}", contacts::render_contacts(&list, args.format));
        return Ok(ExitCode::SUCCESS);
    }
    if args.effect {
        return print_effect(settings, store.as_ref(), args, now).await;
    }
    let query = ReportQuery {
        from: args.from,
        to: args.to,
        kelurahan: kelurahan_filter(store.as_ref(), args.kelurahan.as_deref()).await?,
    };
    let order = rule_order(settings);
    let data = StandingData::load(store.as_ref(), query.kelurahan.as_deref()).await?;
    let group_by = args.group_by.map_or(Level::Kelurahan, Level::from);
    let report = outcomes::compute_by(
        store.as_ref(),
        &data,
        (&settings.due_date_rules(), &settings.standing.rules()),
        &query,
        (&order, group_by),
        now,
    )
    .await?;
    print!("{}", render_outcome_report(&report, args.format));
    Ok(ExitCode::SUCCESS)
}

/// `report --effect`: reminded vs held out, from the schedules' `[holdout]`.
async fn print_effect(
    settings: &Settings,
    store: &dyn Store,
    args: &ReportArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    let schedules = Schedules::load_or_shipped(&settings.schedules.path)?;
    let prefix = kelurahan_filter(store, args.kelurahan.as_deref()).await?;
    let kelurahan = store.list_kelurahan().await?;
    let report = effect::compute(
        store,
        &kelurahan,
        &schedules,
        &settings.due_date_rules(),
        prefix.as_deref(),
        now,
    )
    .await?;
    print!("{}", render_effect_report(&report, args.format));
    Ok(ExitCode::SUCCESS)
}

/// The schedules' rule names, to list rules in their order; a report is
/// still made (rules by name) when the schedules file cannot be read.
pub(crate) fn rule_order(settings: &Settings) -> Vec<String> {
    match Schedules::load_or_shipped(&settings.schedules.path) {
        Ok(s) => s.rules().iter().map(|r| r.name.to_string()).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "schedules not readable; rules listed by name");
            Vec::new()
        }
    }
}
