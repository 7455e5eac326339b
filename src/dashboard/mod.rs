//! The web dashboard: one server-rendered HTML page with inline CSS and
//! inline SVG charts, no scripts and no external assets, so it works offline
//! and behind the strictest Content-Security-Policy.
//!
//! [`render`] is pure: it formats a [`DashboardData`] computed elsewhere.
//! Labels are in Bahasa Indonesia and numbers are written the Indonesian way
//! (`1.234`, `87,5%`, `Rp1.234.500`). Every value from data is escaped.

pub mod format;
pub mod model;
pub mod svg;
pub mod table;

pub use format::escape;
pub use model::{ArrearsDistribution, DashboardData, KelurahanRow, MonthRatio, RuleFunnel};

use format::{date, date_time, percent, rupiah, thousands};

/// The ids of the four chart containers, in page order.
pub const CHART_IDS: [&str; 4] = ["chart-active-ratio", "chart-funnel", "chart-arrears", "chart-history"];

/// The id of the per-kelurahan table.
pub const TABLE_ID: &str = "table-kelurahan";

/// Allows nothing but the inline styles and the empty inline icon, so any
/// script or outside request would be blocked (and reported).
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// The whole page.
pub fn render(data: &DashboardData) -> String {
    let title = format!("Kepesertaan BPU – {}", data.title);
    let mut out = String::with_capacity(16 * 1024 + data.kelurahan.len() * 2048);
    out.push_str("<!DOCTYPE html>\n<html lang=\"id\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
    ));
    out.push_str("<meta name=\"robots\" content=\"noindex\">\n<link rel=\"icon\" href=\"data:,\">\n");
    out.push_str(&format!(
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    ));
    out.push_str(&header(data, &title));
    out.push_str("<main>\n");
    out.push_str(&summary(&data.total));
    out.push_str(&charts(data));
    out.push_str(&section(
        "section-table",
        "Tabel per kelurahan",
        "wide",
        &format!(
            "<div class=\"scroll\">{}</div>",
            table::table(&data.kelurahan, &data.total)
        ),
    ));
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Title, when the figures were computed, and the reminder period.
fn header(data: &DashboardData, title: &str) -> String {
    let period = match data.period {
        Some((from, to)) => format!("{} – {}", date(from), date(to)),
        None => "sepanjang waktu".to_string(),
    };
    format!(
        "<header>\n<h1>{}</h1>\n<p class=\"meta\">Diperbarui {} · Pengingat dihitung: {}</p>\n</header>\n",
        escape(title),
        escape(&date_time(data.generated_at, data.time_zone)),
        escape(&period)
    )
}

/// The headline figures of the total.
fn summary(total: &KelurahanRow) -> String {
    let cards = [
        ("Peserta BPU", thousands(total.bpu), String::new()),
        (
            "Rasio aktif",
            percent(total.active_ratio()),
            format!(
                "{} aktif, {} nonaktif",
                thousands(total.active),
                thousands(total.nonactive)
            ),
        ),
        (
            "Pengingat terkirim",
            thousands(total.sent),
            format!(
                "{} tersampaikan ({})",
                thousands(total.delivered),
                percent(total.delivery_rate())
            ),
        ),
        (
            "Konversi",
            percent(total.conversion_rate()),
            format!("{} membayar setelah pengingat", thousands(total.converted)),
        ),
        (
            "Nominal dibayar",
            rupiah(total.amount_paid),
            "setelah pengingat".to_string(),
        ),
    ];
    let mut out = String::from("<section class=\"summary\" aria-label=\"Ringkasan\">\n");
    for (label, value, note) in cards {
        out.push_str(&format!(
            "<div class=\"kpi\"><div class=\"kpi-label\">{}</div><div class=\"kpi-value\">{}</div>\
             <div class=\"kpi-note\">{}</div></div>\n",
            escape(label),
            escape(&value),
            escape(&note)
        ));
    }
    out.push_str("</section>\n");
    out
}

