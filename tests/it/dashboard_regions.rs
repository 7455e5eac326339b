//! The dashboard beyond one city, over real HTTP: a small part of Lampung
//! (kelurahan from the shipped list, matched on code) and one kelurahan of
//! Bali, with participants active and non-active. `GET /` lists provinces,
//! each row links one level down to a kelurahan, the counts add up and the
//! ratios are taken from the sums; search finds regions by name and code, a
//! page at a time; a single city keeps its own page; and `report
//! --group-by` adds up to the same totals as the kelurahan report.

use std::sync::Arc;

use pengingat::clock::FixedClock;
use pengingat::domain::{DueDateRules, StandingRules};
use pengingat::http::page_cache::CachePolicy;
use pengingat::report::outcomes::{self, ReportQuery};
use pengingat::report::status::StandingData;
use pengingat::store::{Kelurahan, NoProgress};
use pengingat::wilayah::region::Level;
use pengingat::wilayah::{LAMPUNG_CSV, parse_kelurahan_csv};

use crate::app::TestApp;
use crate::helpers::*;

both_backends!(
    provinces_drill_down_to_a_kelurahan_with_sums,
    search_finds_regions_by_name_and_code_a_page_at_a_time,
    one_city_keeps_its_own_page,
    report_groups_add_up_to_the_kelurahan_totals,
    a_slow_page_is_kept_until_old_then_computed_again,
);

/// (kelurahan code, active, non-active participants).
const POPULATION: [(&str, u32, u32); 6] = [
    ("18.72.01.1001", 1, 3),
    ("18.72.01.1005", 3, 0),
    ("18.72.02.1001", 2, 1),
    ("18.71.01.1003", 4, 2),
    ("18.02.01.2001", 1, 5),
    ("51.71.01.1001", 2, 0),
];

/// Standing is taken on 15 July 2026: paid through July is active, through
/// January 2026 is six months behind and non-active.
const NOW: &str = "2026-07-15T03:00:00Z";

/// The Lampung kelurahan of [`POPULATION`] as the shipped list names them,
/// and Dangin Puri in Kota Denpasar, Bali.
async fn load_regions(db: &TestDb, whole_lampung: bool) {
    let lampung = parse_kelurahan_csv(LAMPUNG_CSV).unwrap();
    let mut rows: Vec<Kelurahan> = lampung
        .into_iter()
        .filter(|k| whole_lampung || POPULATION.iter().any(|(c, _, _)| k.code.as_str() == *c))
        .collect();
    let mut bali = kelurahan("51.71.01.1001", "Dangin Puri");
    (bali.kecamatan, bali.kabupaten_kota, bali.provinsi) =
        ("Denpasar Timur".into(), "Kota Denpasar".into(), "Bali".into());
    rows.push(bali);
    db.store.upsert_kelurahan(&rows).await.unwrap();
}

/// The participants of `population`, numbered from 1.
async fn load_people(db: &TestDb, population: &[(&str, u32, u32)]) {
    let mut people = Vec::new();
    for (code, active, nonactive) in population {
        for i in 0..active + nonactive {
            let mut p = participant(people.len() as u32 + 1, if i < *active { "2026-07" } else { "2026-01" });
            p.kelurahan = pengingat::domain::KelurahanCode::parse(code).unwrap();
            people.push(p);
        }
    }
    db.store
        .upsert_participants(&people, at(NOW), &NoProgress)
        .await
        .unwrap();
}

async fn app(db: &TestDb) -> TestApp {
    TestApp::builder(db)
        .clock(Arc::new(FixedClock::at(at(NOW))))
        .open_dashboard()
        .spawn()
        .await
}

