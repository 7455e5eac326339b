//! The four charts as inline SVG. Every chart is an `<svg role="img">` with a
//! `<title>` and `<desc>`, every bar carries its figures in a `<title>` (a
//! tooltip without JavaScript), and every length goes through
//! [`coord`](super::format::coord), so no data can produce `NaN`.
//!
//! The geometry is computed here into a [`Chart`] of [`Shape`]s whose
//! coordinates are already written out; the template `chart.svg` only
//! places them, escaping every text.

use askama::Template;

use super::format::{coord, month_label, percent, thousands, truncate};
use super::model::{ArrearsDistribution, KelurahanRow, MonthRatio, REBUILT, RuleFunnel, ratio, rebuilt_runs};

/// The width of every chart's coordinate system.
const WIDTH: f64 = 640.0;
/// Where horizontal bars start; labels sit left of it.
const BAR_X: f64 = 190.0;
/// Room right of the longest bar for its value.
const VALUE_W: f64 = 120.0;
/// The longest horizontal bar.
const BAR_MAX: f64 = WIDTH - BAR_X - VALUE_W;
/// Height of one horizontal bar row.
const ROW_H: f64 = 24.0;
/// Height of one horizontal bar.
const BAR_H: f64 = 16.0;
/// Characters of a label left of a bar.
const LABEL_CHARS: usize = 26;
/// Above this many kelurahan the ratio chart shows the best and the worst
/// half of this many, and the table shows them all.
pub const MAX_RATIO_BARS: usize = 60;
/// Shown instead of a chart when there is nothing to draw.
pub const NO_DATA: &str = "Belum ada data";

/// One chart, ready to be placed by the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The prefix of the ids of its `<title>` and `<desc>`.
    pub key: &'static str,
    /// Its title, also the heading of its section.
    pub title: &'static str,
    /// Its description for screen readers.
    pub desc: String,
    /// The width of the view box.
    pub width: String,
    /// The height of the view box.
    pub height: String,
    /// What it draws, in order.
    pub shapes: Vec<Shape>,
}

/// One element of a chart, its coordinates written by [`coord`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A rectangle with a tooltip (a bar).
    Bar { class: &'static str, at: Area, tip: String },
    /// A rectangle without a tooltip (a track or a gridline).
    Plain { class: &'static str, at: Area },
    /// A line of text; `anchor` is `start`, `middle` or `end`.
    Text {
        class: &'static str,
        x: String,
        y: String,
        anchor: &'static str,
        content: String,
    },
    /// A month label under a column: the month, and the year below it.
    Month {
        x: String,
        y: String,
        month: String,
        year: String,
    },
}

/// Where a rectangle is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    /// Left edge.
    pub x: String,
    /// Top edge.
    pub y: String,
    /// Width, never negative.
    pub width: String,
    /// Height, never negative.
    pub height: String,
}

impl Area {
    /// A rectangle; negative lengths are drawn as 0.
    fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        Area {
            x: coord(x),
            y: coord(y),
            width: coord(w.max(0.0)),
            height: coord(h.max(0.0)),
        }
    }
}

/// The template of one chart.
#[derive(Template)]
#[template(path = "chart.svg")]
struct ChartSvg<'a> {
    chart: &'a Chart,
}

impl Chart {
    /// A chart of `height` with nothing drawn yet.
    fn new(key: &'static str, title: &'static str, desc: String, height: f64) -> Self {
        Chart {
            key,
            title,
            desc,
            width: coord(WIDTH),
            height: coord(height),
            shapes: Vec::new(),
        }
    }

    /// The `<svg>` element.
    pub fn to_svg(&self) -> String {
        crate::html::render(&ChartSvg { chart: self })
    }

    /// A rectangle with a tooltip.
    fn rect(&mut self, class: &'static str, x: f64, y: f64, w: f64, h: f64, tip: String) {
        let at = Area::new(x, y, w, h);
        self.shapes.push(Shape::Bar { class, at, tip });
    }

    /// A rectangle without a tooltip (tracks, gridlines).
    fn plain_rect(&mut self, class: &'static str, x: f64, y: f64, w: f64, h: f64) {
        let at = Area::new(x, y, w, h);
        self.shapes.push(Shape::Plain { class, at });
    }

