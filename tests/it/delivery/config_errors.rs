//! What the dispatcher records for a text longer than every gateway sends:
//! the reminder fails at once, unsent, with the reason, and is not retried.

use std::sync::Arc;

use pengingat::clock::FixedClock;
use pengingat::config::delivery::Preset;
use pengingat::domain::ReminderStatus;
use pengingat::schedule::Schedules;

use super::{SCHEDULES, SEND_AT, dispatcher, due_reminders, reminders};
use crate::channels::{Secrets, gateway, mock_config};
use crate::helpers::*;
use crate::mock_gateway::Gateway;

both_backends!(a_reminder_longer_than_every_gateway_sends_fails_unsent_with_the_reason);

async fn a_reminder_longer_than_every_gateway_sends_fails_unsent_with_the_reason(db: &TestDb) {
    due_reminders(db, 2).await;
    let mock = Gateway::start(mock_config()).await;
    let secrets = Secrets::new();
    let clock = FixedClock::at(at(SEND_AT));
    let mut kannel = gateway("kannel", Preset::Kannel, &mock.base, &secrets);
    kannel.max_segments = Some(1);
    let mut d = dispatcher(db, vec![kannel], &clock, "w1");
    let long = SCHEDULES.replace(
        "jatuh tempo hari ini {due_date}.",
        "jatuh tempo hari ini {due_date}. Bayar lewat aplikasi JMO, kantor pos, atau agen Perisai di kelurahan Anda.",
    );
    let (_, schedules) = tokio::sync::watch::channel(Arc::new(
        Schedules::parse(&long, std::path::Path::new("."), "test-schedules.toml").unwrap(),
    ));
    d.schedules = schedules;
    let report = d.dispatch_once().await.unwrap();
    assert_eq!((report.claimed, report.sent, report.failed), (2, 0, 2));
    assert!(mock.messages().await.is_empty(), "nothing was sent");
    for r in reminders(db).await {
        assert_eq!(r.status(), Some(ReminderStatus::Failed));
        let reason = r.reason.unwrap_or_default();
        assert!(
            reason.contains("2 segments") && reason.contains("max_segments: kannel 1"),
            "{reason}"
        );
        assert_eq!(r.attempts, 1);
    }
    mock.stop().await;
}
