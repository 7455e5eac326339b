//! Infobip delivery reports (Infobip's SMS API reference):
//! `POST webhooks.delivery.url` with `{"results": […]}`,
//! up to 100 reports per request, an optional intermediate
//! `DELIVERED_TO_OPERATOR` report first, then the final one.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::courier::Courier;

/// What an Infobip report needs, captured at acceptance.
#[derive(Debug, Clone)]
pub struct InfobipReport {
    /// `webhooks.delivery.url`.
    pub url: String,
    /// The request's bulk id.
    pub bulk_id: String,
    /// The message id.
    pub message_id: String,
    /// The recipient.
    pub to: String,
    /// The sender id.
    pub sender: String,
    /// `webhooks.callbackData`.
    pub callback_data: Option<String>,
    /// Whether an intermediate report is wanted first.
    pub intermediate: bool,
    /// Segments the text took.
    pub message_count: u32,
    /// When it was accepted.
    pub sent_at: DateTime<Utc>,
}

/// Infobip's `yyyy-MM-dd'T'HH:mm:ss.SSSZ` (`+0000`).
fn infobip_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true).replace('Z', "+0000")
}

/// One entry of `results`.
pub fn report_json(report: &InfobipReport, delivered: bool, final_report: bool, now: DateTime<Utc>) -> Value {
    let (status, error) = if !final_report {
        (
            json!({"groupId": 3, "groupName": "DELIVERED", "id": 2, "name": "DELIVERED_TO_OPERATOR",
                   "description": "Message delivered to operator"}),
            json!({"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR",
                   "description": "No Error", "permanent": false}),
        )
    } else if delivered {
        (
            json!({"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET",
                   "description": "Message delivered to handset"}),
            json!({"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR",
                   "description": "No Error", "permanent": false}),
        )
    } else {
        (
            json!({"groupId": 2, "groupName": "UNDELIVERABLE", "id": 9, "name": "UNDELIVERABLE_NOT_DELIVERED",
                   "description": "Message sent not delivered"}),
            json!({"groupId": 1, "groupName": "HANDSET_ERRORS", "id": 27, "name": "EC_ABSENT_SUBSCRIBER",
                   "description": "Absent Subscriber", "permanent": false}),
        )
    };
    let mut result = json!({
        "bulkId": report.bulk_id,
        "messageId": report.message_id,
        "to": report.to,
        "sender": report.sender,
        "sentAt": infobip_time(report.sent_at),
        "doneAt": infobip_time(now),
        "messageCount": report.message_count,
        "mccMnc": "51010",
        "price": {"pricePerMessage": 0, "currency": "IDR"},
        "status": status,
        "error": error,
    });
    if let Some(data) = &report.callback_data {
        result["callbackData"] = json!(data);
    }
    result
}

/// Sends the reports of one batch (all for `url`): the intermediate ones
/// first, if any asked for them, then the final ones.
pub async fn send_reports(courier: &Courier, url: &str, batch: &[(InfobipReport, bool)]) {
    let now = courier.clock.now();
    let intermediate: Vec<Value> = batch
        .iter()
        .filter(|(report, _)| report.intermediate)
        .map(|(report, delivered)| report_json(report, *delivered, false, now))
        .collect();
    let finals: Vec<Value> = batch
        .iter()
        .map(|(report, delivered)| report_json(report, *delivered, true, now))
        .collect();
    for results in [intermediate, finals] {
        if results.is_empty() {
            continue;
        }
        let sent = courier.client.post(url).json(&json!({"results": results})).send().await;
        let ok = match sent {
            Ok(response) => response.status().is_success(),
            Err(e) => {
                tracing::debug!(error = ?e.without_url(), "Infobip delivery report not delivered");
                false
            }
        };
        courier.count(ok);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn timestamps_use_infobips_format() {
        let at = Utc.with_ymd_and_hms(2025, 7, 10, 8, 30, 5).unwrap();
        assert_eq!(infobip_time(at), "2025-07-10T08:30:05.000+0000");
    }
}