/// The four charts, each in a section with its id.
fn charts(data: &DashboardData) -> String {
    let [ratio_id, funnel_id, arrears_id, history_id] = CHART_IDS;
    let mut out = String::from("<div class=\"grid\">\n");
    out.push_str(&section(
        ratio_id,
        "Rasio aktif per kelurahan",
        "",
        &format!(
            "{}{}",
            svg::active_ratio_chart(&data.kelurahan),
            legend_if(!data.kelurahan.is_empty())
        ),
    ));
    out.push_str(&section(
        funnel_id,
        "Corong pengingat: terkirim → tersampaikan → membayar",
        "",
        &svg::funnel_chart(&data.funnel),
    ));
    out.push_str(&section(
        arrears_id,
        "Sebaran tunggakan",
        "",
        &svg::arrears_chart(&data.arrears_distribution()),
    ));
    out.push_str(&section(
        history_id,
        "Rasio aktif 12 bulan terakhir",
        "",
        &format!(
            "{}{}",
            svg::history_chart(&data.history),
            legend_if(!data.history.is_empty())
        ),
    ));
    out.push_str("</div>\n");
    out
}

/// The colour key of ratio bars, when there are bars.
fn legend_if(bars: bool) -> &'static str {
    if !bars {
        return "";
    }
    "<p class=\"legend\"><span class=\"swatch good\"></span>≥80% <span class=\"swatch warn\"></span>50–80% \
     <span class=\"swatch bad\"></span>&lt;50%</p>"
}

/// A card with a heading; `body` is already HTML.
fn section(id: &str, heading: &str, class: &str, body: &str) -> String {
    format!(
        "<section class=\"card {class}\" id=\"{id}\" aria-labelledby=\"{id}-heading\">\n\
         <h2 id=\"{id}-heading\">{}</h2>\n{body}\n</section>\n",
        escape(heading)
    )
}

/// The page's only style sheet.
const STYLE: &str = "
:root{--ink:#1c2a33;--muted:#5f6f7a;--line:#dde3e7;--bg:#f4f6f8;--good:#2e7d32;--warn:#f9a825;--bad:#c62828}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;color:var(--ink);\
background:var(--bg)}
header{background:#0b5e3c;color:#fff;padding:16px 24px}
header h1{margin:0;font-size:1.5rem}
header .meta{margin:4px 0 0;opacity:.9}
main{max-width:1400px;margin:0 auto;padding:16px}
.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin-bottom:16px}
.kpi,.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px}
.kpi-label{color:var(--muted);font-size:.85rem}
.kpi-value{font-size:1.6rem;font-weight:700;font-variant-numeric:tabular-nums}
.kpi-note{color:var(--muted);font-size:.8rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,560px),1fr));gap:16px;margin-bottom:16px}
.card h2{font-size:1.05rem;margin:0 0 8px}
svg{display:block;max-width:100%;height:auto}
svg text{font-size:13px;fill:var(--ink)}
svg .label,svg .axis,svg .note{fill:var(--muted)}
svg .axis,svg .small{font-size:11px}
svg .rule{font-weight:600}
svg .empty{font-size:16px;fill:var(--muted)}
svg .track{fill:#eceff1}
svg .gridline{fill:#cfd8dc}
.good{fill:var(--good);background:var(--good)}
.warn{fill:var(--warn);background:var(--warn)}
.bad{fill:var(--bad);background:var(--bad)}
svg .sent{fill:#1565c0}
svg .delivered{fill:#42a5f5}
svg .paid{fill:var(--good)}
svg .current{fill:var(--good)}
svg .a1{fill:var(--warn)}
svg .a2{fill:#ef6c00}
svg .a3{fill:var(--bad)}
.legend{margin:6px 0 0;color:var(--muted);font-size:.8rem}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.85rem;font-variant-numeric:tabular-nums}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
thead th{text-align:right;background:#eef2f4;white-space:normal;vertical-align:bottom}
thead th:first-child,tbody th,tfoot th{text-align:left}
td.num{text-align:right}
tbody tr:nth-child(even){background:#fafbfc}
tfoot th,tfoot td{font-weight:700;border-top:2px solid var(--ink)}
.code{display:block;color:var(--muted);font-size:.75rem;font-weight:400}
tr.empty td{text-align:center;color:var(--muted)}
@media print{body{background:#fff}header{color:#000;background:#fff}.card,.kpi{break-inside:avoid}}
";

#[cfg(test)]
mod tests;
