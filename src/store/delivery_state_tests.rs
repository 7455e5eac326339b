//! Unit tests of the receipt transition rule in `delivery_state.rs`.

use super::*;
use ReminderStatus as S;

#[test]
fn final_receipts_settle_sent_and_sending_reminders() {
    for current in [S::Sent, S::Sending] {
        assert_eq!(
            decide(current, 1, ReceiptState::Delivered),
            Decision::Change {
                to: S::Delivered,
                reason: None
            }
        );
        assert_eq!(
            decide(current, 1, ReceiptState::Undelivered),
            Decision::Change {
                to: S::Undelivered,
                reason: Some(UNDELIVERED_REASON)
            }
        );
        assert_eq!(
            decide(current, 1, ReceiptState::Expired),
            Decision::Change {
                to: S::Undelivered,
                reason: Some(EXPIRED_REASON)
            }
        );
    }
}

#[test]
fn intermediate_receipts_change_nothing() {
    for state in [
        ReceiptState::Accepted,
        ReceiptState::Sent,
        ReceiptState::Buffered,
        ReceiptState::Unknown,
    ] {
        assert_eq!(decide(S::Sent, 1, state), Decision::Note);
        assert_eq!(
            decide(S::Delivered, 1, state),
            Decision::Ignore(IgnoredBecause::Final(S::Delivered)),
            "a late {state} never downgrades delivered"
        );
    }
}

#[test]
fn a_final_status_is_never_changed() {
    for current in [S::Delivered, S::Undelivered, S::Unknown, S::Failed, S::Cancelled] {
        for state in [
            ReceiptState::Delivered,
            ReceiptState::Undelivered,
            ReceiptState::Expired,
        ] {
            assert_eq!(
                decide(current, 1, state),
                Decision::Ignore(IgnoredBecause::Final(current))
            );
        }
    }
}

#[test]
fn pending_reminders_take_only_a_delivery_of_an_earlier_attempt() {
    assert_eq!(
        decide(S::Pending, 1, ReceiptState::Delivered),
        Decision::Change {
            to: S::Delivered,
            reason: None
        }
    );
    assert_eq!(
        decide(S::Pending, 0, ReceiptState::Delivered),
        Decision::Ignore(IgnoredBecause::NotSent(S::Pending))
    );
    assert_eq!(
        decide(S::Pending, 2, ReceiptState::Undelivered),
        Decision::Ignore(IgnoredBecause::NotSent(S::Pending))
    );
}

#[test]
fn only_a_move_out_of_a_creditable_status_withdraws_credit() {
    let t = |from: &str, to| Transition {
        from: from.into(),
        to,
        reason: None,
    };
    assert!(t("sent", S::Undelivered).withdraws_credit());
    assert!(t("delivered", S::Failed).withdraws_credit());
    assert!(!t("sending", S::Undelivered).withdraws_credit(), "never credited");
    assert!(!t("sent", S::Delivered).withdraws_credit());
    assert_eq!(
        t("sent", S::Undelivered).credit_reason(12),
        "reminder 12 became undelivered after a payment was credited to it (delivery receipt)"
    );
}

#[test]
fn states_round_trip_and_gateways_match() {
    for s in [
        "accepted",
        "sent",
        "buffered",
        "delivered",
        "undelivered",
        "expired",
        "unknown",
    ] {
        assert_eq!(s.parse::<ReceiptState>().unwrap().as_str(), s);
    }
    assert!("DELIVERED".parse::<ReceiptState>().is_err());
    assert!(gateway_matches(None, "kannel"));
    assert!(gateway_matches(Some("kannel"), "kannel"));
    assert!(!gateway_matches(Some("jasmin"), "kannel"));
    assert_eq!(timeout_reason(72), "no final delivery receipt within 72 hours");
    // The contact-verification list reads these reasons as stored.
    use crate::domain::contact_check::sms_failure_is_number_related;
    let undelivered = Transition {
        from: "sent".into(),
        to: ReminderStatus::Undelivered,
        reason: Some(UNDELIVERED_REASON.into()),
    }
    .with_detail(Some("stat:UNDELIV err:001"));
    assert!(sms_failure_is_number_related(
        "undelivered",
        undelivered.reason.as_deref()
    ));
    assert!(!sms_failure_is_number_related("undelivered", Some(EXPIRED_REASON)));
    assert!(!sms_failure_is_number_related("unknown", Some(&timeout_reason(72))));
}
