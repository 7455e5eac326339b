//! The mock gateway sends real receipts, in every preset's format, to the
//! receipt routes: each reminder is claimed, sent through the mock with the
//! callback URLs the dispatcher uses, recorded sent with the id the mock
//! answered, and settled by the receipts, whether they came before the
//! send's record or after.

use std::sync::Arc;
use std::time::Duration;

use mock_sms_gateway::{KannelFailure, MockGatewayConfig, ReceiptConfig, kannel_failure_of};
use pengingat::channels::sms::providers::normalise_provider_id;
use pengingat::clock::FixedClock;
use pengingat::config::delivery::Preset;
use serde_json::{Value, json};

use super::{Receiver, Sql, TWILIO_TOKEN, now, pending_reminders, token};
use crate::helpers::*;
use crate::mock_gateway::{Gateway, MockClock};

both_backends!(mock_gateway_receipts_settle_reminders_on_every_preset);

/// A running mock gateway.
struct Mock(Gateway);

impl Mock {
    /// Receipts at once; every message delivered, or none.
    async fn start(delivered: bool) -> Self {
        let mut config = MockGatewayConfig {
            receipts: ReceiptConfig {
                delay: Duration::ZERO,
                delivered_ratio: if delivered { 1.0 } else { 0.0 },
                jasmin_retry_delay: Duration::from_millis(5),
                ..ReceiptConfig::default()
            },
            clock: Arc::new(MockClock(FixedClock::at(now()))),
            ..MockGatewayConfig::default()
        };
        config.credentials.twilio_auth_token = TWILIO_TOKEN.into();
        Self(Gateway::start(config).await)
    }

