//! The reminder half of the storage contract, with hand-built occurrences.

use pengingat::domain::{Channel, Funding, ReminderStatus};
use pengingat::store::{GroupChange, NoProgress, Occurrence, PlanTiming, Replan, RuleOccurrences};

use crate::helpers::*;

both_backends!(
    reminders_are_created_once_per_key,
    skipped_occurrences_are_recorded_with_their_reason,
    filters_by_channel_contact_funding_and_opt_out,
    one_message_per_channel_per_day_most_urgent_wins,
    on_the_same_date_the_rule_written_later_wins,
    removed_rules_cancel_pending_reminders,
    a_replan_moves_cancels_and_releases_only_unsent_reminders,
    preview_counts_without_writing,
    status_history_is_kept,
);

fn occurrence(month: &str, send_date: i32, planned_at: i64) -> Occurrence {
    Occurrence {
        kelurahan_code: "18.72.01.1001".into(),
        contribution_month: crate::helpers::month(month).index(),
        occurrence_date: send_date,
        send_date,
        planned_at,
        expires_at: Some(planned_at + 86_400),
        skip_reason: None,
    }
}

fn rule(name: &str, offset: i32, channel: Channel, occurrences: Vec<Occurrence>) -> RuleOccurrences {
    RuleOccurrences {
        rule: name.into(),
        rule_offset: offset,
        channel,
        funding: None,
        occurrences,
        holdout: false,
    }
}

const DAY: i32 = 20_284; // 2025-07-15
const PLANNED: i64 = 1_752_544_800; // 2025-07-15T02:00:00Z, 09:00 WIB

async fn three_participants(db: &TestDb) {
    load_test_kelurahan(db).await;
    let rows = vec![
        participant(1, "2025-06"),
        participant(2, "2025-06"),
        participant(3, "2025-05"),
    ];
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
}

async fn reminders_are_created_once_per_key(db: &TestDb) {
    three_participants(db).await;
    let batch = rule("h0", 0, Channel::Sms, vec![occurrence("2025-07", DAY, PLANNED)]);
    let now = at("2025-07-15T01:00:00Z");
    let first = db.store.insert_reminders(&batch, now).await.unwrap();
    assert_eq!(first.created, 2, "participants 1 and 2 have July as first unpaid month");
    let again = db.store.insert_reminders(&batch, now).await.unwrap();
    assert_eq!(again.created, 0);
    let list = db.store.list_reminders(None, 10).await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(
        list.iter()
            .all(|r| r.status() == Some(ReminderStatus::Pending) && r.planned_at == PLANNED)
    );
}

async fn skipped_occurrences_are_recorded_with_their_reason(db: &TestDb) {
    three_participants(db).await;
    let mut occ = occurrence("2025-06", DAY - 30, PLANNED - 30 * 86_400);
    occ.skip_reason = Some("missed by 30 days; max_late_days is 3".into());
    let batch = rule("h+30", 30, Channel::Sms, vec![occ]);
    let counts = db
        .store
        .insert_reminders(&batch, at("2025-07-15T01:00:00Z"))
        .await
        .unwrap();
    assert_eq!((counts.created, counts.skipped), (0, 1));
    let list = db.store.list_reminders(None, 10).await.unwrap();
    assert_eq!(list[0].status(), Some(ReminderStatus::Skipped));
    assert_eq!(list[0].reason.as_deref(), Some("missed by 30 days; max_late_days is 3"));
}

async fn filters_by_channel_contact_funding_and_opt_out(db: &TestDb) {
    load_test_kelurahan(db).await;
    let mut email_only = participant(1, "2025-06");
    email_only.phone = None;
    email_only.email = Some(pengingat::domain::EmailAddress::parse("a@b.id").unwrap());
    email_only.preferred_channel = pengingat::domain::PreferredChannel::Email;
    let mut collective = participant(2, "2025-06");
    collective.funding = Funding::Collective;
    let mut opted_out = participant(3, "2025-06");
    opted_out.opted_out = true;
    let plain = participant(4, "2025-06");
    db.store
        .upsert_participants(
            &[email_only, collective, opted_out, plain],
            at("2025-07-01T00:00:00Z"),
            &NoProgress,
        )
        .await
        .unwrap();
    let now = at("2025-07-15T01:00:00Z");
    let sms = rule("h0", 0, Channel::Sms, vec![occurrence("2025-07", DAY, PLANNED)]);
    assert_eq!(
        db.store.insert_reminders(&sms, now).await.unwrap().created,
        2,
        "collective and plain"
    );
    let email = rule("h0", 0, Channel::Email, vec![occurrence("2025-07", DAY, PLANNED)]);
    assert_eq!(
        db.store.insert_reminders(&email, now).await.unwrap().created,
        1,
        "email only"
    );
    let mut self_only = rule(
        "h-1",
        -1,
        Channel::Sms,
        vec![occurrence("2025-07", DAY - 1, PLANNED - 86_400)],
    );
    self_only.funding = Some(vec!["self".into()]);
    assert_eq!(
        db.store.insert_reminders(&self_only, now).await.unwrap().created,
        1,
        "plain only"
    );
}

