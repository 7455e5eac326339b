//! The dashboard page as a real browser sees it: `dashboard::render` served
//! from a small axum server on 127.0.0.1:0 and loaded in headless Chromium
//! through the `browser` harness. No database is involved.

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use chrono::{NaiveDate, TimeZone, Utc};
use pengingat::dashboard::{
    self, CHART_IDS, DashboardData, KelurahanRow, MonthRatio, MonthSource, RuleFunnel, TABLE_ID,
};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::browser::{BrowserPage, PageRequest, count_tags, load_page, screenshot_path};

/// The kelurahan whose name must come out as text, not markup.
const TRICKY: &str = "Imopuro <b>&\"";

fn kel(code: &str, name: &str, bpu: i64, active: i64, sent: i64) -> KelurahanRow {
    KelurahanRow {
        code: code.into(),
        name: name.into(),
        bpu,
        active,
        nonactive: bpu - active,
        arrears_1: bpu / 20,
        arrears_2: bpu / 40,
        arrears_3_plus: bpu - active,
        sent,
        sms_sent: sent * 4 / 5,
        sms_delivered: sent * 7 / 10,
        email_accepted: sent / 5,
        email_failed: 0,
        failed: sent / 10,
        converted: sent / 4,
        amount_paid: sent / 4 * 16_800,
    }
}

/// Four kelurahan of Kota Metro, three rules, twelve months.
fn sample() -> DashboardData {
    let kelurahan = vec![
        kel("18.72.01.1001", "Metro", 400, 350, 120),
        kel("18.72.01.1002", TRICKY, 1_600, 1_500, 40),
        kel("18.72.02.1001", "Hadimulyo Barat", 300, 150, 200),
        kel("18.72.03.1001", "Yosodadi", 250, 100, 90),
    ];
    DashboardData {
        title: "Kota Metro".into(),
        generated_at: Utc.with_ymd_and_hms(2026, 6, 30, 1, 0, 0).unwrap(),
        time_zone: chrono_tz::Asia::Jakarta,
        period: Some((
            NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        )),
        total: KelurahanRow::total(&kelurahan),
        kelurahan,
        funnel: vec![
            RuleFunnel {
                rule: "H-3 sebelum jatuh tempo".into(),
                sent: 300,
                sms_sent: 300,
                delivered: 280,
                paid: 120,
            },
            RuleFunnel {
                rule: "H+1 terlambat".into(),
                sent: 100,
                sms_sent: 100,
                delivered: 90,
                paid: 30,
            },
            RuleFunnel {
                rule: "H+30 hampir nonaktif".into(),
                sent: 50,
                sms_sent: 50,
                delivered: 40,
                paid: 5,
            },
        ],
        history: (0..12)
            .map(|i| MonthRatio {
                year: if i < 6 { 2025 } else { 2026 },
                month: (i + 6) % 12 + 1,
                bpu: 2_550,
                active: 1_900 + i64::from(i) * 15,
                ..MonthRatio::default()
            })
            .collect(),
        contacts_to_verify: 0,
        effect: None,
    }
}

/// Nothing yet: no kelurahan, no rules, no history.
fn empty() -> DashboardData {
    DashboardData {
        title: "Semua wilayah".into(),
        generated_at: Utc.with_ymd_and_hms(2026, 6, 30, 1, 0, 0).unwrap(),
        time_zone: chrono_tz::Asia::Jakarta,
        period: None,
        kelurahan: Vec::new(),
        total: KelurahanRow::total(&[]),
        funnel: Vec::new(),
        history: Vec::new(),
        contacts_to_verify: 0,
        effect: None,
    }
}

/// Serves `router` on 127.0.0.1:0; returns the base URL.
async fn serve(router: Router) -> (String, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (base, task)
}

/// Serves `html` at `/` (anything else is a 404).
async fn serve_page(html: String) -> (String, JoinHandle<()>) {
    serve(Router::new().route("/", get(move || async move { Html(html) }))).await
}

/// How many chart bars (not tracks or gridlines) the element `id` holds.
fn bars(page: &BrowserPage, id: &str) -> usize {
    page.element(id).map_or(0, |el| el.matches("class=\"bar ").count())
}

