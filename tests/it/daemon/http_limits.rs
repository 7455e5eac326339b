//! The HTTP server's limits against slow clients: partial headers are
//! dropped after the header-read timeout, a body that never ends gets 503
//! after the request timeout, and connections over the limit get 503.

use std::sync::Arc;
use std::time::Duration;

use pengingat::clock::FixedClock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::daemon_settings;
use crate::app::TestDaemon;
use crate::helpers::*;

both_backends!(slow_clients_cannot_hold_connections);

/// Far longer than any limit configured here: a connection still open
/// after this is held forever.
const PATIENCE: Duration = Duration::from_secs(20);

/// Reads until the server closes the connection; what it sent.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&received).into_owned()
}

async fn slow_clients_cannot_hold_connections(db: &TestDb) {
    let mut settings = daemon_settings(db);
    settings.http.header_read_timeout_secs = 1;
    settings.http.request_timeout_secs = 2;
    settings.http.max_connections = 2;
    let clock = Arc::new(FixedClock::at(at("2025-07-15T01:05:00Z")));
    let daemon = TestDaemon::start(settings, clock).await;
    let addr = daemon.addr;

    // Two connections sending half their headers take both places.
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        slow.push(stream);
    }
    let (third, text) = daemon.get("/healthz").await;
    assert_eq!(third, 503, "a connection over the limit is refused");
    assert_eq!(text, "too many connections; try again\n");
    // The header-read timeout closes both.
    for stream in &mut slow {
        until_closed(stream).await;
    }
    let (health, _) = daemon.get("/healthz").await;
    assert_eq!(health, 200);

    // Headers in time, but a body that never comes: the request timeout.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{")
        .await
        .unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("the request did not finish within 2 s"), "{answer}");

    daemon.stop_within(PATIENCE).await;
}
