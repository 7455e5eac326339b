//! The `mock-sms-gateway` binary: prints its address, answers, and exits
//! cleanly on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use axum::http::StatusCode;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// An HTTP client that never goes through a proxy.
fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn the_binary_prints_its_address_answers_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-sms-gateway"))
        .args(["--listen", "127.0.0.1:0", "--no-receipts", "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the address is printed")
        .unwrap()
        .unwrap();
    let address = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"));

    let url = format!("http://{address}/cgi-bin/sendsms?username=kannel&password=kannel&to=%2B6281234567890&text=Halo");
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.text().await.unwrap(), "0: Accepted for delivery");
    let control: serde_json::Value = http()
        .get(format!("http://{address}/control"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(control["receipts"]["seed"], 1);
    assert_eq!(control["receipts"]["enabled"], false);

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the gateway exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn help_explains_the_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_mock-sms-gateway"))
        .arg("--help")
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--listen",
        "--receipt-delay-ms",
        "--delivered-ratio",
        "--seed",
        "--no-receipts",
        "--fail-first",
        "--rate-limit-first",
        "--timeout-first",
        "--reject-number",
        "--start-down",
        "--latency-ms",
        "--twilio-auth-token",
        "--infobip-api-key",
    ] {
        assert!(help.contains(flag), "--help mentions {flag}");
    }
}
