//! `pengingat preview`: who would be reminded on a date, per kelurahan, rule
//! and channel, with a few rendered messages per rule and channel; as a table
//! for a terminal or JSON for other programs. Writes nothing.

use std::collections::HashMap;
use std::process::ExitCode;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::PreviewFormat;
use super::database::open;
use crate::config::Settings;
use crate::domain::calendar::local_midnight;
use crate::message::{MessageContext, reminder_vars};
use crate::report::table::{Align, render};
use crate::scan::{self, PlanMode};
use crate::schedule::{Schedules, measure};
use crate::store::{Kelurahan, Reminders, Store};

/// What a preview found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    /// The day previewed.
    pub date: NaiveDate,
    /// Reminders that day, all entries together.
    pub total: i64,
    /// One per kelurahan, rule and channel with anyone to remind, by code,
    /// then rule, then channel.
    pub entries: Vec<PreviewEntry>,
    /// Rendered messages, up to the requested number per rule and channel.
    pub samples: Vec<PreviewSample>,
}

/// The reminders of one kelurahan, rule and channel.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PreviewEntry {
    pub kelurahan_code: String,
    pub kelurahan: String,
    pub rule: String,
    pub channel: String,
    pub participants: i64,
}

/// One message as its participant would receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewSample {
    pub rule: String,
    pub channel: String,
    pub kelurahan_code: String,
    pub kelurahan: String,
    /// The participant's name (as in the table; no NIK, phone or e-mail).
    pub participant: String,
    pub text: String,
    /// SMS parts the text costs.
    pub segments: usize,
    /// `GSM-7` or `UCS-2`.
    pub encoding: &'static str,
}

/// `pengingat preview`.
pub async fn preview(
    settings: &Settings,
    date: NaiveDate,
    filter: Option<&str>,
    samples: usize,
    format: PreviewFormat,
) -> anyhow::Result<ExitCode> {
    let store = open(settings).await?;
    let filter = super::database::kelurahan_filter(store.as_ref(), filter).await?;
    let preview = compute(store.as_ref(), settings, date, filter.as_deref(), samples).await?;
    match format {
        PreviewFormat::Table => print!("{}", render_table(&preview)),
        PreviewFormat::Json => println!("{}", serde_json::to_string_pretty(&preview)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// Plans `date` as a scan would and counts, without writing.
pub async fn compute(
    store: &dyn Store,
    settings: &Settings,
    date: NaiveDate,
    filter: Option<&str>,
    samples: usize,
) -> anyhow::Result<Preview> {
    let schedules = crate::daemon::load_schedules(&settings.schedules.path, store).await?;
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
    let mut entries = Vec::new();
    for batch in &plan.batches {
        for count in store.preview_reminders(batch).await? {
            let name = names.get(count.kelurahan_code.as_str()).map_or("", |k| k.name.as_str());
            entries.push(PreviewEntry {
                kelurahan: name.to_string(),
                kelurahan_code: count.kelurahan_code,
                rule: batch.rule.clone(),
                channel: batch.channel.to_string(),
                participants: count.participants,
            });
        }
    }
    entries.sort();
    let samples = render_samples(store, &schedules, &plan, &names, settings, at, samples).await?;
    Ok(Preview {
        date,
        total: entries.iter().map(|e| e.participants).sum(),
        entries,
        samples,
    })
}

/// Up to `samples` rendered messages per rule and channel.
async fn render_samples(
    store: &dyn Reminders,
    schedules: &Schedules,
    plan: &scan::ScanPlan,
    names: &HashMap<&str, &Kelurahan>,
    settings: &Settings,
    at: DateTime<Utc>,
    samples: usize,
) -> anyhow::Result<Vec<PreviewSample>> {
    let standing = settings.standing.rules();
    let mut rendered = Vec::new();
    for batch in &plan.batches {
        let Some(template) = schedules
            .rule(&batch.rule)
            .and_then(|rule| schedules.template_for(rule))
        else {
            continue;
        };
        let limit = i64::try_from(samples).unwrap_or(i64::MAX);
        for participant in store.preview_participants(batch, limit).await? {
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
            rendered.push(PreviewSample {
                rule: batch.rule.clone(),
                channel: batch.channel.to_string(),
                kelurahan_code: k.code.as_str().to_string(),
                kelurahan: k.name.clone(),
                participant: participant.name.clone(),
                text,
                segments: size.segments,
                encoding: size.encoding.as_str(),
            });
        }
    }
    Ok(rendered)
}

/// The preview for a terminal: the counts, the total, then the samples.
pub(crate) fn render_table(preview: &Preview) -> String {
    let rows: Vec<Vec<String>> = preview
        .entries
        .iter()
        .map(|e| {
            vec![
                e.kelurahan_code.clone(),
                e.kelurahan.clone(),
                e.rule.clone(),
                e.channel.clone(),
                e.participants.to_string(),
            ]
        })
        .collect();
    let align = [Align::Left, Align::Left, Align::Left, Align::Left, Align::Right];
    let mut out = format!(
        "Pratinjau pengingat untuk {} (tidak ada yang dikirim atau disimpan)\n",
        preview.date
    );
    out.push_str(&render(
        &["Kode", "Kelurahan", "Aturan", "Kanal", "Peserta"],
        &align,
        &rows,
        18,
    ));
    out.push_str(&format!("Total: {} pengingat\n", preview.total));
    for s in &preview.samples {
        out.push_str(&format!(
            "\n[{} {}] {} ({}, {} segmen {})\n{}\n",
            s.rule, s.channel, s.participant, s.kelurahan, s.segments, s.encoding, s.text
        ));
    }
    out
}
