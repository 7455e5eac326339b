//! Jasmin: `GET`/`POST /send` and receipts that must be acknowledged.

use axum::http::{Method, StatusCode};
use mock_sms_gateway::Preset;

use super::{Gateway, Receiver, config};

/// A form as name/value pairs.
type Form<'a> = &'a [(&'a str, &'a str)];

async fn post_send(gateway: &Gateway, form: &[(&str, &str)]) -> (StatusCode, String) {
    let response = gateway.http.post(gateway.url("/send")).form(form).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The UUID of a `Success "<uuid>"` answer.
fn success_id(body: &str) -> String {
    let id = body.strip_prefix("Success \"").and_then(|rest| rest.strip_suffix('"'));
    let id = id.unwrap_or_else(|| panic!("not a Jasmin success: {body}"));
    assert_eq!(id.len(), 36);
    id.to_string()
}

#[tokio::test]
async fn a_level_3_post_receipt_is_the_smsc_then_the_terminal_report() {
    let receiver = Receiver::start().await;
    let gateway = Gateway::start(config()).await;
    let dlr_url = receiver.url("/jasmin/ack");
    let form = [
        ("username", "jasmin"),
        ("password", "jasmin"),
        ("to", "+6281234567890"),
        ("from", "PENGINGAT"),
        ("content", "Iuran Anda jatuh tempo 15/07/2025"),
        ("coding", "0"),
        ("dlr", "yes"),
        ("dlr-url", dlr_url.as_str()),
        ("dlr-level", "3"),
        ("dlr-method", "POST"),
    ];
    let (status, body) = post_send(&gateway, &form).await;
    assert_eq!(status, StatusCode::OK);
    let id = success_id(&body);

    let message = &gateway.messages().await[0];
    assert_eq!(
        (message.preset, message.message_id.as_str()),
        (Preset::Jasmin, id.as_str())
    );
    assert_eq!(message.text, "Iuran Anda jatuh tempo 15/07/2025");

    let receipts = receiver.wait_for(2).await;
    assert!(receipts.iter().all(|r| r.method == Method::POST));
    assert_eq!(
        receipts[0].header("content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let smsc = receipts[0].form();
    let expected_smsc: Vec<(String, String)> = [
        ("id", id.as_str()),
        ("message_status", "ESME_ROK"),
        ("level", "1"),
        ("connector", "mock"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(smsc, expected_smsc);
    let terminal = &receipts[1];
    assert_eq!(terminal.param("id"), Some(id));
    assert_eq!(terminal.param("message_status").as_deref(), Some("DELIVRD"));
    assert_eq!(terminal.param("level").as_deref(), Some("3"));
    assert_eq!(terminal.param("dlvrd").as_deref(), Some("001"));
    assert_eq!(terminal.param("subdate").as_deref(), Some("2507100830"));
    assert_eq!(terminal.param("donedate").as_deref(), Some("2507100830"));
    assert_eq!(terminal.param("err").as_deref(), Some("000"));
    assert_eq!(terminal.param("text").as_deref(), Some("Iuran Anda jatuh tem"));
    assert!(terminal.param("id_smsc").is_some());
    gateway.stats_until(|s| s["callbacks_sent"] == 2).await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_get_send_gets_a_get_receipt() {
    let receiver = Receiver::start().await;
    let mut config = config();
    config.receipts.delivered_ratio = 0.0;
    let gateway = Gateway::start(config).await;
    let mut url = reqwest::Url::parse(&gateway.url("/send")).unwrap();
    url.query_pairs_mut()
        .append_pair("username", "jasmin")
        .append_pair("password", "jasmin")
        .append_pair("to", "6281234567890")
        .append_pair("content", "Halo")
        .append_pair("dlr", "yes")
        .append_pair("dlr-url", &receiver.url("/jasmin/ack-get"))
        .append_pair("dlr-level", "2")
        .append_pair("dlr-method", "GET");
    let response = gateway.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    success_id(&response.text().await.unwrap());
    let receipt = &receiver.wait_for(1).await[0];
    assert_eq!(receipt.method, Method::GET);
    assert_eq!(receipt.param("message_status").as_deref(), Some("UNDELIV"));
    assert_eq!(receipt.param("level").as_deref(), Some("2"));
    gateway.stop().await;
}

#[tokio::test]
async fn unacknowledged_receipts_are_retried_until_acknowledged() {
    let receiver = Receiver::start().await;
    let gateway = Gateway::start(config()).await;
    let dlr_url = receiver.url("/jasmin/third");
    let form = [
        ("username", "jasmin"),
        ("password", "jasmin"),
        ("to", "+6281234567890"),
        ("content", "Halo"),
        ("dlr", "yes"),
        ("dlr-url", dlr_url.as_str()),
        ("dlr-level", "2"),
        ("dlr-method", "POST"),
    ];
    assert_eq!(post_send(&gateway, &form).await.0, StatusCode::OK);
    let stats = gateway.stats_until(|s| s["callbacks_sent"] == 1).await;
    assert_eq!(stats["callbacks_failed"], 2);
    let attempts = receiver.captured();
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts.iter().all(|a| a.body == attempts[0].body),
        "the same receipt each time"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn retries_stop_after_max_retries_and_never_after_404() {
    let receiver = Receiver::start().await;
    let gateway = Gateway::start(config()).await;
    for path in ["/jasmin/nack", "/jasmin/gone"] {
        let dlr_url = receiver.url(path);
        let form = [
            ("username", "jasmin"),
            ("password", "jasmin"),
            ("to", "+6281234567890"),
            ("content", path),
            ("dlr", "yes"),
            ("dlr-url", dlr_url.as_str()),
            ("dlr-level", "2"),
        ];
        assert_eq!(post_send(&gateway, &form).await.0, StatusCode::OK);
    }
    // One try plus Jasmin's 3 retries for the unacknowledged one, a single
    // try for the 404: every attempt is counted after it is made.
    gateway.stats_until(|s| s["callbacks_failed"] == 5).await;
    let captured = receiver.captured();
    assert_eq!(captured.iter().filter(|c| c.path == "/jasmin/nack").count(), 4);
    assert_eq!(captured.iter().filter(|c| c.path == "/jasmin/gone").count(), 1);
    gateway.stop().await;
}

#[tokio::test]
async fn errors_are_jasmins() {
    let gateway = Gateway::start(config()).await;
    let cases: [(Form, StatusCode, &str); 5] = [
        (
            &[],
            StatusCode::BAD_REQUEST,
            "Error \"Mandatory arguments not found, please refer to the HTTPAPI specifications.\"",
        ),
        (
            &[
                ("username", "jasmin"),
                ("password", "jasmin"),
                ("to", "+6281"),
                ("content", "a"),
                ("foo", "1"),
            ],
            StatusCode::BAD_REQUEST,
            "Error \"Argument [foo] is unknown.\"",
        ),
        (
            &[("username", "jasmin"), ("password", "jasmin"), ("to", "+6281")],
            StatusCode::BAD_REQUEST,
            "Error \"Mandatory argument [content] is not found.\"",
        ),
        (
            &[
                ("username", "jasmin"),
                ("password", "jasmin"),
                ("to", "0812-34"),
                ("content", "a"),
            ],
            StatusCode::BAD_REQUEST,
            "Error \"Argument [to] has an invalid value: [0812-34].\"",
        ),
        (
            &[
                ("username", "jasmin"),
                ("password", "salah"),
                ("to", "+6281"),
                ("content", "a"),
            ],
            StatusCode::FORBIDDEN,
            "Error \"Authentication failure for username:jasmin\"",
        ),
    ];
    for (form, status, body) in cases {
        assert_eq!(post_send(&gateway, form).await, (status, body.to_string()), "{form:?}");
    }
    assert!(gateway.messages().await.is_empty());
    gateway.stop().await;
}
