//! The daemon's HTTP surfaces: the payments API, delivery receipts and
//! inbound SMS, over real HTTP on loopback. Each bad request is answered
//! with a status and a text naming the problem, and records nothing.

use std::sync::Arc;

use pengingat::clock::FixedClock;

use super::{Case, assert_count, changed, snapshot, unnamed, words};
use crate::app::TestApp;
use crate::helpers::*;
use crate::receipts::{Sql, every_preset, now, pending_reminders, token};

both_backends!(bad_requests_are_answered_and_record_nothing);

const PAYMENTS_TOKEN: &str = "rahasia-pembayaran";

/// One bad request.
struct Request {
    case: Case,
    /// The path and query.
    path: String,
    /// `None` for GET.
    body: Option<(&'static str, Vec<u8>)>,
    /// The bearer token, if any.
    bearer: Option<&'static str>,
    status: u16,
}

fn get(case: &'static str, path: String, status: u16, needles: &[&str]) -> Request {
    Request {
        case: Case {
            name: case,
            needles: words(needles),
        },
        path,
        body: None,
        bearer: None,
        status,
    }
}

fn post(case: &'static str, path: String, json: impl Into<Vec<u8>>, status: u16, needles: &[&str]) -> Request {
    Request {
        body: Some(("application/json", json.into())),
        ..get(case, path, status, needles)
    }
}

fn payment(case: &'static str, json: impl Into<Vec<u8>>, status: u16, needles: &[&str]) -> Request {
    Request {
        bearer: Some(PAYMENTS_TOKEN),
        ..post(case, "/api/v1/payments".into(), json, status, needles)
    }
}

/// A payment by participant 1 with one field replaced.
fn item(key: &str, value: serde_json::Value) -> String {
    let mut item = serde_json::json!({
        "external_ref": "JMO-9", "nik": "1872011205900001", "amount": 16800,
        "paid_at": "2025-07-15T02:00:00Z", "channel": "jmo"
    });
    item[key] = value;
    item.to_string()
}

fn requests(id: i64) -> Vec<Request> {
    use serde_json::json;
    let good = item("channel", json!("jmo"));
    let kannel = |q: &str| format!("/receipts/kannel?{q}&token={}", token("kannel"));
    let infobip = format!("/receipts/infobip?token={}", token("infobip"));
    let inbound = |q: &str| format!("/inbound/kannel?{q}&token={}", token("kannel"));
    vec![
        payment("api_not_utf8", vec![b'[', 0xff, b']'], 400, &["not UTF-8"]),
        payment("api_not_json", "pembayaran", 400, &["request body", "line 1"]),
        payment(
            "api_two_objects_without_brackets",
            format!("{good},{good}"),
            400,
            &["one JSON object", "trailing characters"],
        ),
        payment("api_empty_array", "[]", 400, &["no payments"]),
        payment("api_a_number", "42", 400, &["JSON array"]),
        payment(
            "api_truncated",
            "{\"external_ref\": \"JMO-6\", ",
            400,
            &["request body"],
        ),
        payment(
            "api_escaped_nul",
            item("external_ref", json!("JMO\u{0}9")),
            400,
            &["NUL", "line 1"],
        ),
        payment(
            "api_unknown_nik",
            item("nik", json!("1872011205909999")),
            422,
            &["nik", "no participant"],
        ),
        payment("api_nik_malformed", item("nik", json!("18720112")), 422, &["nik"]),
        payment(
            "api_amount_zero",
            item("amount", json!(0)),
            422,
            &["amount", "positive"],
        ),
        payment("api_amount_text", item("amount", json!("banyak")), 422, &["amount"]),
        payment(
            "api_paid_at_future",
            item("paid_at", json!("2025-07-16T04:00:00Z")),
            422,
            &["paid_at", "future"],
        ),
        payment(
            "api_paid_at_malformed",
            item("paid_at", json!("kemarin")),
            422,
            &["paid_at", "kemarin"],
        ),
        payment(
            "api_reference_missing",
            item("external_ref", json!("")),
            422,
            &["external_ref"],
        ),
        Request {
            bearer: None,
            ..payment("api_without_token", good.clone(), 401, &["bearer token"])
        },
        Request {
            bearer: Some("salah"),
            ..payment("api_wrong_token", good.clone(), 401, &["bearer token"])
        },
        get(
            "receipt_kannel_status_missing",
            kannel(&format!("id={id}")),
            400,
            &["status is missing"],
        ),
        get(
            "receipt_kannel_id_not_a_number",
            kannel("id=abc&status=1"),
            400,
            &["id", "abc"],
        ),
        get(
            "receipt_kannel_status_words",
            kannel(&format!("id={id}&status=terkirim")),
            400,
            &["status", "terkirim"],
        ),
        get(
            "receipt_kannel_nul_in_message_id",
            kannel(&format!("id={id}&status=1&fid=ab%00cd")),
            400,
            &["message id", "NUL"],
        ),
        get(
            "receipt_wrong_token",
            format!("/receipts/kannel?id={id}&status=1&token=salah"),
            401,
            &["wrong token"],
        ),
        get(
            "receipt_missing_token",
            format!("/receipts/kannel?id={id}&status=1"),
            401,
            &["missing token"],
        ),
        get(
            "receipt_unknown_gateway",
            format!("/receipts/entah?id={id}&status=1"),
            404,
            &["unknown gateway"],
        ),
        post(
            "receipt_infobip_truncated",
            infobip.clone(),
            "{\"results\": [",
            400,
            &["malformed JSON"],
        ),
        post(
            "receipt_infobip_status_missing",
            infobip.clone(),
            "{\"results\": [{\"messageId\": \"ib-1\"}]}",
            400,
            &["results[0].status is missing"],
        ),
        post(
            "receipt_infobip_nul_in_message_id",
            infobip.clone(),
            "{\"results\": [{\"messageId\": \"ib\\u0000\", \"status\": {\"groupName\": \"DELIVERED\", \"id\": 5}}]}",
            400,
            &["NUL"],
        ),
        post(
            "receipt_jasmin_id_missing",
            format!("/receipts/jasmin?token={}", token("jasmin")),
            "",
            400,
            &["id is missing"],
        ),
        post(
            "receipt_webhook_without_ids",
            format!("/receipts/webhook?token={}", token("webhook")),
            "{\"status\": \"delivered\"}",
            400,
            &["neither a reminder id nor a message id"],
        ),
        get("inbound_from_missing", inbound("text=STOP"), 400, &["from is missing"]),
        get(
            "inbound_text_missing",
            inbound("from=%2B6281200000001"),
            400,
            &["text is missing"],
        ),
        get(
            "inbound_wrong_token",
            "/inbound/kannel?from=%2B6281200000001&text=STOP&token=salah".into(),
            401,
            &["wrong token"],
        ),
        get(
            "inbound_unknown_gateway",
            "/inbound/entah?from=%2B6281200000001&text=STOP".into(),
            404,
            &["unknown gateway"],
        ),
        post(
            "inbound_webhook_malformed_json",
            format!("/inbound/webhook?token={}", token("webhook")),
            "{\"from\": ",
            400,
            &["malformed JSON"],
        ),
        post(
            "inbound_webhook_from_missing",
            format!("/inbound/webhook?token={}", token("webhook")),
            "{\"text\": \"STOP\"}",
            400,
            &["from is missing"],
        ),
    ]
}

/// The daemon's whole router, every receipt preset configured, the payments
/// API with its token, the clock at 15 July 2025 03:00 UTC.
async fn serve(db: &TestDb) -> TestApp {
    let (sms, secrets) = every_preset("");
    TestApp::builder(db)
        .clock(Arc::new(FixedClock::at(now())))
        .gateways(sms, Some(secrets))
        .payments_token(Some(PAYMENTS_TOKEN))
        .spawn()
        .await
}

async fn bad_requests_are_answered_and_record_nothing(db: &TestDb) {
    let ids = pending_reminders(db, 1).await;
    let sql = Sql::open(db).await;
    sql.mark_sent(ids[0], "kannel", None, now().timestamp() - 3600).await;
    sql.close().await;
    let app = serve(db).await;
    let (base, http) = (&app.base, &app.http);
    let requests = requests(ids[0]);
    let cases: Vec<Case> = requests
        .iter()
        .map(|r| Case {
            name: r.case.name,
            needles: Vec::new(),
        })
        .collect();
    assert_count(&cases, 30);
    let mut before = snapshot(db).await;
    let mut failures = Vec::new();
    for r in &requests {
        let url = format!("{base}{}", r.path);
        let mut request = match &r.body {
            None => http.get(&url),
            Some((content_type, body)) => http.post(&url).header("content-type", *content_type).body(body.clone()),
        };
        if let Some(bearer) = r.bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        if status != r.status {
            failures.push(format!(
                "case {:?}: status {status}, not {}: {text}",
                r.case.name, r.status
            ));
        }
        failures.extend(unnamed(&r.case, &text));
        if let Some(change) = changed(&r.case, db, &before).await {
            failures.push(change);
            before = snapshot(db).await;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    app.stop().await;
}
