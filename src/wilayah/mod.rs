//! The Kemendagri kelurahan/desa list: parsing its CSV format
//! (`kode,nama,kecamatan,kabupaten_kota,provinsi`) and the lists that ship
//! inside the binary, so a fresh installation needs no download.

pub mod region;

use thiserror::Error;

use crate::domain::KelurahanCode;
use crate::store::Kelurahan;

/// Kota Metro's 22 kelurahan (the pilot).
pub const METRO_CSV: &str = include_str!("../../assets/wilayah/metro_kelurahan.csv");
/// Lampung's 2,651 kelurahan and desa.
pub const LAMPUNG_CSV: &str = include_str!("../../assets/wilayah/lampung_kelurahan_desa.csv");

/// Why a kelurahan list cannot be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WilayahError {
    #[error("line 1: the header must be kode,nama,kecamatan,kabupaten_kota,provinsi, got {0:?}")]
    Header(String),
    #[error("line {line}: {reason}")]
    Row { line: usize, reason: String },
    #[error("the file has no kelurahan rows")]
    Empty,
}

const COLUMNS: [&str; 5] = ["kode", "nama", "kecamatan", "kabupaten_kota", "provinsi"];

/// Parses a kelurahan list in the Kemendagri CSV format (UTF-8, with or
/// without BOM, LF or CRLF). Every bad row is reported, not only the first.
pub fn parse_kelurahan_csv(text: &str) -> Result<Vec<Kelurahan>, Vec<WilayahError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The csv crate numbers lines one too low after a CRLF header; with LF
    // endings its line numbers match what an editor shows.
    let text = text.replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![WilayahError::Header(e.to_string())]),
    };
    if header != COLUMNS {
        return Err(vec![WilayahError::Header(header.join(","))]);
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                errors.push(WilayahError::Row {
                    line,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.len() != COLUMNS.len() {
            errors.push(WilayahError::Row {
                line,
                reason: format!("expected 5 fields, got {}", record.len()),
            });
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        match KelurahanCode::parse(&field(0)) {
            Ok(code) if !field(1).is_empty() => rows.push(Kelurahan {
                time_zone: code.time_zone(),
                code,
                name: field(1),
                kecamatan: field(2),
                kabupaten_kota: field(3),
                provinsi: field(4),
            }),
            Ok(_) => errors.push(WilayahError::Row {
                line,
                reason: "column nama is empty".into(),
            }),
            Err(e) => errors.push(WilayahError::Row {
                line,
                reason: format!("column kode: {e}"),
            }),
        }
    }
    if errors.is_empty() && rows.is_empty() {
        errors.push(WilayahError::Empty);
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

/// The embedded list that covers `prefix` (`18.72…` → Metro's is inside
/// Lampung's), if any.
pub fn embedded_for_prefix(prefix: &str) -> Option<&'static str> {
    let digits: String = prefix.chars().filter(|c| c.is_ascii_digit()).collect();
    digits.starts_with("18").then_some(LAMPUNG_CSV)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RegionTimeZone;

    #[test]
    fn embedded_lists_parse_completely() {
        let metro = parse_kelurahan_csv(METRO_CSV).unwrap();
        assert_eq!(metro.len(), 22);
        assert!(
            metro
                .iter()
                .all(|k| k.code.has_prefix("18.72") && k.time_zone == RegionTimeZone::Wib)
        );
        assert_eq!(parse_kelurahan_csv(LAMPUNG_CSV).unwrap().len(), 2_651);
    }

    #[test]
    fn reports_every_bad_row_with_its_line() {
        let text = "\u{feff}kode,nama,kecamatan,kabupaten_kota,provinsi\r\n\
                    18.72.01.1001,Metro,Metro Pusat,Kota Metro,Lampung\r\n\
                    18.72.01.100,Rusak,Metro Pusat,Kota Metro,Lampung\r\n\
                    18.72.01.1002,,Metro Pusat,Kota Metro,Lampung\r\n";
        let errors = parse_kelurahan_csv(text).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(matches!(&errors[0], WilayahError::Row { line: 3, reason } if reason.contains("kode")));
        assert!(matches!(&errors[1], WilayahError::Row { line: 4, reason } if reason.contains("nama")));
    }

    #[test]
    fn rejects_a_foreign_header() {
        assert!(matches!(
            parse_kelurahan_csv("code,name\n1,2\n").unwrap_err()[0],
            WilayahError::Header(_)
        ));
    }
}