    /// Sends reminder `id` the way `preset` is spoken to; the message id
    /// the gateway answered, normalised, if it gives one.
    async fn send(&self, preset: Preset, id: i64, receiver: &Receiver) -> Option<String> {
        let (to, text) = (TO, TEXT);
        let answered = match preset {
            Preset::Kannel => {
                let dlr_url = receiver.url(&format!(
                    "/receipts/kannel?id={id}&status=%d&answer=%A&smsc=%i&fid=%F&ts=%T&token={}",
                    token("kannel")
                ));
                let mut url = reqwest::Url::parse(&format!("{}/cgi-bin/sendsms", self.0.base)).unwrap();
                url.query_pairs_mut()
                    .append_pair("username", "kannel")
                    .append_pair("password", "kannel")
                    .append_pair("to", to)
                    .append_pair("text", text)
                    .append_pair("dlr-mask", "27")
                    .append_pair("dlr-url", &dlr_url);
                let response = self.0.http.get(url).send().await.unwrap();
                assert_eq!(response.status(), 202);
                return None;
            }
            Preset::Jasmin => {
                let dlr_url = receiver.url(&format!("/receipts/jasmin?token={}", token("jasmin")));
                let form = [
                    ("username", "jasmin"),
                    ("password", "jasmin"),
                    ("to", to),
                    ("content", text),
                    ("dlr", "yes"),
                    ("dlr-url", dlr_url.as_str()),
                    ("dlr-level", "3"),
                    ("dlr-method", "POST"),
                ];
                let body = self.post_form("/send", &form).await;
                body.trim()
                    .strip_prefix("Success \"")
                    .unwrap()
                    .trim_end_matches('"')
                    .to_string()
            }
            Preset::Twilio => {
                let sid = "AC00000000000000000000000000000000";
                let callback = receiver.url("/receipts/twilio");
                let form = [
                    ("To", to),
                    ("From", "PENGINGAT"),
                    ("Body", text),
                    ("StatusCallback", &callback),
                ];
                let url = format!("{}/2010-04-01/Accounts/{sid}/Messages.json", self.0.base);
                let response = self
                    .0
                    .http
                    .post(url)
                    .basic_auth(sid, Some(TWILIO_TOKEN))
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                let resource: Value = response.json().await.unwrap();
                resource["sid"].as_str().unwrap().to_string()
            }
            Preset::Infobip => {
                let body = json!({"messages": [{
                    "sender": "PENGINGAT",
                    "destinations": [{"to": "6281200000001", "messageId": format!("pengingat-{id}")}],
                    "content": {"text": text},
                    "webhooks": {
                        "delivery": {"url": receiver.url(&format!("/receipts/infobip?token={}", token("infobip"))),
                                     "intermediateReport": true, "notify": true},
                        "contentType": "application/json",
                        "callbackData": id.to_string(),
                    },
                }]});
                let reply = self
                    .post_json("/sms/3/messages", &body, Some("App mock-infobip-key"))
                    .await;
                reply["messages"][0]["messageId"].as_str().unwrap().to_string()
            }
            Preset::Webhook => {
                let callback = receiver.url(&format!("/receipts/webhook?token={}", token("webhook")));
                let body = json!({"to": to, "text": text, "id": id.to_string(), "callback_url": callback});
                let reply = self.post_json("/webhook/send", &body, None).await;
                reply["message_id"].as_str().unwrap().to_string()
            }
        };
        normalise_provider_id(preset, &answered)
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> String {
        let response = self
            .0
            .http
            .post(format!("{}{path}", self.0.base))
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    async fn post_json(&self, path: &str, body: &Value, authorization: Option<&str>) -> Value {
        let mut request = self.0.http.post(format!("{}{path}", self.0.base)).json(body);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// `GET /stats` once `n` callbacks have been answered.
    async fn stats_after(&self, n: u64) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let response = self.0.http.get(format!("{}/stats", self.0.base)).send().await.unwrap();
            let stats: Value = response.json().await.unwrap();
            let answered = stats["callbacks_sent"].as_u64().unwrap() + stats["callbacks_failed"].as_u64().unwrap();
            if answered >= n || tokio::time::Instant::now() > deadline {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn stop(self) {
        self.0.stop().await;
    }
}

/// The recipient and text of every message.
const TO: &str = "+6281200000001";
const TEXT: &str = "Iuran BPJS Ketenagakerjaan Anda jatuh tempo 15/07/2025.";

/// Receipts per message: Kannel sends none after the SMSC's refusal (16).
fn receipts_of(preset: Preset, per_message: usize, delivered: bool) -> usize {
    let refused = kannel_failure_of(TO, TEXT) == KannelFailure::Rejected;
    if preset == Preset::Kannel && !delivered && refused {
        1
    } else {
        per_message
    }
}

const PRESETS: [(Preset, &str, usize); 5] = [
    // preset, gateway name, receipts per message
    (Preset::Kannel, "kannel", 2),
    (Preset::Jasmin, "jasmin", 2),
    (Preset::Twilio, "twilio", 2),
    (Preset::Infobip, "infobip", 2),
    (Preset::Webhook, "webhook", 1),
];

async fn mock_gateway_receipts_settle_reminders_on_every_preset(db: &TestDb) {
    let ids = pending_reminders(db, 10).await;
    let sql = Sql::open(db).await;
    let receiver = Receiver::start(db).await;
    let mut ids = ids.into_iter();
    for delivered in [true, false] {
        let mock = Mock::start(delivered).await;
        for (preset, gateway, receipts) in PRESETS {
            let id = ids.next().unwrap();
            // The dispatcher: claim, send, record the send, match early receipts.
            sql.mark_sending(id).await;
            let pid = mock.send(preset, id, &receiver).await;
            sql.record_sent(id, gateway, pid.as_deref(), now().timestamp()).await;
            db.store.apply_waiting_receipts(id, now()).await.unwrap();

            let settled = sql.wait_final(id).await;
            let expected = if delivered { "delivered" } else { "undelivered" };
            assert_eq!(settled.status, expected, "{gateway}");
            assert_eq!(
                (settled.gateway.as_deref(), settled.provider_message_id),
                (Some(gateway), pid)
            );
            assert_eq!(settled.sent_at, Some(now().timestamp()), "{gateway}");
            let kept: Vec<_> = sql
                .receipts()
                .await
                .into_iter()
                .filter(|r| r.reminder_id == Some(id))
                .collect();
            assert_eq!(
                kept.len(),
                receipts_of(preset, receipts, delivered),
                "{gateway}: every receipt kept and matched: {kept:?}"
            );
            assert_eq!(kept.last().unwrap().outcome, "applied", "{gateway}");
        }
        let callbacks: usize = PRESETS.iter().map(|(p, _, n)| receipts_of(*p, *n, delivered)).sum();
        let stats = mock.stats_after(callbacks as u64).await;
        assert_eq!(stats["callbacks_failed"], 0, "every callback acknowledged: {stats}");
        assert_eq!(stats["callbacks_sent"], callbacks, "{stats}");
        mock.stop().await;
    }
    receiver.stop().await;
    sql.close().await;
}
