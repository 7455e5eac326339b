//! Jasmin delivery receipts (Jasmin's HTTP API documentation and
//! its `DLRThrower`).
//!
//! Level 1 (SMS-C): `id`, `message_status` = `ESME_ROK`, `level` = 1,
//! `connector`. Level 2 or 3 (terminal): also `id_smsc`, `sub`, `dlvrd`,
//! `subdate`, `donedate` (YYMMDDhhmm), `err`, `text` (first 20 characters),
//! with `message_status` `DELIVRD` or `UNDELIV`. Level 3 sends both. Sent
//! with the message's `dlr-method`: GET appends `?` and the form to the URL
//! exactly as Jasmin does (so a `dlr-url` that already has a query breaks
//! here as it would with Jasmin), POST sends the form as the body.
//!
//! The receiver must answer 200 with a body of `ACK/Jasmin` (surrounding
//! whitespace ignored); otherwise the receipt is retried `max_retries` times
//! after `retry_delay`, except after a 404, as Jasmin does.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use tokio::sync::OwnedSemaphorePermit;

use crate::courier::Courier;
use crate::form::encode_pairs;

/// The acknowledgement Jasmin expects.
pub const ACK: &str = "ACK/Jasmin";

/// What a Jasmin receipt needs, captured at acceptance.
#[derive(Debug, Clone)]
pub struct JasminDlr {
    /// `dlr-url`.
    pub url: String,
    /// `dlr-method` is POST (else GET).
    pub post: bool,
    /// `dlr-level`: 1 SMS-C, 2 terminal, 3 both.
    pub level: u8,
    /// Jasmin's message id.
    pub id: String,
    /// The SMSC's message id.
    pub id_smsc: String,
    /// First 20 characters of the text.
    pub text: String,
    /// When it was accepted (`subdate`).
    pub submitted_at: DateTime<Utc>,
}

/// The forms sent for one message, in order.
pub fn receipt_forms(
    dlr: &JasminDlr,
    delivered: bool,
    connector: &str,
    now: DateTime<Utc>,
) -> Vec<Vec<(&'static str, String)>> {
    let mut forms = Vec::with_capacity(2);
    if dlr.level == 1 || dlr.level == 3 {
        forms.push(vec![
            ("id", dlr.id.clone()),
            ("message_status", "ESME_ROK".to_string()),
            ("level", "1".to_string()),
            ("connector", connector.to_string()),
        ]);
    }
    if dlr.level == 2 || dlr.level == 3 {
        forms.push(vec![
            ("id", dlr.id.clone()),
            (
                "message_status",
                if delivered { "DELIVRD" } else { "UNDELIV" }.to_string(),
            ),
            ("level", dlr.level.to_string()),
            ("connector", connector.to_string()),
            ("id_smsc", dlr.id_smsc.clone()),
            ("sub", "001".to_string()),
            ("dlvrd", if delivered { "001" } else { "000" }.to_string()),
            ("subdate", dlr.submitted_at.format("%y%m%d%H%M").to_string()),
            ("donedate", now.format("%y%m%d%H%M").to_string()),
            ("err", if delivered { "000" } else { "001" }.to_string()),
            ("text", dlr.text.clone()),
        ]);
    }
    forms
}

/// Sends the receipts of one message, with Jasmin's retries.
pub async fn send(courier: &Courier, dlr: &JasminDlr, delivered: bool, permit: OwnedSemaphorePermit) {
    let mut permit = Some(permit);
    for form in receipt_forms(dlr, delivered, &courier.config.smsc_id, courier.clock.now()) {
        permit = throw(courier, dlr, &form, permit).await;
    }
}

/// One receipt, retried until acknowledged; returns the permit if held.
async fn throw(
    courier: &Courier,
    dlr: &JasminDlr,
    form: &[(&'static str, String)],
    mut permit: Option<OwnedSemaphorePermit>,
) -> Option<OwnedSemaphorePermit> {
    let encoded = encode_pairs(form);
    for attempt in 0..=courier.config.jasmin_max_retries {
        if attempt > 0 {
            // Waiting for a retry must not hold a slot other receipts need.
            permit = None;
            tokio::time::sleep(courier.config.jasmin_retry_delay).await;
        }
        if permit.is_none() {
            permit = courier.permit().await;
        }
        let outcome = attempt_once(courier, dlr, &encoded).await;
        courier.count(outcome == Outcome::Acknowledged);
        match outcome {
            Outcome::Acknowledged | Outcome::NotFound => return permit,
            Outcome::Failed => {}
        }
    }
    permit
}

/// How one delivery attempt went.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// 200 with `ACK/Jasmin`.
    Acknowledged,
    /// 404: Jasmin does not retry.
    NotFound,
    /// Anything else: retried.
    Failed,
}

async fn attempt_once(courier: &Courier, dlr: &JasminDlr, encoded: &str) -> Outcome {
    let request = if dlr.post {
        courier.client.post(&dlr.url).body(encoded.to_string())
    } else {
        courier.client.get(format!("{}?{encoded}", dlr.url))
    };
    let request = request
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(reqwest::header::USER_AGENT, "Jasmin gateway/1.0 DLRThrower")
        .header(reqwest::header::ACCEPT, "text/plain");
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            tracing::debug!(error = ?e.without_url(), "Jasmin receipt not delivered");
            return Outcome::Failed;
        }
    };
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Outcome::NotFound;
    }
    match response.text().await {
        Ok(body) if status == StatusCode::OK && body.trim() == ACK => Outcome::Acknowledged,
        _ => Outcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn level_three_sends_the_smsc_then_the_terminal_receipt() {
        let dlr = JasminDlr {
            url: "http://d/dlr".into(),
            post: true,
            level: 3,
            id: "uuid".into(),
            id_smsc: "77".into(),
            text: "Iuran".into(),
            submitted_at: Utc.with_ymd_and_hms(2025, 7, 10, 8, 30, 0).unwrap(),
        };
        let now = Utc.with_ymd_and_hms(2025, 7, 10, 8, 32, 0).unwrap();
        let forms = receipt_forms(&dlr, false, "mock", now);
        assert_eq!(forms.len(), 2);
        assert_eq!(
            encode_pairs(&forms[0]),
            "id=uuid&message_status=ESME_ROK&level=1&connector=mock"
        );
        assert_eq!(
            encode_pairs(&forms[1]),
            "id=uuid&message_status=UNDELIV&level=3&connector=mock&id_smsc=77&sub=001&dlvrd=000\
             &subdate=2507100830&donedate=2507100832&err=001&text=Iuran"
        );
        let terminal_only = JasminDlr { level: 2, ..dlr };
        assert_eq!(receipt_forms(&terminal_only, true, "mock", now).len(), 1);
    }
}