    /// A line of text; `anchor` is `start`, `middle` or `end`.
    fn text(&mut self, class: &'static str, x: f64, y: f64, anchor: &'static str, content: String) {
        self.shapes.push(Shape::Text {
            class,
            x: coord(x),
            y: coord(y),
            anchor,
            content,
        });
    }
}

/// A chart that says there is no data yet.
pub fn empty(key: &'static str, title: &'static str) -> Chart {
    let mut chart = Chart::new(key, title, NO_DATA.to_string(), 80.0);
    chart.text("empty", WIDTH / 2.0, 45.0, "middle", NO_DATA.to_string());
    chart
}

/// `value` of `max` as a length of at most `length`; 0 when `max` is not
/// positive.
fn scale(value: i64, max: i64, length: f64) -> f64 {
    ratio(value.max(0), max).map_or(0.0, |r| (r * length).clamp(0.0, length))
}

/// One horizontal bar row: label, grey track, bar, value text.
fn bar_row(chart: &mut Chart, y: f64, label: &str, class: &'static str, width: f64, value: String, tip: String) {
    chart.text(
        "label",
        BAR_X - 8.0,
        y + BAR_H - 3.0,
        "end",
        truncate(label, LABEL_CHARS),
    );
    chart.plain_rect("track", BAR_X, y, BAR_MAX, BAR_H);
    chart.rect(class, BAR_X, y, width, BAR_H, tip);
    chart.text("value", BAR_X + width + 6.0, y + BAR_H - 3.0, "start", value);
}

/// The ratio band of a bar: green, amber or red.
fn ratio_class(r: Option<f64>) -> &'static str {
    match r {
        Some(r) if r >= 0.8 => "bar good",
        Some(r) if r >= 0.5 => "bar warn",
        _ => "bar bad",
    }
}

/// [`ratio_class`] of a month rebuilt from the payment history: drawn pale
/// and outlined, so it does not read like a recorded month.
fn rebuilt_class(r: Option<f64>) -> &'static str {
    match ratio_class(r) {
        "bar good" => "bar good rebuilt",
        "bar warn" => "bar warn rebuilt",
        _ => "bar bad rebuilt",
    }
}

/// Kelurahan by active ratio, highest first; those without participants
/// last; ties by name, then code.
pub fn sorted_by_ratio(rows: &[KelurahanRow]) -> Vec<&KelurahanRow> {
    let mut sorted: Vec<&KelurahanRow> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |r: &KelurahanRow| r.active_ratio().filter(|v| v.is_finite()).unwrap_or(-1.0);
        key(b)
            .total_cmp(&key(a))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.code.cmp(&b.code))
    });
    sorted
}

/// The kelurahan drawn in the ratio chart, and how many are left out
/// between the best and the worst.
fn ratio_selection(rows: &[KelurahanRow]) -> (Vec<&KelurahanRow>, Vec<&KelurahanRow>, usize) {
    let sorted = sorted_by_ratio(rows);
    if sorted.len() <= MAX_RATIO_BARS {
        return (sorted, Vec::new(), 0);
    }
    let half = MAX_RATIO_BARS / 2;
    let hidden = sorted.len() - 2 * half;
    let bottom = sorted[sorted.len() - half..].to_vec();
    let top = sorted[..half].to_vec();
    (top, bottom, hidden)
}

/// Horizontal bars of the active ratio per kelurahan, highest first.
pub fn active_ratio(rows: &[KelurahanRow]) -> Chart {
    active_ratio_per(rows, ("Rasio aktif per kelurahan", "kelurahan"))
}

