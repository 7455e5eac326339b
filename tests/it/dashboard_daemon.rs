//! The dashboard as the daemon serves it at `GET /`, over the hand-built
//! population of the outcome tests, in headless Chromium; and its access
//! rules when the daemon listens beyond loopback.

use std::sync::Arc;

use pengingat::clock::FixedClock;
use pengingat::daemon::Daemon;
use pengingat::dashboard::{CHART_IDS, TABLE_ID};

use crate::browser::{PageRequest, count_tags, screenshot_path};
use crate::daemon::daemon_settings;
use crate::helpers::*;
use crate::outcomes::population;

both_backends!(
    the_daemon_serves_the_dashboard_to_a_browser,
    beyond_loopback_the_dashboard_needs_its_token
);

/// Starts a daemon on `settings`; returns its base URL and a stopper.
async fn start(settings: pengingat::config::Settings) -> (String, tokio::sync::oneshot::Sender<()>) {
    let clock = Arc::new(FixedClock::at(at("2025-07-20T00:00:00Z")));
    let daemon = Daemon::build(settings, clock).await.expect("daemon builds");
    let port = daemon.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(daemon.run(async move {
        let _ = stopped.await;
    }));
    (format!("http://127.0.0.1:{port}"), stop)
}

async fn the_daemon_serves_the_dashboard_to_a_browser(db: &TestDb) {
    population(db).await;
    let (base, stop) = start(daemon_settings(db)).await;
    let backend = if db.url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let page = PageRequest::new(&format!("{base}/"))
        .screenshot(&screenshot_path(&format!("dashboard-daemon-{backend}")))
        .evaluate("document.querySelector('#table-kelurahan tfoot').innerText")
        .load_async()
        .await;
    let _ = stop.send(());
    page.assert_no_console_errors();
    for id in CHART_IDS {
        assert!(page.element(id).is_some_and(|e| e.contains("<svg")), "{id} is drawn");
    }
    let bars = |id: &str| page.element(id).map_or(0, |e| e.matches("class=\"bar ").count());
    assert_eq!(bars("chart-active-ratio"), 2, "Metro and Yosomulyo");
    assert_eq!(bars("chart-funnel"), 6, "sent, delivered, paid for h-1 and h+7");
    assert_eq!(bars("chart-history"), 12, "the last 12 months");
    // No month-end snapshot before the daemon's first (June 2025, taken late):
    // every month but the running one is rebuilt.
    let history = page.element("chart-history").unwrap();
    assert_eq!(history.matches(" rebuilt\"").count(), 11, "{history}");
    assert!(history.contains(">direkonstruksi</text>"));
    let table = page.element(TABLE_ID).expect("the table");
    let body = table.split_once("<tbody>").unwrap().1.split_once("</tbody>").unwrap().0;
    assert_eq!(count_tags(body, "tr"), 2);
    assert!(body.contains("Metro") && body.contains("Yosomulyo"), "{body}");
    let total = page.values[0].as_str().unwrap();
    assert!(total.contains("Total") && total.contains("66,7%"), "{total}");
    assert!(total.contains("Rp50.400"), "{total}");
}

async fn beyond_loopback_the_dashboard_needs_its_token(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("dashboard_token");
    std::fs::write(&token_file, "kunci-dasbor\n").unwrap();
    let mut settings = daemon_settings(db);
    settings.http.bind = "0.0.0.0:0".into();
    settings.dashboard.token_file = Some(token_file);
    let (base, stop) = start(settings).await;
    let http = reqwest::Client::new();
    let refused = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let wrong = http
        .get(format!("{base}/"))
        .basic_auth("kota", Some("salah"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let basic = http
        .get(format!("{base}/"))
        .basic_auth("kota", Some("kunci-dasbor"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    assert!(basic.text().await.unwrap().contains("id=\"table-kelurahan\""));
    let bearer = http
        .get(format!("{base}/"))
        .bearer_auth("kunci-dasbor")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
    let _ = stop.send(());

    // Beyond loopback with no token configured, the page is not served at all.
    let mut settings = daemon_settings(db);
    settings.http.bind = "0.0.0.0:0".into();
    let (base, stop) = start(settings).await;
    assert_eq!(http.get(format!("{base}/")).send().await.unwrap().status(), 403);
    let _ = stop.send(());
}