/// The cells after the row headed by the link to `href`, or by `name`
/// (the total has no link), in the region table.
fn row(page: &str, head: &str) -> Vec<String> {
    let table = &page[page.find("id=\"table-kelurahan\"").expect("region table")..];
    let start = table.find(head).unwrap_or_else(|| panic!("no row {head} in {table}"));
    let rest = &table[start..];
    let end = rest.find("</tr>").unwrap();
    rest[..end]
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| c.trim_end_matches("</td>").to_string())
        .collect()
}

/// The links of the region table's rows.
fn links(page: &str) -> Vec<String> {
    let table = &page[page.find("id=\"table-kelurahan\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    table
        .split("<a href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

async fn provinces_drill_down_to_a_kelurahan_with_sums(db: &TestDb) {
    load_regions(db, false).await;
    load_people(db, &POPULATION).await;
    let app = app(db).await;

    let (status, page) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(page.contains(">Provinsi</th>"), "rows are provinces");
    assert_eq!(links(&page), ["/wilayah/18", "/wilayah/51"]);
    // Lampung: 11 active, 11 non-active; Bali: 2 active.
    let lampung = row(&page, "href=\"/wilayah/18\"");
    assert_eq!(&lampung[..4], ["22", "11", "11", "50,0%"]);
    assert_eq!(&row(&page, ">Total<")[..4], ["24", "13", "11", "54,2%"]);
    assert!(page.contains("form-action 'self'") && page.contains("action=\"/cari\""));
    let top = &page[page.find("id=\"table-top-nonactive\"").unwrap()..];
    let first = top.find("18.02.01.2001").unwrap();
    assert!(first < top.find("18.72.01.1001").unwrap() && first < top.find("18.71.01.1003").unwrap());
    assert!(
        !top[..top.find("</table>").unwrap()].contains("51.71.01.1001"),
        "none non-active there"
    );

    let (_, province) = app.get("/wilayah/18").await;
    assert!(province.contains("<title>Kepesertaan BPU – Provinsi Lampung</title>"));
    assert_eq!(links(&province), ["/wilayah/18.02", "/wilayah/18.71", "/wilayah/18.72"]);
    assert_eq!(&row(&province, "href=\"/wilayah/18.72\"")[..3], ["10", "6", "4"]);
    assert_eq!(
        &row(&province, ">Total<")[..3],
        ["22", "11", "11"],
        "the province alone"
    );
    assert!(province.contains("aria-current=\"page\">Lampung</a>"));

    let (_, city) = app.get("/wilayah/1872").await;
    assert!(city.contains(">Kecamatan</th>"));
    assert_eq!(links(&city), ["/wilayah/18.72.01", "/wilayah/18.72.02"]);
    // 1 of 4 and 3 of 3 active: 4 of 7 (57,1%), not the mean of 25% and 100%.
    assert_eq!(&row(&city, "href=\"/wilayah/18.72.01\"")[..4], ["7", "4", "3", "57,1%"]);

    let (_, kecamatan) = app.get("/wilayah/18.72.01").await;
    assert_eq!(links(&kecamatan), ["/wilayah/18.72.01.1001", "/wilayah/18.72.01.1005"]);
    assert!(kecamatan.contains(">Metro</a>") && kecamatan.contains(">Yosomulyo</a>"));

    let (status, kel) = app.get("/wilayah/18.72.01.1001").await;
    assert_eq!(status, 200);
    assert!(kel.contains("<title>Kepesertaan BPU – Metro</title>"));
    assert_eq!(&row(&kel, ">Total<")[..4], ["4", "1", "3", "25,0%"]);

    let (status, body) = app.get("/wilayah/19").await;
    assert_eq!(
        (status, body.as_str()),
        (404, "wilayah 19 tidak ada dalam daftar kelurahan\n")
    );
    let (status, body) = app.get("/wilayah/18.7").await;
    assert_eq!(status, 400);
    assert!(body.contains("kode wilayah \"18.7\" tidak sah"), "{body}");
    let (status, body) = app.get("/wilayah/18?hal=dua").await;
    assert_eq!(status, 400);
    assert!(body.contains("parameter hal"), "{body}");
    let (status, _) = app.get("/wilayah/18?hal=2").await;
    assert_eq!(status, 400, "one page only");
    app.stop().await;
}

async fn search_finds_regions_by_name_and_code_a_page_at_a_time(db: &TestDb) {
    load_regions(db, true).await;
    let app = app(db).await;

    let (status, page) = app.get("/cari?q=metro+pusat").await;
    assert_eq!(status, 200);
    assert!(page.contains("<a href=\"/wilayah/18.72.01\">Metro Pusat</a>"), "{page}");
    assert!(page.contains("Lampung › Kota Metro"));

    let (_, page) = app.get("/cari?q=18.72.02").await;
    assert!(
        page.contains(">5 wilayah ditemukan<"),
        "the kecamatan and its four kelurahan"
    );
    assert!(page.contains("<a href=\"/wilayah/18.72.02.1001\">Banjarsari</a>"));

    // "jaya" names 224 regions of Lampung: three pages of at most 100.
    let (_, first) = app.get("/cari?q=Jaya").await;
    assert!(first.contains(">224 wilayah ditemukan<"));
    let results = |p: &str| p.matches("<tr><td><a href=").count();
    assert_eq!(results(&first), 100);
    assert!(first.contains("href=\"/cari?q=Jaya&amp;hal=3\""));
    let (_, third) = app.get("/cari?q=Jaya&hal=3").await;
    assert_eq!(results(&third), 24);
    let (status, _) = app.get("/cari?q=Jaya&hal=4").await;
    assert_eq!(status, 400);

    let (status, page) = app.get("/cari?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(status, 200);
    assert!(!page.contains("<script>") && page.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert!(page.contains("Tidak ada wilayah yang cocok."));
    let (status, body) = app.get(&format!("/cari?q={}", "a".repeat(101))).await;
    assert_eq!(status, 400);
    assert!(body.contains("parameter q: paling banyak 100 karakter"), "{body}");
    app.stop().await;
}

async fn one_city_keeps_its_own_page(db: &TestDb) {
    load_regions(db, false).await;
    load_people(db, &POPULATION[..3]).await;
    let app = app(db).await;
    let (status, page) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("Tabel per kelurahan") && page.contains(">Kelurahan</th>"));
    assert!(page.contains("form-action 'none'") && !page.contains("/wilayah/"));
    assert!(!page.contains("table-top-nonactive") && !page.contains("action=\"/cari\""));
    assert_eq!(&row(&page, ">Total<")[..3], ["10", "6", "4"]);
    assert!(page.contains("<span class=\"name\">Metro</span> <span class=\"code\">18.72.01.1001</span>"));
    app.stop().await;
}

async fn report_groups_add_up_to_the_kelurahan_totals(db: &TestDb) {
    load_regions(db, false).await;
    load_people(db, &POPULATION).await;
    let data = StandingData::load(db.store.as_ref(), None).await.unwrap();
    let query = ReportQuery {
        from: None,
        to: None,
        kelurahan: None,
    };
    let (due, standing) = (DueDateRules::default(), StandingRules::default());
    let rules = (&due, &standing);
    let report = |level| outcomes::compute_by(db.store.as_ref(), &data, rules, &query, (&[], level), at(NOW));
    let kelurahan = report(Level::Kelurahan).await.unwrap();
    assert_eq!(kelurahan.kelurahan.len(), 6);
    for (level, codes) in [
        (
            Level::Kecamatan,
            vec!["18.02.01", "18.71.01", "18.72.01", "18.72.02", "51.71.01"],
        ),
        (Level::Kabupaten, vec!["18.02", "18.71", "18.72", "51.71"]),
        (Level::Provinsi, vec!["18", "51"]),
    ] {
        let grouped = report(level).await.unwrap();
        assert_eq!(grouped.group_by, level);
        assert_eq!(grouped.total, kelurahan.total, "{level:?}");
        let got: Vec<&str> = grouped.kelurahan.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(got, codes);
        let sum: i64 = grouped.kelurahan.iter().map(|r| r.nonactive).sum();
        assert_eq!(sum, kelurahan.total.nonactive);
    }
    let by_city = report(Level::Kabupaten).await.unwrap();
    let metro = by_city.kelurahan.iter().find(|r| r.code == "18.72").unwrap();
    assert_eq!((metro.name.as_str(), metro.bpu, metro.active), ("Kota Metro", 10, 6));
    assert_eq!(metro.active_ratio, Some(0.6));
    let csv = pengingat::report::render_outcomes::render_outcome_report(&by_city, pengingat::report::OutputFormat::Csv);
    assert!(csv.starts_with("tingkat,kode,kabupaten,"), "{csv}");
    assert!(csv.contains("\nkabupaten,18.72,Kota Metro,,,10,6,4,0.6000,"), "{csv}");
    let table =
        pengingat::report::render_outcomes::render_outcome_report(&by_city, pengingat::report::OutputFormat::Table);
    assert!(
        table.contains("Kabupaten/Kota") && table.contains("18.72 Kota Metro"),
        "{table}"
    );
    let json: serde_json::Value = serde_json::to_value(&by_city).unwrap();
    assert_eq!(json["group_by"], "kabupaten");
    assert_eq!(json["kelurahan"][2]["name"], "Kota Metro");
}

/// Every computation counted as slow (`keep_after` zero): the country's page
/// is kept, so participants added after it are not on it until it is older
/// than `max_age`; then the kept page is served once more while a new one is
/// computed in the background, and the next request has the new figures. A
/// small page under the shipped policy is computed for every request.
async fn a_slow_page_is_kept_until_old_then_computed_again(db: &TestDb) {
    load_regions(db, false).await;
    load_people(db, &POPULATION).await;
    let clock = Arc::new(FixedClock::at(at(NOW)));
    let policy = CachePolicy {
        keep_after: std::time::Duration::ZERO,
        max_age: chrono::Duration::minutes(5),
        max_pages: 8,
    };
    let kept = TestApp::builder(db)
        .clock(clock.clone())
        .open_dashboard()
        .dashboard_pages(policy)
        .spawn()
        .await;
    let live = app(db).await;
    let bali = |page: &str| row(page, "href=\"/wilayah/51\"")[..3].to_vec();
    assert_eq!(bali(&kept.get("/").await.1), ["2", "2", "0"]);
    assert_eq!(bali(&live.get("/").await.1), ["2", "2", "0"]);

    // Three more active participants in Bali.
    let mut people = Vec::new();
    for n in 101..104 {
        let mut p = participant(n, "2026-07");
        p.kelurahan = pengingat::domain::KelurahanCode::parse("51.71.01.1001").unwrap();
        people.push(p);
    }
    db.store
        .upsert_participants(&people, at(NOW), &NoProgress)
        .await
        .unwrap();
    assert_eq!(bali(&live.get("/").await.1), ["5", "5", "0"], "a fast page is live");
    assert_eq!(bali(&kept.get("/").await.1), ["2", "2", "0"], "the kept page");
    clock.advance(chrono::Duration::minutes(4));
    assert_eq!(bali(&kept.get("/").await.1), ["2", "2", "0"], "not yet old");

    clock.advance(chrono::Duration::minutes(2));
    assert_eq!(
        bali(&kept.get("/").await.1),
        ["2", "2", "0"],
        "served while computed again"
    );
    let mut figures = Vec::new();
    for _ in 0..200 {
        figures = bali(&kept.get("/").await.1);
        if figures[0] == "5" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(figures, ["5", "5", "0"], "the page computed again in the background");
    // An unknown region is still a 404, and not kept.
    assert_eq!(kept.get("/wilayah/52").await.0, 404);
}
