//! Plain-text tables that fit a terminal, and CSV output.

use std::borrow::Cow;

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// `columns` alignments: the first `left` to the left (names, codes), the
/// rest to the right (figures).
pub fn left_then_right(left: usize, columns: usize) -> Vec<Align> {
    (0..columns)
        .map(|i| if i < left { Align::Left } else { Align::Right })
        .collect()
}

/// Renders `rows` under `header`, each column as wide as its widest cell,
/// cells longer than `max_width` characters cut with `…`.
pub fn render(header: &[&str], align: &[Align], rows: &[Vec<String>], max_width: usize) -> String {
    let cut = |s: &str| -> String {
        if s.chars().count() > max_width {
            let mut t: String = s.chars().take(max_width.saturating_sub(1)).collect();
            t.push('…');
            t
        } else {
            s.to_string()
        }
    };
    let cells: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| h.to_string()).collect())
        .chain(rows.iter().map(|r| r.iter().map(|c| cut(c)).collect()))
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, row) in cells.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| match align.get(i).copied().unwrap_or(Align::Left) {
                Align::Left => format!("{c:<w$}", w = widths[i]),
                Align::Right => format!("{c:>w$}", w = widths[i]),
            })
            .collect();
        out.push_str(line.join(" ").trim_end());
        out.push('\n');
        if n == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join(" "));
            out.push('\n');
        }
    }
    out
}

/// Renders `rows` as CSV with a header line, every cell made
/// [`spreadsheet_safe`].
pub fn render_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(header);
    for row in rows {
        let _ = writer.write_record(row.iter().map(|c| spreadsheet_safe(c).into_owned()));
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The characters that make a spreadsheet read a cell as a formula
/// (OWASP, "CSV Injection"): `=`, `+`, `-`, `@`, tab and carriage return.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as it may be written to a CSV file someone opens in a
/// spreadsheet: one starting with a formula character gets a `'` in front,
/// as OWASP's CSV injection guidance says, so it is shown as text and never
/// run. A plain number (`-5`, `+628…`) is left as it is: a spreadsheet reads
/// it as a number, not a formula. [`spreadsheet_unescaped`] undoes it.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) && cell.parse::<f64>().is_err() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell read back from a file written with [`spreadsheet_safe`]: the `'`
/// before a formula character removed.
pub fn spreadsheet_unescaped(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_prefixed_and_read_back() {
        for cell in [
            "=1+1",
            "+62 812",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"http://x\")",
        ] {
            let safe = spreadsheet_safe(cell);
            assert_eq!(safe, format!("'{cell}"), "{cell:?}");
            assert_eq!(spreadsheet_unescaped(&safe), cell);
        }
        for cell in ["Metro", "-5", "+6281234567", "0.25", "", "'quoted"] {
            assert_eq!(spreadsheet_safe(cell), cell, "{cell:?}");
            assert_eq!(spreadsheet_unescaped(cell), cell);
        }
        assert_eq!(
            render_csv(&["name"], &[vec!["=cmd|' /C calc'!A0".into()]]),
            "name\n'=cmd|' /C calc'!A0\n"
        );
    }

    #[test]
    fn aligns_and_cuts() {
        let out = render(
            &["Kode", "Jumlah"],
            &[Align::Left, Align::Right],
            &[
                vec!["Hadimulyo Barat".into(), "7".into()],
                vec!["X".into(), "1234".into()],
            ],
            10,
        );
        assert_eq!(
            out,
            "Kode       Jumlah\n---------- ------\nHadimulyo…      7\nX            1234\n"
        );
    }

    #[test]
    fn csv_quotes_commas() {
        assert_eq!(
            render_csv(&["a", "b"], &[vec!["x,y".into(), "1".into()]]),
            "a,b\n\"x,y\",1\n"
        );
    }
}