/// [`active_ratio`] of regions: the chart's title and what a row is
/// (`kecamatan`, `provinsi`, ...).
pub fn active_ratio_per(rows: &[KelurahanRow], (title, unit): (&'static str, &str)) -> Chart {
    const KEY: &str = "chart-active-ratio-svg";
    if rows.is_empty() {
        return empty(KEY, title);
    }
    let (top, bottom, hidden) = ratio_selection(rows);
    let lines = top.len() + bottom.len() + usize::from(hidden > 0);
    let desc = format!(
        "Peserta BPU aktif dibanding seluruh peserta BPU di {} {unit}",
        thousands(rows.len() as i64)
    );
    let mut chart = Chart::new(KEY, title, desc, lines as f64 * ROW_H + 8.0);
    let mut y = 4.0;
    for row in top {
        ratio_bar(&mut chart, y, row);
        y += ROW_H;
    }
    if hidden > 0 {
        let note = format!("… {} {unit} lain di tengah, lihat tabel", thousands(hidden as i64));
        chart.text("note", BAR_X, y + BAR_H - 3.0, "start", note);
        y += ROW_H;
    }
    for row in bottom {
        ratio_bar(&mut chart, y, row);
        y += ROW_H;
    }
    chart
}

/// [`active_ratio`] as SVG.
pub fn active_ratio_chart(rows: &[KelurahanRow]) -> String {
    active_ratio(rows).to_svg()
}

/// One kelurahan's ratio bar.
fn ratio_bar(chart: &mut Chart, y: f64, row: &KelurahanRow) {
    let r = row.active_ratio();
    let tip = format!(
        "{}: {} ({} aktif dari {} peserta)",
        row.name,
        percent(r),
        thousands(row.active),
        thousands(row.bpu)
    );
    bar_row(
        chart,
        y,
        &row.name,
        ratio_class(r),
        scale(row.active, row.bpu, BAR_MAX),
        percent(r),
        tip,
    );
}

/// Per rule, three bars: sent, delivered, paid, on one scale.
pub fn funnel(funnel: &[RuleFunnel]) -> Chart {
    const KEY: &str = "chart-funnel-svg";
    const TITLE: &str = "Corong pengingat: terkirim → SMS sampai → membayar";
    if funnel.is_empty() {
        return empty(KEY, TITLE);
    }
    let max = funnel
        .iter()
        .map(|f| f.sent.max(f.delivered).max(f.paid))
        .max()
        .unwrap_or(0);
    let block = ROW_H + 3.0 * ROW_H + 8.0;
    let desc = format!(
        "Pengingat terkirim, SMS yang sampai (email tanpa laporan pengiriman), dan diikuti pembayaran untuk {} aturan",
        funnel.len()
    );
    let mut chart = Chart::new(KEY, TITLE, desc, funnel.len() as f64 * block);
    for (i, f) in funnel.iter().enumerate() {
        let y = i as f64 * block;
        chart.text("rule", 0.0, y + BAR_H, "start", truncate(&f.rule, 60));
        let stages = [
            ("Terkirim", "bar sent", f.sent, thousands(f.sent)),
            (
                "SMS sampai",
                "bar delivered",
                f.delivered,
                with_share(f.delivered, f.sms_sent),
            ),
            ("Membayar", "bar paid", f.paid, with_share(f.paid, f.sent)),
        ];
        for (j, (label, class, count, value)) in stages.into_iter().enumerate() {
            let tip = format!("{}: {label} {value}", f.rule);
            let row_y = y + ROW_H * (j as f64 + 1.0);
            bar_row(&mut chart, row_y, label, class, scale(count, max, BAR_MAX), value, tip);
        }
    }
    chart
}

/// [`funnel`] as SVG.
pub fn funnel_chart(funnel_rows: &[RuleFunnel]) -> String {
    funnel(funnel_rows).to_svg()
}

/// `950 (95,0%)`: a count with its share of `whole`.
fn with_share(count: i64, whole: i64) -> String {
    format!("{} ({})", thousands(count), percent(ratio(count, whole)))
}

/// One bar per arrears bucket, as a share of all participants.
pub fn arrears(dist: &ArrearsDistribution) -> Chart {
    const KEY: &str = "chart-arrears-svg";
    const TITLE: &str = "Sebaran tunggakan";
    let sum = dist.sum();
    if sum <= 0 {
        return empty(KEY, TITLE);
    }
    let desc = format!("Peserta BPU menurut lama tunggakan, dari {} peserta", thousands(sum));
    let mut chart = Chart::new(KEY, TITLE, desc, 4.0 * ROW_H + 8.0);
    let classes = ["bar current", "bar a1", "bar a2", "bar a3"];
    for (i, ((label, count), class)) in dist.buckets().into_iter().zip(classes).enumerate() {
        let value = with_share(count, sum);
        let tip = format!("{label}: {value}");
        bar_row(
            &mut chart,
            4.0 + i as f64 * ROW_H,
            label,
            class,
            scale(count, sum, BAR_MAX),
            value,
            tip,
        );
    }
    chart
}

/// [`arrears`] as SVG.
pub fn arrears_chart(dist: &ArrearsDistribution) -> String {
    arrears(dist).to_svg()
}

/// Plot area of the history chart.
const HIST_LEFT: f64 = 48.0;
/// Top margin of the history chart: the "direkonstruksi" marks, then room
/// for the value above a full bar.
const HIST_TOP: f64 = 40.0;
/// Height of the history plot area.
const HIST_PLOT_H: f64 = 180.0;
/// Room below the plot for two-line month labels.
const HIST_BOTTOM: f64 = 40.0;

/// Columns of the active ratio at the end of each month, oldest first, on
/// a 0–100% axis.
pub fn history(history: &[MonthRatio]) -> Chart {
    const KEY: &str = "chart-history-svg";
    const TITLE: &str = "Rasio aktif 12 bulan terakhir";
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        return empty(KEY, TITLE);
    };
    let desc = format!(
        "Rasio aktif pada akhir bulan, {} sampai {}",
        month_label(first.year, first.month),
        month_label(last.year, last.month)
    );
    let mut chart = Chart::new(KEY, TITLE, desc, HIST_TOP + HIST_PLOT_H + HIST_BOTTOM);
    history_axis(&mut chart);
    let slot = (WIDTH - HIST_LEFT - 8.0) / history.len() as f64;
    for (i, m) in history.iter().enumerate() {
        history_column(&mut chart, HIST_LEFT + slot * i as f64, slot, m);
    }
    for (start, len) in rebuilt_runs(history) {
        let x = HIST_LEFT + slot * start as f64;
        let w = slot * len as f64;
        chart.plain_rect("rebuilt-mark", x + 2.0, HIST_TOP - 16.0, w - 4.0, 2.0);
        chart.text(
            "note small rebuilt-label",
            x + w / 2.0,
            HIST_TOP - 22.0,
            "middle",
            REBUILT.to_string(),
        );
    }
    chart
}

