//! A reminder sent again, as a restarted daemon re-sends what it could not
//! record before a crash (a new pool on the same database): counted at the
//! mock gateway, it reaches the phone once where the gateway de-duplicates by
//! our key (Infobip's `messageId`, the webhook's `Idempotency-Key`) and
//! twice where it cannot (Twilio, Jasmin, Kannel).

use pengingat::channels::{DeploymentId, SmsAccepted};
use pengingat::config::delivery::Preset;

use super::*;

/// What the gateway saw of reminder 42 sent once from each of `deployments`
/// (a fresh pool each time).
struct Resent {
    /// Every send's acceptance, in order.
    accepted: Vec<SmsAccepted>,
    /// Messages the gateway delivered (recorded).
    delivered: Vec<RecordedMessage>,
    /// Sends it answered as duplicates.
    suppressed: u64,
}

async fn send_42_from(preset: Preset, deployments: &[&str], configure: impl Fn(&mut GatewaySettings)) -> Resent {
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let mut accepted = Vec::new();
    for deployment in deployments {
        let mut settings = gateway("gw-1", preset, &mock.base, &secrets);
        configure(&mut settings);
        let pool = pool(vec![settings]).for_deployment(DeploymentId::parse(deployment).unwrap());
        accepted.push(pool.send(&sms(42, GSM_TEXT)).await.unwrap());
    }
    let delivered = mock.messages().await;
    let suppressed = mock.stats().await["duplicates_suppressed"].as_u64().unwrap();
    mock.stop().await;
    Resent {
        accepted,
        delivered,
        suppressed,
    }
}

async fn resend(preset: Preset) -> Resent {
    send_42_from(preset, &[DEPLOYMENT, DEPLOYMENT], |_| {}).await
}

#[tokio::test]
async fn infobip_delivers_a_resent_reminder_once() {
    let resent = resend(Preset::Infobip).await;
    assert_eq!(resent.delivered.len(), 1, "{:?}", resent.delivered);
    assert_eq!(resent.suppressed, 1);
    let key = format!("pengingat-{DEPLOYMENT}-42");
    assert_eq!(resent.delivered[0].message_id, key);
    for accepted in &resent.accepted {
        assert_eq!(
            accepted.message_id.as_deref(),
            Some(key.as_str()),
            "the same answer both times"
        );
    }
}

#[tokio::test]
async fn a_webhook_delivers_a_resent_reminder_once() {
    let resent = resend(Preset::Webhook).await;
    assert_eq!(resent.delivered.len(), 1, "{:?}", resent.delivered);
    assert_eq!(resent.suppressed, 1);
    let first = resent.accepted[0].message_id.clone().unwrap();
    assert_eq!(
        resent.accepted[1].message_id.as_deref(),
        Some(first.as_str()),
        "the same answer both times"
    );
    assert_eq!(resent.delivered[0].message_id, first);
}

#[tokio::test]
async fn twilio_jasmin_and_kannel_deliver_a_resent_reminder_twice() {
    for preset in [Preset::Twilio, Preset::Jasmin, Preset::Kannel] {
        let resent = resend(preset).await;
        assert_eq!(resent.delivered.len(), 2, "{preset:?} has no idempotency key");
        assert_eq!(resent.suppressed, 0, "{preset:?}");
    }
}

#[tokio::test]
async fn a_webhook_without_the_header_delivers_twice() {
    let resent = send_42_from(Preset::Webhook, &[DEPLOYMENT, DEPLOYMENT], |g| {
        g.webhook.as_mut().unwrap().idempotency_header = String::new();
    })
    .await;
    assert_eq!(resent.delivered.len(), 2);
    assert_eq!(resent.suppressed, 0);
}

#[tokio::test]
async fn the_same_reminder_id_of_two_databases_is_two_messages() {
    for preset in [Preset::Infobip, Preset::Webhook] {
        let resent = send_42_from(preset, &[DEPLOYMENT, "99887766554433aa"], |_| {}).await;
        assert_eq!(
            resent.delivered.len(),
            2,
            "{preset:?}: another database's reminder 42 is not a duplicate"
        );
        assert_eq!(resent.suppressed, 0);
    }
}

#[tokio::test]
async fn a_custom_header_name_carries_the_key() {
    // The mock reads `Idempotency-Key` only: under another name it cannot
    // de-duplicate, which shows the configured name is the one sent.
    let resent = send_42_from(Preset::Webhook, &[DEPLOYMENT, DEPLOYMENT], |g| {
        g.webhook.as_mut().unwrap().idempotency_header = "X-Request-Id".into();
    })
    .await;
    assert_eq!(resent.delivered.len(), 2);
}
