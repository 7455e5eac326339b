//! The per-kelurahan table: a row per kelurahan, the total in `<tfoot>`.

use super::format::{escape, percent, rupiah, thousands};
use super::model::KelurahanRow;
use super::svg::NO_DATA;

/// Column heads, in order.
pub const COLUMNS: [&str; 14] = [
    "Kelurahan",
    "Peserta BPU",
    "Aktif",
    "Nonaktif",
    "Rasio aktif",
    "Tunggak 1 bln",
    "2 bln",
    "≥3 bln",
    "Terkirim",
    "Tersampaikan",
    "Gagal",
    "Membayar",
    "Konversi",
    "Nominal dibayar",
];

/// The table with id `table-kelurahan`.
pub fn table(rows: &[KelurahanRow], total: &KelurahanRow) -> String {
    let mut out = String::from("<table id=\"table-kelurahan\"><thead><tr>");
    for head in COLUMNS {
        out.push_str(&format!("<th scope=\"col\">{}</th>", escape(head)));
    }
    out.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        out.push_str(&format!(
            "<tr class=\"empty\"><td colspan=\"{}\">{NO_DATA}</td></tr>",
            COLUMNS.len()
        ));
    }
    for row in rows {
        out.push_str(&table_row(row));
    }
    out.push_str("</tbody><tfoot>");
    out.push_str(&table_row(total));
    out.push_str("</tfoot></table>");
    out
}

/// One row: the name (and code, when there is one) heads it.
fn table_row(row: &KelurahanRow) -> String {
    let mut out = String::from("<tr><th scope=\"row\">");
    out.push_str(&format!("<span class=\"name\">{}</span>", escape(&row.name)));
    if !row.code.is_empty() {
        out.push_str(&format!(" <span class=\"code\">{}</span>", escape(&row.code)));
    }
    out.push_str("</th>");
    let cells = [
        thousands(row.bpu),
        thousands(row.active),
        thousands(row.nonactive),
        percent(row.active_ratio()),
        thousands(row.arrears_1),
        thousands(row.arrears_2),
        thousands(row.arrears_3_plus),
        thousands(row.sent),
        thousands(row.delivered),
        thousands(row.failed),
        thousands(row.converted),
        percent(row.conversion_rate()),
        rupiah(row.amount_paid),
    ];
    for cell in cells {
        out.push_str(&format!("<td class=\"num\">{}</td>", escape(&cell)));
    }
    out.push_str("</tr>");
    out
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
            delivered: 380,
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
        assert!(html.contains("<tr class=\"empty\"><td colspan=\"14\">Belum ada data</td></tr>"));
        assert!(html.contains(">–<"), "ratios without participants");
    }
}
