//! The web dashboard: one server-rendered HTML page with inline CSS and
//! inline SVG charts, no scripts and no external assets, so it works offline
//! and behind the strictest Content-Security-Policy.
//!
//! [`render`] is pure: it formats a [`DashboardData`] computed elsewhere.
//! Labels are in Bahasa Indonesia and numbers are written the Indonesian way
//! (`1.234`, `87,5%`, `Rp1.234.500`). The page is the compiled template
//! `templates/page.html` (with `chart.svg`, `table.html` and
//! `history_table.html`, both headed by `table_head.html`; its `<head>`
//! starts with `head_start.html`, as the search page's does), which escapes
//! every value from data (see [`crate::html`]).

pub mod effect;
pub mod format;
pub mod history_table;
pub mod model;
pub mod region;
pub mod region_page;
pub mod search;
pub mod svg;
pub mod table;

use askama::Template;

pub use model::{ArrearsDistribution, DashboardData, KelurahanRow, MonthRatio, MonthSource, RuleFunnel};

use format::{date, date_time, percent, rupiah, thousands};
use history_table::HistoryTable;
use svg::{Chart, Shape};
use table::Table;

/// The ids of the four chart containers, in page order.
pub const CHART_IDS: [&str; 4] = ["chart-active-ratio", "chart-funnel", "chart-arrears", "chart-history"];

/// The id of the per-kelurahan table.
pub const TABLE_ID: &str = "table-kelurahan";

/// The whole page, every figure already written.
#[derive(Template)]
#[template(path = "page.html")]
struct Page<'a> {
    /// "Kepesertaan BPU – " and what the figures cover.
    title: String,
    /// When the figures were computed, in the configured time zone.
    updated: String,
    /// The period reminders are counted in.
    period: String,
    /// The headline figures of the total.
    cards: [Card; 5],
    /// Participants on the contact-verification list, written.
    contacts_to_verify: String,
    /// The four charts, in page order.
    charts: [ChartSection; 4],
    /// The per-kelurahan table.
    table: Table<'a>,
    /// The table of past months under the 12-month chart.
    history: HistoryTable,
    /// The effect card, while the holdout is on.
    effect: Option<effect::EffectCard>,
    /// What the table's rows are, after "Tabel per".
    table_heading: String,
    /// Breadcrumbs, search, the most non-active kelurahan and table pages,
    /// on a region's page; none on the city dashboard.
    region: Option<region_page::RegionNav>,
}

/// One headline figure.
struct Card {
    label: &'static str,
    value: String,
    note: String,
}

/// A chart in its section; the chart's title heads the section.
struct ChartSection {
    id: &'static str,
    chart: Chart,
    /// Whether the colour key of ratio bars follows the chart.
    legend: bool,
}

/// The whole page.
pub fn render(data: &DashboardData) -> String {
    let table = Table::new(&data.kelurahan, &data.total);
    let ratio = svg::active_ratio(&data.kelurahan);
    render_page(data, table, ratio, ("kelurahan".to_string(), None))
}

/// The page of `data` with this table and ratio chart, and on a region's
/// page what heads the table and the region's navigation.
fn render_page(
    data: &DashboardData,
    table: Table<'_>,
    ratio: Chart,
    (table_heading, region): (String, Option<region_page::RegionNav>),
) -> String {
    let period = match data.period {
        Some((from, to)) => format!("{} – {}", date(from), date(to)),
        None => "sepanjang waktu".to_string(),
    };
    let page = Page {
        title: format!("Kepesertaan BPU – {}", data.title),
        updated: date_time(data.generated_at, data.time_zone),
        period,
        cards: cards(&data.total),
        contacts_to_verify: thousands(data.contacts_to_verify),
        charts: charts(data, ratio),
        table,
        history: HistoryTable::new(&data.history),
        effect: data.effect.as_ref().map(effect::card),
        table_heading,
        region,
    };
    crate::html::render(&page)
}

/// The headline figures of the total.
fn cards(total: &KelurahanRow) -> [Card; 5] {
    [
        Card {
            label: "Peserta BPU",
            value: thousands(total.bpu),
            note: String::new(),
        },
        Card {
            label: "Rasio aktif",
            value: percent(total.active_ratio()),
            note: format!(
                "{} aktif, {} nonaktif",
                thousands(total.active),
                thousands(total.nonactive)
            ),
        },
        Card {
            label: "Pengingat terkirim",
            value: thousands(total.sent),
            note: format!(
                "SMS sampai {} dari {} ({}); email diterima relay {} dari {} ({})",
                thousands(total.sms_delivered),
                thousands(total.sms_sent),
                percent(total.sms_delivery_rate()),
                thousands(total.email_accepted),
                thousands(total.email_accepted + total.email_failed),
                percent(total.email_relay_rate()),
            ),
        },
        Card {
            label: "Konversi",
            value: percent(total.conversion_rate()),
            note: format!("{} membayar setelah pengingat", thousands(total.converted)),
        },
        Card {
            label: "Nominal dibayar",
            value: rupiah(total.amount_paid),
            note: "setelah pengingat".to_string(),
        },
    ]
}

/// The four charts, each in a section with its id; the two charts of
/// ratio bars carry the colour key when they have bars.
fn charts(data: &DashboardData, ratio: Chart) -> [ChartSection; 4] {
    let [ratio_id, funnel_id, arrears_id, history_id] = CHART_IDS;
    [
        ChartSection {
            id: ratio_id,
            chart: ratio,
            legend: !data.kelurahan.is_empty(),
        },
        ChartSection {
            id: funnel_id,
            chart: svg::funnel(&data.funnel),
            legend: false,
        },
        ChartSection {
            id: arrears_id,
            chart: svg::arrears(&data.arrears_distribution()),
            legend: false,
        },
        ChartSection {
            id: history_id,
            chart: svg::history(&data.history),
            legend: !data.history.is_empty(),
        },
    ]
}

#[cfg(test)]
mod tests;
