//! `report --group-by`: the outcome report per kecamatan, kabupaten/kota or
//! province instead of per kelurahan.
//!
//! Grouping happens on the inputs of [`super::outcomes::assemble`], before
//! any ratio is taken: every kelurahan code is replaced by the code of its
//! region at the asked level, standing rows of one region are summed, and
//! reminder counts and credited payments then fall into their region by
//! code. Ratios and medians are computed afresh per region from the summed
//! counts and the region's own conversions, never averaged from kelurahan.

use std::collections::{BTreeMap, HashMap};

use super::status::StatusRow;
use crate::store::{Kelurahan, OutcomeCounts};
use crate::wilayah::region::{Level, region_code};

/// Standing rows summed per region at `level`, named from `kelurahan`,
/// ordered by code.
pub fn status_rows(rows: &[StatusRow], level: Level, kelurahan: &[Kelurahan]) -> Vec<StatusRow> {
    let names = names(kelurahan, level);
    let mut out: BTreeMap<String, StatusRow> = BTreeMap::new();
    for row in rows {
        let code = region_code(&row.code, level).to_string();
        let sum = out.entry(code.clone()).or_insert_with(|| StatusRow {
            name: names.get(&code).cloned().unwrap_or_default(),
            code,
            ..Default::default()
        });
        sum.add(row);
    }
    out.into_values().collect()
}

/// The counts with each kelurahan code replaced by its region's.
pub fn counts(counts: Vec<OutcomeCounts>, level: Level) -> Vec<OutcomeCounts> {
    counts
        .into_iter()
        .map(|mut c| {
            c.kelurahan_code.truncate(region_code(&c.kelurahan_code, level).len());
            c
        })
        .collect()
}

/// Region codes for a list of kelurahan codes, each once, in order.
pub fn codes(codes: &[String], level: Level) -> Vec<String> {
    let mut out: Vec<String> = codes.iter().map(|c| region_code(c, level).to_string()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The name of every region at `level`, by code, from the names written on
/// its kelurahan.
pub fn names(kelurahan: &[Kelurahan], level: Level) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for k in kelurahan {
        let name = match level {
            Level::Provinsi => &k.provinsi,
            Level::Kabupaten => &k.kabupaten_kota,
            Level::Kecamatan => &k.kecamatan,
            Level::Kelurahan => &k.name,
        };
        out.entry(region_code(k.code.as_str(), level).to_string())
            .or_insert_with(|| name.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wilayah::region::fixtures::kel;

    fn status(code: &str, bpu: i64, active: i64) -> StatusRow {
        StatusRow {
            code: code.into(),
            name: "K".into(),
            bpu,
            active,
            nonactive: bpu - active,
            arrears_1: 1,
            arrears_2: 2,
            arrears_3_plus: bpu - active,
        }
    }

    #[test]
    fn standing_is_summed_per_region_and_named() {
        let kelurahan = [
            kel("18.72.01.1001", "K", "Metro Pusat", "Kota Metro"),
            kel("18.72.02.1001", "K", "Metro Barat", "Kota Metro"),
            kel("18.71.01.1001", "K", "Teluk Betung Utara", "Kota Bandar Lampung"),
        ];
        let rows = [
            status("18.72.01.1001", 10, 8),
            status("18.72.02.1001", 5, 1),
            status("18.71.01.1001", 7, 7),
        ];
        let by_kabupaten = status_rows(&rows, Level::Kabupaten, &kelurahan);
        assert_eq!(by_kabupaten.len(), 2);
        assert_eq!(
            (by_kabupaten[1].code.as_str(), by_kabupaten[1].name.as_str()),
            ("18.72", "Kota Metro")
        );
        assert_eq!(
            (by_kabupaten[1].bpu, by_kabupaten[1].active, by_kabupaten[1].nonactive),
            (15, 9, 6)
        );
        assert_eq!((by_kabupaten[1].arrears_1, by_kabupaten[1].arrears_2), (2, 4));
        let by_province = status_rows(&rows, Level::Provinsi, &kelurahan);
        assert_eq!(
            (by_province.len(), by_province[0].bpu, by_province[0].name.as_str()),
            (1, 22, "Lampung")
        );
        assert_eq!(
            codes(&["18.72.02.1001".into(), "18.72.01.1001".into()], Level::Kabupaten),
            ["18.72"]
        );
    }
}