/// The schedules' rules in file order, as the scan hands them to the store.
fn order(rules: &[&str]) -> Vec<String> {
    rules.iter().map(|r| r.to_string()).collect()
}

async fn one_message_per_channel_per_day_most_urgent_wins(db: &TestDb) {
    three_participants(db).await;
    let now = at("2025-07-15T01:00:00Z");
    // Catch-up: h-1 (its day was yesterday) and h0 of July both go out today
    // for participants 1 and 2; h0's date is the later one. The rule order
    // only breaks ties of equal dates, so h-1 written last changes nothing.
    let mut late = occurrence("2025-07", DAY, PLANNED);
    late.occurrence_date = DAY - 1;
    let h_minus_1 = rule("h-1", -1, Channel::Sms, vec![late]);
    let h0 = rule("h0", 0, Channel::Sms, vec![occurrence("2025-07", DAY, PLANNED)]);
    db.store.insert_reminders(&h0, now).await.unwrap();
    db.store.insert_reminders(&h_minus_1, now).await.unwrap();
    let superseded = db
        .store
        .supersede_same_day(DAY - 1, &order(&["h0", "h-1"]), now)
        .await
        .unwrap();
    assert_eq!(superseded, 2);
    let list = db.store.list_reminders(None, 10).await.unwrap();
    for r in &list {
        let expected = if r.rule == "h0" {
            ReminderStatus::Pending
        } else {
            ReminderStatus::Superseded
        };
        assert_eq!(
            r.status(),
            Some(expected),
            "{} for participant {}",
            r.rule,
            r.participant_id
        );
    }
    // Running it again changes nothing.
    let rules = order(&["h0", "h-1"]);
    assert_eq!(db.store.supersede_same_day(DAY - 1, &rules, now).await.unwrap(), 0);
}

async fn on_the_same_date_the_rule_written_later_wins(db: &TestDb) {
    three_participants(db).await;
    let now = at("2025-07-15T01:00:00Z");
    for (name, offset) in [("a", 30), ("b", -3)] {
        let batch = rule(name, offset, Channel::Sms, vec![occurrence("2025-07", DAY, PLANNED)]);
        db.store.insert_reminders(&batch, now).await.unwrap();
    }
    // b is written after a: b keeps the day, whatever the offsets say.
    let rules = order(&["a", "b"]);
    assert_eq!(db.store.supersede_same_day(DAY - 1, &rules, now).await.unwrap(), 2);
    let list = db.store.list_reminders(None, 10).await.unwrap();
    for r in &list {
        let expected = if r.rule == "b" {
            ReminderStatus::Pending
        } else {
            ReminderStatus::Superseded
        };
        assert_eq!(r.status(), Some(expected), "{}", r.rule);
    }
}

async fn removed_rules_cancel_pending_reminders(db: &TestDb) {
    three_participants(db).await;
    let now = at("2025-07-15T01:00:00Z");
    db.store
        .insert_reminders(
            &rule("h0", 0, Channel::Sms, vec![occurrence("2025-07", DAY, PLANNED)]),
            now,
        )
        .await
        .unwrap();
    db.store
        .insert_reminders(
            &rule("old", 2, Channel::Sms, vec![occurrence("2025-07", DAY, PLANNED)]),
            now,
        )
        .await
        .unwrap();
    let cancelled = db.store.cancel_removed_rules(&["h0".to_string()], now).await.unwrap();
    assert_eq!(cancelled, 2);
    let list = db.store.list_reminders(None, 10).await.unwrap();
    let old: Vec<_> = list.iter().filter(|r| r.rule == "old").collect();
    assert!(old.iter().all(|r| r.status() == Some(ReminderStatus::Cancelled)
        && r.reason.as_deref() == Some("rule old was removed from the schedules")));
}

