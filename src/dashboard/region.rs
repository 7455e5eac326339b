//! The dashboard of a province or a country: the figures of a region (all
//! of Indonesia, a province, a kabupaten/kota, a kecamatan or a kelurahan)
//! with a row per region one level down, each linking to its own page, the
//! kelurahan with the most non-active participants, and a search form.
//!
//! Rows are summed from the kelurahan's counts and every ratio is taken
//! afresh from the sums (never an average of ratios). Regions are matched
//! on their code, never on a name.

use std::collections::BTreeMap;

use super::model::{DashboardData, KelurahanRow};
use crate::wilayah::region::{Level, Regions, region_code};

/// Rows of the region table on one page.
pub const PAGE_ROWS: usize = 200;

/// How many kelurahan the "most non-active" list shows.
pub const TOP_KELURAHAN: usize = 10;

/// The id of the table of kelurahan with the most non-active participants.
pub const TOP_TABLE_ID: &str = "table-top-nonactive";

/// A region's page, its figures already computed.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionData {
    /// The page's figures; `kelurahan` holds the rows one level down (all
    /// of them: the chart draws them all, the table shows one page).
    pub page: DashboardData,
    /// The region's code; empty for all of Indonesia.
    pub code: String,
    /// What the rows are.
    pub rows_level: Level,
    /// The regions above this one and itself, widest first, as (code, name).
    pub path: Vec<(String, String)>,
    /// The kelurahan with the most non-active participants, most first,
    /// each with where it lies.
    pub top: Vec<(KelurahanRow, String)>,
    /// The table page shown, from 1.
    pub table_page: usize,
}

impl RegionData {
    /// The number of table pages (at least one).
    pub fn table_pages(&self) -> usize {
        self.page.kelurahan.len().div_ceil(PAGE_ROWS).max(1)
    }

    /// The rows of the table page shown.
    pub fn table_rows(&self) -> &[KelurahanRow] {
        let start = (self.table_page.saturating_sub(1) * PAGE_ROWS).min(self.page.kelurahan.len());
        let end = (start + PAGE_ROWS).min(self.page.kelurahan.len());
        &self.page.kelurahan[start..end]
    }
}

/// The level a region's page lists: one below the region's own; for all
/// of Indonesia, provinces. A kelurahan lists itself.
pub fn rows_level(code: &str) -> Level {
    match Level::of_code(code) {
        None => Level::Provinsi,
        Some(level) => level.child().unwrap_or(Level::Kelurahan),
    }
}

/// The kelurahan `rows` summed per region at `level`, named from `regions`,
/// ordered by code.
pub fn fold(rows: &[KelurahanRow], level: Level, regions: &Regions) -> Vec<KelurahanRow> {
    let mut out: BTreeMap<&str, KelurahanRow> = BTreeMap::new();
    for row in rows {
        let code = region_code(&row.code, level);
        out.entry(code)
            .or_insert_with(|| KelurahanRow {
                code: code.to_string(),
                name: regions.name(code).unwrap_or(code).to_string(),
                ..KelurahanRow::default()
            })
            .add(row);
    }
    out.into_values().collect()
}

/// The `n` kelurahan with the most non-active participants (ties by code),
/// each with its kecamatan and kabupaten/kota.
pub fn top_nonactive(rows: &[KelurahanRow], n: usize, regions: &Regions) -> Vec<(KelurahanRow, String)> {
    let mut top: Vec<&KelurahanRow> = rows.iter().filter(|r| r.nonactive > 0).collect();
    top.sort_by(|a, b| b.nonactive.cmp(&a.nonactive).then_with(|| a.code.cmp(&b.code)));
    top.into_iter()
        .take(n)
        .map(|r| {
            let place: Vec<&str> = [Level::Kecamatan, Level::Kabupaten]
                .into_iter()
                .filter_map(|l| regions.name(region_code(&r.code, l)))
                .collect();
            (r.clone(), place.join(", "))
        })
        .collect()
}

/// Whether the kelurahan `rows` all lie in one kabupaten/kota (the city
/// dashboard serves them as one table).
pub fn one_city(rows: &[KelurahanRow]) -> bool {
    let mut cities = rows.iter().map(|r| region_code(&r.code, Level::Kabupaten));
    match cities.next() {
        None => true,
        Some(first) => cities.all(|c| c == first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wilayah::region::fixtures::lampung as regions;

    /// Metro 90 of 100 active, Hadimulyo Barat 90 of 900, Kupang Kota all 50.
    fn rows(sent: [i64; 2], converted: [i64; 2]) -> [KelurahanRow; 3] {
        [
            row("18.72.01.1001", 100, 90, sent[0], converted[0]),
            row("18.72.02.1001", 900, 90, sent[1], converted[1]),
            row("18.71.01.1001", 50, 50, 0, 0),
        ]
    }

    fn row(code: &str, bpu: i64, active: i64, sent: i64, converted: i64) -> KelurahanRow {
        KelurahanRow {
            code: code.into(),
            name: code.into(),
            bpu,
            active,
            nonactive: bpu - active,
            sent,
            sms_sent: sent,
            converted,
            ..KelurahanRow::default()
        }
    }

    #[test]
    fn rows_are_summed_and_ratios_taken_from_the_sums() {
        let rows = rows([10, 90], [9, 9]);
        let kabupaten = fold(&rows, Level::Kabupaten, &regions());
        assert_eq!(kabupaten.len(), 2);
        let metro = &kabupaten[1];
        assert_eq!((metro.code.as_str(), metro.name.as_str()), ("18.72", "Kota Metro"));
        assert_eq!((metro.bpu, metro.active, metro.nonactive), (1_000, 180, 820));
        assert_eq!(metro.active_ratio(), Some(0.18), "not the mean of 90% and 10%");
        assert_eq!(metro.conversion_rate(), Some(0.18));
        let province = fold(&rows, Level::Provinsi, &regions());
        assert_eq!(
            (province.len(), province[0].bpu, province[0].name.as_str()),
            (1, 1_050, "Lampung")
        );
    }

    #[test]
    fn top_kelurahan_by_non_active_count_with_their_place() {
        let rows = rows([0, 0], [0, 0]);
        let top = top_nonactive(&rows, 5, &regions());
        let codes: Vec<&str> = top.iter().map(|(r, _)| r.code.as_str()).collect();
        assert_eq!(codes, ["18.72.02.1001", "18.72.01.1001"], "none without non-active");
        assert_eq!(top[0].1, "Metro Barat, Kota Metro");
        assert_eq!(top_nonactive(&rows, 1, &regions()).len(), 1);
    }

    #[test]
    fn levels_and_pages() {
        assert_eq!(rows_level(""), Level::Provinsi);
        assert_eq!(rows_level("18"), Level::Kabupaten);
        assert_eq!(rows_level("18.72.01"), Level::Kelurahan);
        assert_eq!(rows_level("18.72.01.1001"), Level::Kelurahan);
        assert!(one_city(&[
            row("18.72.01.1001", 1, 1, 0, 0),
            row("18.72.02.1001", 1, 1, 0, 0)
        ]));
        assert!(!one_city(&[
            row("18.72.01.1001", 1, 1, 0, 0),
            row("18.71.01.1001", 1, 1, 0, 0)
        ]));
        assert!(one_city(&[]));
    }
}
