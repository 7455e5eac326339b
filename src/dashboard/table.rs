//! The per-kelurahan table: a row per kelurahan, the total in `<tfoot>`.
//! Figures are written here; the template `table.html` places them.

use askama::Template;

use super::format::{percent, rupiah, thousands};
use super::model::KelurahanRow;
use super::svg::NO_DATA;

/// The heads of the standing figures, the same in this table and in the
/// table of past months.
pub const STANDING_COLUMNS: [&str; 7] = [
    "Peserta BPU",
    "Aktif",
    "Nonaktif",
    "Rasio aktif",
    "Tunggak 1 bln",
    "2 bln",
    "≥3 bln",
];

/// Column heads, in order.
pub const COLUMNS: [&str; 15] = heads(&[
    &["Kelurahan"],
    &STANDING_COLUMNS,
    &[
        "Terkirim",
        "SMS sampai",
        "Email diterima relay",
        "Gagal",
        "Membayar",
        "Konversi",
        "Nominal dibayar",
    ],
]);

/// `parts` one after the other; `N` must be their length together (checked
/// when the constant is built).
pub(super) const fn heads<const N: usize>(parts: &[&[&'static str]]) -> [&'static str; N] {
    let mut all = [""; N];
    let mut at = 0;
    let mut part = 0;
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            all[at] = parts[part][i];
            at += 1;
            i += 1;
        }
        part += 1;
    }
    assert!(at == N, "the parts do not add up to N heads");
    all
}

/// The table, its figures written the Indonesian way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table<'a> {
    /// [`COLUMNS`], the first naming what a row is.
    pub columns: [&'static str; COLUMNS.len()],
    /// One row per kelurahan, in the given order.
    pub rows: Vec<Row<'a>>,
    /// The total, in the footer.
    pub total: Row<'a>,
    /// Shown in the body when there is no kelurahan.
    pub no_data: &'static str,
}

/// One row: name, code (empty for the total) and the figures after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    /// Kelurahan name, or "Total".
    pub name: &'a str,
    /// Kemendagri code; empty for the total, which then shows none.
    pub code: &'a str,
    /// The page the name links to (a region's own page), if any.
    pub href: Option<String>,
    /// The figures of the columns after the first.
    pub cells: [String; COLUMNS.len() - 1],
}

impl<'a> Table<'a> {
    /// The table of `rows` and their `total`.
    pub fn new(rows: &'a [KelurahanRow], total: &'a KelurahanRow) -> Self {
        Table {
            columns: COLUMNS,
            rows: rows.iter().map(Row::new).collect(),
            total: Row::new(total),
            no_data: NO_DATA,
        }
    }

    /// The table of region `rows`, each name linking to the region's page,
    /// the first column headed `first_column`.
    pub fn linked(rows: &'a [KelurahanRow], total: &'a KelurahanRow, first_column: &'static str) -> Self {
        let mut table = Self::new(rows, total);
        table.columns[0] = first_column;
        for row in &mut table.rows {
            row.href = Some(region_href(row.code));
        }
        table
    }
}

/// The dashboard page of the region with this dotted code.
pub fn region_href(code: &str) -> String {
    format!("/wilayah/{code}")
}

impl<'a> Row<'a> {
    fn new(row: &'a KelurahanRow) -> Self {
        Row {
            name: &row.name,
            code: &row.code,
            href: None,
            cells: [
                thousands(row.bpu),
                thousands(row.active),
                thousands(row.nonactive),
                percent(row.active_ratio()),
                thousands(row.arrears_1),
                thousands(row.arrears_2),
                thousands(row.arrears_3_plus),
                thousands(row.sent),
                with_share(row.sms_delivered, row.sms_delivery_rate()),
                with_share(row.email_accepted, row.email_relay_rate()),
                thousands(row.failed),
                thousands(row.converted),
                percent(row.conversion_rate()),
                rupiah(row.amount_paid),
            ],
        }
    }
}

/// `1.234 (90,0%)`, or the count alone when there is no share.
fn with_share(count: i64, share: Option<f64>) -> String {
    match share {
        Some(_) => format!("{} ({})", thousands(count), percent(share)),
        None => thousands(count),
    }
}

/// The template of the table alone.
#[derive(Template)]
#[template(path = "table.html")]
struct TableHtml<'a> {
    table: &'a Table<'a>,
}

/// The table with id `table-kelurahan`.
pub fn table(rows: &[KelurahanRow], total: &KelurahanRow) -> String {
    crate::html::render(&TableHtml {
        table: &Table::new(rows, total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, name: &str) -> KelurahanRow {
        KelurahanRow {
            code: code.into(),
            name: name.into(),
            bpu: 1_600,
            active: 1_400,
            nonactive: 200,
            arrears_1: 50,
            arrears_2: 20,
            arrears_3_plus: 200,
            sent: 400,
            sms_sent: 300,
            sms_delivered: 285,
            email_accepted: 100,
            email_failed: 5,
            failed: 20,
            converted: 90,
            amount_paid: 1_512_000,
        }
    }

    #[test]
    fn a_body_row_per_kelurahan_and_the_total_in_the_footer() {
        let rows = [row("18.72.01.1001", "Metro"), row("18.72.01.1002", "Imopuro")];
        let html = table(&rows, &KelurahanRow::total(&rows));
        let (body, foot) = html.split_once("<tfoot>").unwrap();
        assert_eq!(body.matches("<tr>").count(), 3, "head and two rows");
        assert_eq!(foot.matches("<tr>").count(), 1);
        assert!(foot.contains(">Total<") && !foot.contains("class=\"code\""));
        assert!(foot.contains(">3.200<") && foot.contains(">Rp3.024.000<"));
        assert!(body.contains("<span class=\"code\">18.72.01.1002</span>"));
        assert!(body.contains(">87,5%<") && body.contains(">22,5%<"));
        assert_eq!(html.matches("<th scope=\"col\">").count(), COLUMNS.len());
        assert!(html.contains(">≥3 bln<"));
    }

    #[test]
    fn names_are_escaped() {
        let html = table(&[row("1", "<b>&\"x'")], &KelurahanRow::default());
        assert!(html.contains("&lt;b&gt;&amp;&quot;x&#39;"));
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn no_kelurahan_says_so() {
        let html = table(&[], &KelurahanRow::total(&[]));
        assert!(html.contains("<tr class=\"empty\"><td colspan=\"15\">Belum ada data</td></tr>"));
        assert!(html.contains(">–<"), "ratios without participants");
    }
}