/// The numbers of a JSON array.
fn numbers(value: &Value) -> Vec<f64> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

#[tokio::test]
async fn the_dashboard_draws_every_chart_and_the_table_without_console_errors() {
    let (base, server) = serve_page(dashboard::render(&sample())).await;
    let shot = screenshot_path("dashboard");
    let _ = std::fs::remove_file(&shot);
    let ids = serde_json::to_string(&CHART_IDS).unwrap();
    let page = PageRequest::new(&format!("{base}/"))
        .screenshot(&shot)
        .evaluate(
            "[...document.querySelectorAll('#chart-active-ratio rect.bar')].map(r => r.getBoundingClientRect().width)",
        )
        .evaluate(&format!(
            "{ids}.map(id => document.querySelector('#' + id + ' svg').getBoundingClientRect().height)"
        ))
        .evaluate("document.querySelector('#table-kelurahan tbody').innerText")
        .evaluate("document.querySelectorAll('b, script').length")
        .evaluate("document.title")
        .load_async()
        .await;
    server.abort();
    page.assert_no_console_errors();

    assert!(
        page.assert_chart("chart-active-ratio", 8) >= 8,
        "a track and a bar per kelurahan"
    );
    assert_eq!(bars(&page, "chart-active-ratio"), 4);
    page.assert_chart("chart-funnel", 18);
    assert_eq!(bars(&page, "chart-funnel"), 9, "three bars for each of three rules");
    page.assert_chart("chart-arrears", 8);
    assert_eq!(bars(&page, "chart-arrears"), 4, "lancar, 1, 2, ≥3 bulan");
    page.assert_chart("chart-history", 12);
    assert_eq!(bars(&page, "chart-history"), 12);

    let table = page.element(TABLE_ID).expect("the table");
    let (body, foot) = table.split_once("<tfoot>").expect("a tfoot");
    assert_eq!(count_tags(body.split_once("<tbody>").unwrap().1, "tr"), 4);
    assert_eq!(count_tags(foot, "tr"), 1);
    assert!(foot.contains(">Total<") && foot.contains(">2.550<"), "{foot}");

    // Ratio bars as laid out by the browser: widest first (93,8%, 87,5%, 50%, 40%).
    let widths = numbers(&page.values[0]);
    assert_eq!(widths.len(), 4);
    assert!(widths.windows(2).all(|w| w[0] > w[1]), "{widths:?}");
    assert!(widths[3] > 0.0, "{widths:?}");
    let heights = numbers(&page.values[1]);
    assert!(
        heights.iter().all(|h| *h > 50.0),
        "every chart has a visible size: {heights:?}"
    );

    // The tricky name is text on screen, never markup.
    assert!(page.values[2].as_str().unwrap().contains(TRICKY), "{}", page.values[2]);
    assert_eq!(page.values[3], 0, "no <b> or <script> element came from data");
    assert!(page.dom.contains("Imopuro &lt;b&gt;&amp;\""));
    assert_eq!(page.values[4], "Kepesertaan BPU – Kota Metro");
    assert!(page.dom.contains("Diperbarui 30 Jun 2026 08.00 WIB"));

    let png = std::fs::read(&shot).expect("a screenshot");
    assert_eq!(&png[1..4], b"PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!(width, 1280);
    assert!(height > 900, "the whole page, not only the window: {height}");
}

#[tokio::test]
async fn months_without_a_snapshot_are_drawn_and_listed_as_direkonstruksi() {
    let mut data = sample();
    for (i, m) in data.history.iter_mut().enumerate() {
        m.source = match i {
            0..=3 => MonthSource::Rebuilt,
            11 => MonthSource::Current,
            _ => MonthSource::Snapshot,
        };
    }
    let (base, server) = serve_page(dashboard::render(&data)).await;
    let page = PageRequest::new(&format!("{base}/"))
        .screenshot(&screenshot_path("dashboard-rebuilt"))
        .evaluate("[...document.querySelectorAll('#chart-history rect.bar')].map(r => getComputedStyle(r).fillOpacity)")
        .evaluate(
            "[...document.querySelectorAll('#chart-history text')].filter(t => t.textContent === 'direkonstruksi')\
             .map(t => t.getBoundingClientRect().width)",
        )
        .evaluate("[...document.querySelectorAll('#table-history tbody tr')].map(r => r.className + '|' + r.innerText)")
        .evaluate("document.querySelector('#note-rebuilt').getBoundingClientRect().height")
        .load_async()
        .await;
    server.abort();
    page.assert_no_console_errors();
    assert_eq!(bars(&page, "chart-history"), 12);
    // The four oldest months are drawn pale; the others in full colour.
    let opacity: Vec<f64> = page.values[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(opacity.len(), 12);
    assert!(opacity[..4].iter().all(|o| *o < 0.5), "{opacity:?}");
    assert!(opacity[4..].iter().all(|o| *o == 1.0), "{opacity:?}");
    // One label over the run of rebuilt months, laid out with a width.
    let labels = numbers(&page.values[1]);
    assert_eq!(labels.len(), 1, "{labels:?}");
    assert!(labels[0] > 20.0, "{labels:?}");
    // The table lists the newest month first; the four oldest say direkonstruksi.
    let rows: Vec<&str> = page.values[2]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(rows.len(), 12);
    assert!(
        rows[0].starts_with("|Jun 2026") && rows[0].contains("bulan berjalan"),
        "{rows:?}"
    );
    assert!(rows[1].contains("dicatat akhir bulan"), "{rows:?}");
    for row in &rows[8..] {
        assert!(row.starts_with("rebuilt|") && row.contains("direkonstruksi"), "{row}");
    }
    assert!(rows[11].contains("Jul 2025"), "{rows:?}");
    assert!(
        page.values[3].as_f64().unwrap() > 10.0,
        "the note under the table is shown"
    );
}

#[tokio::test]
async fn an_empty_dashboard_says_there_is_no_data_yet() {
    let (base, server) = serve_page(dashboard::render(&empty())).await;
    let page = PageRequest::new(&format!("{base}/"))
        .screenshot(&screenshot_path("dashboard-empty"))
        .load_async()
        .await;
    server.abort();
    page.assert_no_console_errors();
    for id in CHART_IDS {
        page.assert_chart(id, 0);
        assert_eq!(bars(&page, id), 0, "{id}");
        assert!(page.element(id).unwrap().contains(">Belum ada data<"), "{id}");
    }
    assert!(page.element(TABLE_ID).unwrap().contains(">Belum ada data<"));
    assert!(!page.dom.contains("NaN"));
}

#[tokio::test]
async fn console_errors_and_failed_loads_are_reported() {
    let broken = "<!DOCTYPE html><html lang=\"id\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">\
                  </head><body><img src=\"/missing.png\" alt=\"\"><script>console.error(\"rusak\")</script></body></html>";
    let (base, server) = serve_page(broken.to_string()).await;
    let url = format!("{base}/");
    let page = tokio::task::spawn_blocking(move || load_page(&url, None))
        .await
        .unwrap();
    server.abort();
    assert_eq!(page.console_errors.len(), 2, "{:?}", page.console_errors);
    assert!(
        page.console_errors.iter().any(|e| e == "console.error: rusak"),
        "{:?}",
        page.console_errors
    );
    assert!(
        page.console_errors
            .iter()
            .any(|e| e.contains("404") && e.contains("/missing.png")),
        "{:?}",
        page.console_errors
    );
}

#[tokio::test]
async fn the_dashboard_policy_blocks_any_script() {
    let html = dashboard::render(&sample()).replace("</body>", "<script>console.error(\"jalan\")</script></body>");
    let (base, server) = serve_page(html).await;
    let page = PageRequest::new(&format!("{base}/")).load_async().await;
    server.abort();
    assert!(
        !page.console_errors.iter().any(|e| e.contains("jalan")),
        "{:?}",
        page.console_errors
    );
    assert!(
        page.console_errors
            .iter()
            .any(|e| e.contains("Content Security Policy")),
        "the blocked script is reported: {:?}",
        page.console_errors
    );
}