/// [`history`] as SVG.
pub fn history_chart(months: &[MonthRatio]) -> String {
    history(months).to_svg()
}

/// Gridlines and labels at 0, 25, 50, 75 and 100%.
fn history_axis(chart: &mut Chart) {
    for step in 0..=4 {
        let y = HIST_TOP + HIST_PLOT_H * (1.0 - f64::from(step) / 4.0);
        chart.plain_rect("gridline", HIST_LEFT, y, WIDTH - HIST_LEFT - 8.0, 1.0);
        chart.text("axis", HIST_LEFT - 6.0, y + 4.0, "end", format!("{}%", step * 25));
    }
}

/// One month's column, its value above and its month below.
fn history_column(chart: &mut Chart, x: f64, slot: f64, m: &MonthRatio) {
    let label = month_label(m.year, m.month);
    let r = m.ratio();
    let centre = x + slot / 2.0;
    let base = HIST_TOP + HIST_PLOT_H;
    let height = scale(m.active, m.bpu, HIST_PLOT_H);
    if r.is_some() {
        let tip = format!(
            "{label}: {} ({} aktif dari {} peserta){}",
            percent(r),
            thousands(m.active),
            thousands(m.bpu),
            if m.rebuilt() { ", direkonstruksi" } else { "" }
        );
        let w = slot * 0.6;
        let class = if m.rebuilt() { rebuilt_class(r) } else { ratio_class(r) };
        chart.rect(class, centre - w / 2.0, base - height, w, height, tip);
    }
    chart.text("value small", centre, base - height - 5.0, "middle", percent(r));
    let (month, year) = label.split_once(' ').unwrap_or((label.as_str(), ""));
    chart.shapes.push(Shape::Month {
        x: coord(centre),
        y: coord(base + 16.0),
        month: month.to_string(),
        year: year.to_string(),
    });
}

#[cfg(test)]
#[path = "svg_tests.rs"]
mod tests;
