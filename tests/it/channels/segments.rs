//! Each gateway's `max_segments`: a text longer than a gateway sends goes
//! through one that sends it, and one longer than every gateway sends is
//! refused before anything is sent, with a reason naming the limit (Kannel
//! would drop the rest and still answer "0: Accepted").

use pengingat::config::delivery::Preset;

use super::*;

/// A GSM-7 text of `segments` segments (153 septets each).
fn text_of(segments: usize) -> String {
    let mut text = "Yth. SITI AMINAH, iuran BPJS Ketenagakerjaan jatuh tempo 15/07/2025. ".repeat(30);
    text.truncate(153 * (segments - 1) + 100);
    text
}

#[tokio::test]
async fn a_text_over_every_gateways_maximum_is_refused_before_sending() {
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let pool = pool(vec![gateway("kannel-1", Preset::Kannel, &mock.base, &secrets)]);
    let long = text_of(11);
    let error = pool.send(&sms(42, &long)).await.unwrap_err();
    assert!(!error.is_transient(), "{error}");
    let shown = error.to_string();
    assert!(shown.contains("11 segments"), "{shown}");
    assert!(shown.contains("max_segments: kannel-1 10"), "{shown}");
    assert!(mock.messages().await.is_empty(), "nothing was sent");

    let accepted = pool.send(&sms(43, &text_of(10))).await.unwrap();
    assert_eq!(accepted.segments, 10);

    let mut none = gateway("kannel-0", Preset::Kannel, &mock.base, &secrets);
    none.max_segments = Some(0);
    let settings = pengingat::config::delivery::SmsSettings {
        gateways: vec![none],
        ..Default::default()
    };
    let error = pengingat::channels::GatewayPool::from_settings(&settings, PUBLIC_URL, reqwest::Client::new())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("kannel-0") && error.contains("max_segments must be at least 1"),
        "{error}"
    );
    mock.stop().await;
}

#[tokio::test]
async fn a_text_too_long_for_one_gateway_goes_through_another() {
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let mut jasmin = gateway("jasmin-1", Preset::Jasmin, &mock.base, &secrets);
    jasmin.priority = 1;
    let mut kannel = gateway("kannel-1", Preset::Kannel, &mock.base, &secrets);
    kannel.priority = 2;
    let pool = pool(vec![jasmin, kannel]);
    assert_eq!(pool.send(&sms(42, &text_of(2))).await.unwrap().gateway, "jasmin-1");
    let seven = pool.send(&sms(43, &text_of(7))).await.unwrap();
    assert_eq!(
        (seven.gateway.as_str(), seven.segments),
        ("kannel-1", 7),
        "past Jasmin's 5"
    );
    let error = pool.send(&sms(44, &text_of(11))).await.unwrap_err();
    assert!(
        error.to_string().contains("max_segments: jasmin-1 5, kannel-1 10"),
        "{error}"
    );
    mock.stop().await;
}
