//! A region's page: the dashboard page (`templates/page.html`) with
//! breadcrumbs, a search form, the kelurahan with the most non-active
//! participants and the table's pages. Links and forms only, no script.

use super::format::{percent, thousands};
use super::region::{RegionData, TOP_TABLE_ID};
use super::svg;
use super::table::{Table, region_href};
use crate::wilayah::region::Level;

/// What a region's page shows around the city dashboard's parts.
pub struct RegionNav {
    /// "Semua wilayah", then the regions above and the region itself.
    pub crumbs: Vec<Link>,
    /// The id of the table of the most non-active kelurahan.
    pub top_id: &'static str,
    /// The kelurahan with the most non-active participants.
    pub top: Vec<TopRow>,
    /// Links to the table's pages; empty when there is one.
    pub pages: Vec<Link>,
}

/// A link: where to, what it says, and whether it is the page shown.
pub struct Link {
    pub href: String,
    pub label: String,
    pub current: bool,
}

/// One kelurahan in the most non-active list, its figures written.
pub struct TopRow {
    pub href: String,
    pub name: String,
    pub code: String,
    /// Its kecamatan and kabupaten/kota.
    pub place: String,
    pub nonactive: String,
    pub bpu: String,
    pub ratio: String,
}

/// The page of a region.
pub fn render_region(data: &RegionData) -> String {
    let level = data.rows_level;
    let table = Table::linked(data.table_rows(), &data.page.total, level.label());
    let ratio = svg::active_ratio_per(&data.page.kelurahan, (ratio_title(level), unit(level)));
    let nav = RegionNav {
        crumbs: crumbs(data),
        top_id: TOP_TABLE_ID,
        top: data
            .top
            .iter()
            .map(|(r, place)| TopRow {
                href: region_href(&r.code),
                name: r.name.clone(),
                code: r.code.clone(),
                place: place.clone(),
                nonactive: thousands(r.nonactive),
                bpu: thousands(r.bpu),
                ratio: percent(r.active_ratio()),
            })
            .collect(),
        pages: pages(data),
    };
    super::render_page(&data.page, table, ratio, (unit(level).to_string(), Some(nav)))
}

/// What a row is, in running text.
fn unit(level: Level) -> &'static str {
    match level {
        Level::Provinsi => "provinsi",
        Level::Kabupaten => "kabupaten/kota",
        Level::Kecamatan => "kecamatan",
        Level::Kelurahan => "kelurahan",
    }
}

fn ratio_title(level: Level) -> &'static str {
    match level {
        Level::Provinsi => "Rasio aktif per provinsi",
        Level::Kabupaten => "Rasio aktif per kabupaten/kota",
        Level::Kecamatan => "Rasio aktif per kecamatan",
        Level::Kelurahan => "Rasio aktif per kelurahan",
    }
}

fn crumbs(data: &RegionData) -> Vec<Link> {
    let all = Link {
        href: "/".to_string(),
        label: "Semua wilayah".to_string(),
        current: data.code.is_empty(),
    };
    std::iter::once(all)
        .chain(data.path.iter().map(|(code, name)| Link {
            href: region_href(code),
            label: name.clone(),
            current: *code == data.code,
        }))
        .collect()
}

fn pages(data: &RegionData) -> Vec<Link> {
    let count = data.table_pages();
    if count < 2 {
        return Vec::new();
    }
    let base = if data.code.is_empty() {
        "/".to_string()
    } else {
        region_href(&data.code)
    };
    (1..=count)
        .map(|n| Link {
            href: format!("{base}?hal={n}#section-table"),
            label: n.to_string(),
            current: n == data.table_page,
        })
        .collect()
}
