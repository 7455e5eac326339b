//! The daemon: in-process through `Daemon::build`/`run`, and as the real
//! binary with systemd's notify protocol, signals and reloads.

mod binary;
mod breaks;
mod http_limits;
mod request_log;
mod systemd_unit;

use std::sync::Arc;

use pengingat::clock::FixedClock;
use pengingat::config::Settings;
use pengingat::store::NoProgress;

use crate::app::TestDaemon;
use crate::helpers::*;

both_backends!(serves_health_readiness_and_metrics_and_stops_cleanly);

/// Settings for a daemon on `db`, listening on a free port, with the shipped schedules.
pub fn daemon_settings(db: &TestDb) -> Settings {
    let mut settings = Settings::default();
    settings.database.url = db.url.clone();
    settings.http.bind = "127.0.0.1:0".to_string();
    settings
}

async fn serves_health_readiness_and_metrics_and_stops_cleanly(db: &TestDb) {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (1..=5).map(|i| participant(i, "2025-06")).collect();
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let clock = Arc::new(FixedClock::at(at("2025-07-15T01:05:00Z")));
    let daemon = TestDaemon::start(daemon_settings(db), clock).await;

    let (status, body) = daemon.get("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body, "ok\n");
    assert_eq!(daemon.readyz().await.0, 200);
    // The scan at start creates h0 for the five; metrics show it once it is done.
    let metrics = daemon.wait_for_metric("pengingat_scans_total 1").await;
    assert!(
        metrics.contains("pengingat_reminders_created_total{rule=\"h0\"} 5"),
        "{metrics}"
    );
    assert!(metrics.contains("pengingat_scan_duration_seconds_count 1"), "{metrics}");

    let (http, base) = (daemon.http.clone(), daemon.base.clone());
    daemon.stop_within(std::time::Duration::from_secs(5)).await;
    assert!(
        http.get(format!("{base}/healthz")).send().await.is_err(),
        "no longer serving"
    );
}
