//! The daemon's request log at debug level: one line per request with its
//! method, matched route, status and latency, and nothing of the query
//! string, where a gateway's receipt URL can carry a phone number or a
//! token.

use std::time::Duration;

use super::binary::{RunningDaemon, SCHEDULES_V1};
use crate::helpers::*;

both_backends!(request_lines_name_the_route_and_not_the_query);

const PHONE: &str = "6281234567801";
const TOKEN: &str = "rahasia-token-3391";

async fn request_lines_name_the_route_and_not_the_query(db: &TestDb) {
    load_test_kelurahan(db).await;
    let mut daemon = RunningDaemon::start_logging_at(db, SCHEDULES_V1, "2025-07-15T01:05:00Z", "debug").await;
    for path in [
        format!("/healthz?to={PHONE}"),
        format!("/receipts/uji?id=7&status=1&to=%2B{PHONE}&token={TOKEN}"),
        format!("/nomor/{PHONE}?token={TOKEN}"),
    ] {
        daemon.get(&path).await;
    }

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let requests = loop {
        let requests: Vec<serde_json::Value> = daemon
            .log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|v| v["message"] == "HTTP request")
            .collect();
        if requests.len() >= 3 || std::time::Instant::now() > deadline {
            break requests;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = daemon.log.lock().unwrap().join("\n");
    let seen: Vec<(String, String, u64)> = requests
        .iter()
        .map(|v| {
            assert!(v["latency_ms"].is_number(), "{v}");
            (
                v["span"]["method"].as_str().unwrap_or_default().to_string(),
                v["span"]["route"].as_str().unwrap_or_default().to_string(),
                v["status"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let routes: Vec<&str> = seen.iter().map(|(_, route, _)| route.as_str()).collect();
    assert_eq!(routes, ["/healthz", "/receipts/{gateway}", "(no route)"], "{log}");
    assert!(seen.iter().all(|(method, _, _)| method == "GET"), "{log}");
    assert_eq!(seen[0].2, 200, "{log}");
    assert_eq!(seen[2].2, 404, "{log}");
    for secret in [PHONE, &PHONE[2..], TOKEN] {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }

    daemon.signal("TERM");
    let status = tokio::time::timeout(Duration::from_secs(5), daemon.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}
