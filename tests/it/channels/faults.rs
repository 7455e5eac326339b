//! Faults injected through the mock's `POST /control`: each surfaces as the
//! right kind of error, the pool fails over on transient ones only, and the
//! circuit breaker takes a failing gateway out of rotation, then probes it.

use std::sync::Arc;
use std::time::Duration;

use pengingat::channels::{BreakerState, ManualTicker, SendError};
use pengingat::config::delivery::Preset;
use serde_json::json;

use super::*;

/// A one-gateway pool of `preset` on a fresh mock.
async fn single(preset: Preset) -> (Gateway, pengingat::channels::GatewayPool, Secrets) {
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let pool = pool(vec![gateway("gw-1", preset, &mock.base, &secrets)]);
    (mock, pool, secrets)
}

#[tokio::test]
async fn a_503_is_transient_for_every_preset() {
    for preset in [
        Preset::Kannel,
        Preset::Jasmin,
        Preset::Twilio,
        Preset::Infobip,
        Preset::Webhook,
    ] {
        let (mock, pool, _secrets) = single(preset).await;
        mock.control(json!({"fail_next": 1, "status": 503})).await;
        let error = pool.send(&sms(1, GSM_TEXT)).await.unwrap_err();
        assert!(
            matches!(&error, SendError::Transient { gateway, retry_after: None, .. } if gateway == "gw-1"),
            "{preset:?}: {error:?}"
        );
        assert!(error.to_string().contains("503"), "{preset:?}: {error}");
        // The next one goes through: nothing sticks.
        pool.send(&sms(2, GSM_TEXT)).await.unwrap();
        mock.stop().await;
    }
}

#[tokio::test]
async fn a_429_is_transient_with_the_gateways_retry_after() {
    for preset in [
        Preset::Kannel,
        Preset::Jasmin,
        Preset::Twilio,
        Preset::Infobip,
        Preset::Webhook,
    ] {
        let (mock, pool, _secrets) = single(preset).await;
        mock.control(json!({"rate_limit_next": 1, "retry_after_secs": 7})).await;
        let error = pool.send(&sms(1, GSM_TEXT)).await.unwrap_err();
        assert!(error.is_transient(), "{preset:?}: {error}");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)), "{preset:?}: {error}");
        mock.stop().await;
    }
}

#[tokio::test]
async fn a_rejected_number_is_permanent_with_the_gateways_reason_masked() {
    let cases = [
        (Preset::Kannel, "denied by white- and/or black-lists"),
        (Preset::Jasmin, "Argument [to] has an invalid value"),
        (Preset::Twilio, "Twilio error 21211"),
        (Preset::Infobip, "invalid destination address"),
        (Preset::Webhook, "recipient rejected"),
    ];
    for (preset, expected) in cases {
        let (mock, pool, _secrets) = single(preset).await;
        mock.control(json!({"reject_numbers": [TO]})).await;
        let error = pool.send(&sms(1, GSM_TEXT)).await.unwrap_err();
        assert!(matches!(error, SendError::Permanent { .. }), "{preset:?}: {error:?}");
        let shown = error.to_string();
        assert!(shown.contains(expected), "{preset:?}: {shown}");
        assert!(!shown.contains("1234567890"), "the number is masked: {shown}");
        assert!(!error.reason().contains("1234567890"), "{preset:?}: {error:?}");
        mock.stop().await;
    }
}

#[tokio::test]
async fn a_gateway_that_does_not_answer_in_time_is_transient() {
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let mut settings = gateway("slow", Preset::Jasmin, &mock.base, &secrets);
    settings.timeout_ms = 300;
    let pool = pool(vec![settings]);
    mock.control(json!({"timeout_next": 1})).await;
    let error = pool.send(&sms(1, GSM_TEXT)).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(error.to_string().contains("no answer within 300 ms"), "{error}");
    assert!(mock.messages().await.is_empty());
    mock.stop().await;
}

