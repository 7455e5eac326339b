//! `GET /cari?q=`: regions found by name or code, a page of
//! [`PAGE_RESULTS`] at a time, each linking to its dashboard page.

use askama::Template;

use super::format::thousands;
use super::region_page::Link;
use super::table::region_href;
use crate::wilayah::region::{RegionMatch, Regions};

/// Results on one page.
pub const PAGE_RESULTS: usize = 100;

/// The longest search text taken, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// The id of the results table.
pub const RESULTS_ID: &str = "table-search";

/// The search page.
#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    query: String,
    /// "12 wilayah ditemukan", or why nothing is listed.
    summary: String,
    results_id: &'static str,
    results: Vec<Found>,
    pages: Vec<Link>,
}

/// One region found.
struct Found {
    href: String,
    level: &'static str,
    name: String,
    code: String,
    /// The regions it lies in, widest first.
    within: String,
}

/// The page of results for `query` (already trimmed and at most
/// [`MAX_QUERY_CHARS`]) at page `page` (from 1) among `regions`; `None`
/// past the last page.
pub fn render_search(regions: &Regions, query: &str, page: usize) -> Option<String> {
    let found = regions.search(query);
    let pages = found.len().div_ceil(PAGE_RESULTS).max(1);
    if page > pages {
        return None;
    }
    let page = page.max(1);
    let results: Vec<Found> = found
        .iter()
        .skip((page - 1) * PAGE_RESULTS)
        .take(PAGE_RESULTS)
        .map(|m| found_row(regions, m))
        .collect();
    let summary = if query.is_empty() {
        "Tulis nama atau kode wilayah.".to_string()
    } else if found.is_empty() {
        "Tidak ada wilayah yang cocok.".to_string()
    } else {
        format!("{} wilayah ditemukan", thousands(found.len() as i64))
    };
    let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let links = if pages < 2 {
        Vec::new()
    } else {
        (1..=pages)
            .map(|n| Link {
                href: format!("/cari?q={encoded}&hal={n}"),
                label: n.to_string(),
                current: n == page,
            })
            .collect()
    };
    Some(crate::html::render(&SearchPage {
        query: query.to_string(),
        summary,
        results_id: RESULTS_ID,
        results,
        pages: links,
    }))
}

fn found_row(regions: &Regions, m: &RegionMatch) -> Found {
    let mut path = regions.path(&m.code);
    path.pop();
    Found {
        href: region_href(&m.code),
        level: m.level.label(),
        name: m.name.clone(),
        code: m.code.clone(),
        within: path.into_iter().map(|(_, n)| n).collect::<Vec<_>>().join(" › "),
    }
}
