//! Answers that are not what the gateway's protocol promises (a proxy's HTML
//! error page with 200, a Twilio 201 without a sid, …) are typed transient
//! errors with a clear reason, never a panic or a false acceptance.

use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use pengingat::channels::SendError;
use pengingat::config::delivery::Preset;

use super::*;

/// What the misbehaving server answers on each preset's path.
async fn garbage(uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/cgi-bin/sendsms") {
        let page = "<!DOCTYPE html><html><head><title>502</title></head><body>Bad gateway</body></html>";
        (StatusCode::OK, [(header::CONTENT_TYPE, "text/html")], page).into_response()
    } else if path.starts_with("/2010-04-01/") {
        (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"queued"}"#,
        )
            .into_response()
    } else if path == "/send" {
        (StatusCode::OK, "OK").into_response()
    } else if path == "/sms/3/messages" {
        (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{}").into_response()
    } else {
        (StatusCode::OK, "\u{0}\u{1}binary").into_response()
    }
}

/// Serves [`garbage`] on 127.0.0.1:0; returns its base URL.
async fn start() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, Router::new().fallback(garbage)).await });
    base
}

#[tokio::test]
async fn unexpected_answers_are_transient_and_say_what_came_back() {
    let base = start().await;
    let secrets = Secrets::new();
    let cases = [
        (Preset::Kannel, "an HTML page"),
        (Preset::Twilio, "a Message resource with a sid"),
        (Preset::Jasmin, "Success \"<id>\""),
        (Preset::Infobip, "messages[0].messageId"),
        (Preset::Webhook, "a message id at /message_id"),
    ];
    for (preset, expected) in cases {
        let pool = pool(vec![gateway("odd", preset, &base, &secrets)]);
        let error = pool.send(&sms(1, GSM_TEXT)).await.unwrap_err();
        assert!(
            matches!(&error, SendError::Transient { gateway, .. } if gateway == "odd"),
            "{preset:?}: {error:?}"
        );
        let shown = error.to_string();
        assert!(shown.contains("unexpected answer"), "{preset:?}: {shown}");
        assert!(shown.contains(expected), "{preset:?}: {shown}");
    }
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    // Bound then dropped: nothing listens there any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let secrets = Secrets::new();
    let pool = pool(vec![gateway("gone", Preset::Kannel, &base, &secrets)]);
    let error = pool.send(&sms(1, GSM_TEXT)).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    let shown = error.to_string();
    assert!(shown.contains("cannot connect"), "{shown}");
    assert!(
        !shown.contains("password"),
        "the URL (with its credentials) is never shown: {shown}"
    );
}