async fn a_replan_moves_cancels_and_releases_only_unsent_reminders(db: &TestDb) {
    three_participants(db).await;
    let now = at("2025-07-15T01:00:00Z");
    let h0 = rule("h0", 0, Channel::Sms, vec![occurrence("2025-07", DAY, PLANNED)]);
    db.store.insert_reminders(&h0, now).await.unwrap();
    // Participant 1's reminder is claimed by a dispatcher; participant 2's waits.
    let claimed = db
        .store
        .claim_due(at("2025-07-15T02:00:00Z"), Channel::Sms, 1, "w1")
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let groups = db
        .store
        .unsent_reminder_groups(&["h0".to_string()], DAY - 40)
        .await
        .unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let group = groups[0].clone();
    assert_eq!((group.status.as_str(), group.planned_at), ("pending", PLANNED));

    let later = PlanTiming {
        occurrence_date: DAY,
        send_date: DAY,
        planned_at: PLANNED + 6 * 3600,
        expires_at: Some(PLANNED + 16 * 3600),
    };
    let moved = Replan {
        groups: vec![(
            group.clone(),
            GroupChange::Move {
                to: later,
                note: "planned again".into(),
            },
        )],
        funding: Vec::new(),
    };
    let counts = db.store.apply_replan(&moved, now).await.unwrap();
    assert_eq!((counts.moved, counts.cancelled, counts.released), (1, 0, 0));
    let list = db.store.list_reminders(None, 10).await.unwrap();
    let waiting: Vec<_> = list
        .iter()
        .filter(|r| r.status() == Some(ReminderStatus::Pending))
        .collect();
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (waiting[0].planned_at, waiting[0].expires_at),
        (later.planned_at, later.expires_at)
    );
    assert!(
        list.iter()
            .any(|r| r.status() == Some(ReminderStatus::Sending) && r.planned_at == PLANNED),
        "the claimed one is left alone"
    );
    // Applying the same change again finds nothing with the old plan.
    assert_eq!(db.store.apply_replan(&moved, now).await.unwrap().moved, 0);

    // Cancelled: the reminder gives up its key, so it can be planned anew.
    let mut now_group = group.clone();
    (now_group.planned_at, now_group.expires_at) = (later.planned_at, later.expires_at);
    let cancel = Replan {
        groups: vec![(
            now_group,
            GroupChange::Cancel {
                reason: "rule h0 was disabled".into(),
            },
        )],
        funding: Vec::new(),
    };
    assert_eq!(db.store.apply_replan(&cancel, now).await.unwrap().cancelled, 1);
    let list = db.store.list_reminders(None, 10).await.unwrap();
    assert!(
        list.iter()
            .any(|r| r.status() == Some(ReminderStatus::Cancelled)
                && r.reason.as_deref() == Some("rule h0 was disabled"))
    );
    assert_eq!(db.store.insert_reminders(&h0, now).await.unwrap().created, 1);

    // A skipped reminder whose day moved is released the same way.
    let mut skipped = occurrence("2025-06", DAY - 30, PLANNED - 30 * 86_400);
    skipped.skip_reason = Some("missed".into());
    let old = rule("h+30", 30, Channel::Sms, vec![skipped.clone()]);
    assert_eq!(db.store.insert_reminders(&old, now).await.unwrap().skipped, 1);
    let groups = db
        .store
        .unsent_reminder_groups(&["h+30".to_string()], DAY - 40)
        .await
        .unwrap();
    assert_eq!(groups.len(), 1);
    let release = Replan {
        groups: vec![(groups[0].clone(), GroupChange::Release)],
        funding: Vec::new(),
    };
    assert_eq!(db.store.apply_replan(&release, now).await.unwrap().released, 1);
    assert_eq!(db.store.insert_reminders(&old, now).await.unwrap().skipped, 1);
}

async fn preview_counts_without_writing(db: &TestDb) {
    three_participants(db).await;
    let batch = rule(
        "h0",
        0,
        Channel::Sms,
        vec![occurrence("2025-07", DAY, PLANNED), occurrence("2025-06", DAY, PLANNED)],
    );
    let counts = db.store.preview_reminders(&batch).await.unwrap();
    let got: Vec<(String, i32, i64)> = counts
        .iter()
        .map(|c| (c.kelurahan_code.clone(), c.contribution_month, c.participants))
        .collect();
    assert_eq!(
        got,
        vec![
            ("18.72.01.1001".into(), month("2025-06").index(), 1),
            ("18.72.01.1001".into(), month("2025-07").index(), 2)
        ]
    );
    let sample = db.store.preview_participants(&batch, 1).await.unwrap();
    assert_eq!(sample.len(), 1);
    assert!(db.store.list_reminders(None, 10).await.unwrap().is_empty());
}

async fn status_history_is_kept(db: &TestDb) {
    three_participants(db).await;
    let now = at("2025-07-15T01:00:00Z");
    db.store
        .insert_reminders(
            &rule("h0", 0, Channel::Sms, vec![occurrence("2025-07", DAY, PLANNED)]),
            now,
        )
        .await
        .unwrap();
    db.store.cancel_removed_rules(&[], now).await.unwrap();
    let counts = db.store.reminder_counts().await.unwrap();
    assert_eq!(counts, vec![("h0".to_string(), "cancelled".to_string(), 2)]);
}