#[tokio::test]
async fn the_second_gateway_takes_over_while_the_first_is_down() {
    let first = Gateway::start(mock_config()).await;
    let second = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let mut backup = gateway("backup", Preset::Infobip, &second.base, &secrets);
    backup.priority = 20;
    let mut main = gateway("main", Preset::Kannel, &first.base, &secrets);
    main.priority = 10;
    // Listed backup first: priority decides, not the order in the file.
    let pool = pool(vec![backup, main]);
    assert_eq!(pool.gateway_names(), vec!["main", "backup"]);
    first.control(json!({"down": true})).await;
    let accepted = pool.send(&sms(42, GSM_TEXT)).await.unwrap();
    assert_eq!(accepted.gateway, "backup");
    assert_eq!(
        accepted.message_id.as_deref(),
        Some(format!("pengingat-{DEPLOYMENT}-42").as_str())
    );
    assert!(first.messages().await.is_empty());
    assert_eq!(only_message(&second).await.text, GSM_TEXT);

    first.control(json!({"down": false})).await;
    let accepted = pool.send(&sms(43, GSM_TEXT)).await.unwrap();
    assert_eq!(accepted.gateway, "main", "back to the first once it answers");
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn a_permanent_refusal_does_not_fail_over() {
    let first = Gateway::start(mock_config()).await;
    let second = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let mut backup = gateway("backup", Preset::Jasmin, &second.base, &secrets);
    backup.priority = 2;
    let pool = pool(vec![gateway("main", Preset::Twilio, &first.base, &secrets), backup]);
    first.control(json!({"reject_numbers": [TO]})).await;
    let error = pool.send(&sms(1, GSM_TEXT)).await.unwrap_err();
    assert_eq!(error.gateway(), Some("main"));
    assert!(!error.is_transient());
    assert!(second.messages().await.is_empty(), "the number is bad everywhere");
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn the_breaker_opens_after_five_failures_then_probes() {
    let first = Gateway::start(mock_config()).await;
    let second = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let ticker = ManualTicker::new();
    let mut backup = gateway("backup", Preset::Kannel, &second.base, &secrets);
    backup.priority = 2;
    let pool = pool_with_ticker(
        vec![gateway("main", Preset::Jasmin, &first.base, &secrets), backup],
        Arc::new(ticker.clone()),
    );
    first.control(json!({"fail_next": 100, "status": 500})).await;
    for id in 1..=5 {
        assert_eq!(pool.send(&sms(id, GSM_TEXT)).await.unwrap().gateway, "backup");
    }
    assert!(
        matches!(pool.status()[0].breaker, BreakerState::Open { .. }),
        "{:?}",
        pool.status()
    );
    assert_eq!(first.stats().await["faults_injected"], 5);

    // Open: the first gateway is not even asked.
    assert_eq!(pool.send(&sms(6, GSM_TEXT)).await.unwrap().gateway, "backup");
    assert_eq!(first.stats().await["faults_injected"], 5);

    // After the open period one probe goes through; it fails, so it stays open.
    ticker.advance(Duration::from_secs(30));
    assert_eq!(pool.send(&sms(7, GSM_TEXT)).await.unwrap().gateway, "backup");
    assert_eq!(first.stats().await["faults_injected"], 6);
    assert!(matches!(pool.status()[0].breaker, BreakerState::Open { .. }));

    // The gateway recovers; the next probe succeeds and closes the breaker.
    first.control(json!({"reset": true})).await;
    ticker.advance(Duration::from_secs(30));
    assert_eq!(pool.send(&sms(8, GSM_TEXT)).await.unwrap().gateway, "main");
    assert_eq!(pool.status()[0].breaker, BreakerState::Closed { failures: 0 });
    assert_eq!(second.messages().await.len(), 7);
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn with_every_breaker_open_nothing_is_tried() {
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let ticker = ManualTicker::new();
    let pool = pool_with_ticker(
        vec![gateway("only", Preset::Twilio, &mock.base, &secrets)],
        Arc::new(ticker.clone()),
    );
    mock.control(json!({"down": true})).await;
    for id in 1..=5 {
        let error = pool.send(&sms(id, GSM_TEXT)).await.unwrap_err();
        assert!(matches!(error, SendError::Transient { .. }), "{error:?}");
    }
    let error = pool.send(&sms(6, GSM_TEXT)).await.unwrap_err();
    assert!(
        matches!(&error, SendError::Unavailable { reason } if reason.contains("only")),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert_eq!(mock.stats().await["faults_injected"], 5);
    mock.stop().await;
}
