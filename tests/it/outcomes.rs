//! The outcome report on a hand-built population, against figures worked out
//! by hand: standing (active ratio, arrears), reminders per channel and rule,
//! conversion rate and median days to pay; a period, an earlier standing
//! date, and a period without data.
//!
//! Standing at 20 July 2025 (due on the 15th; non-active from 3 months):
//!
//! | who | kelurahan | paid through | arrears | |
//! |---|---|---|---|---|
//! | P1 | Metro | Jul | 0 | active |
//! | P2 | Metro | Jun → Jul (pays 19 Jul, 5 days after h-1) | 0 | active |
//! | P3 | Metro | May → Jul (pays 2 months 13 Jul, 3 days after h+7) | 0 | active |
//! | P4 | Metro | Apr | 3 | non-active (h+7 undelivered) |
//! | P5 | Yosomulyo | Aug | 0 | active |
//! | P6 | Yosomulyo | Jan | 6 | non-active (h+7 failed) |

use pengingat::config::Settings;
use pengingat::domain::{Channel, KelurahanCode};
use pengingat::report::outcomes::{self, OutcomeReport, ReportQuery};
use pengingat::store::{
    AttemptOutcome, NewReceipt, NoProgress, Occurrence, PaymentBatch, PaymentSource, ReceiptState, RuleOccurrences,
};

use crate::helpers::*;

both_backends!(
    report_matches_hand_computed_figures,
    report_of_an_earlier_date_rebuilds_standing,
    email_is_accepted_by_the_relay_never_undelivered_and_never_mixed_with_sms
);

const METRO: &str = "18.72.01.1001";
const YOSOMULYO: &str = "18.72.01.1005";

fn occurrence(code: &str, month_text: &str, planned: &str) -> Occurrence {
    let planned_at = at(planned).timestamp();
    Occurrence {
        kelurahan_code: code.into(),
        contribution_month: month(month_text).index(),
        occurrence_date: (planned_at / 86_400) as i32,
        send_date: (planned_at / 86_400) as i32,
        planned_at,
        expires_at: Some(planned_at + 10 * 3600),
        skip_reason: None,
    }
}

fn rule(name: &str, offset: i32, occurrences: Vec<Occurrence>) -> RuleOccurrences {
    RuleOccurrences {
        rule: name.into(),
        rule_offset: offset,
        channel: Channel::Sms,
        funding: None,
        occurrences,
        holdout: false,
    }
}

/// A gateway's acceptance of an SMS.
pub fn sent() -> AttemptOutcome {
    AttemptOutcome::Sent {
        gateway: "kannel".into(),
        provider_message_id: None,
        encoding: Some("gsm7".into()),
        segments: Some(1),
    }
}

/// Sends every reminder due at `instant` with the outcome `decide` gives its participant's serial.
async fn send_due(db: &TestDb, instant: &str, decide: impl Fn(i64) -> AttemptOutcome) -> Vec<(i64, i64)> {
    let claimed = db.store.claim_due(at(instant), Channel::Sms, 100, "w").await.unwrap();
    let ids: Vec<(i64, i64)> = claimed.iter().map(|c| (c.id, c.participant_id)).collect();
    let outcomes: Vec<_> = ids.iter().map(|(id, p)| (*id, decide(*p))).collect();
    db.store.finish_attempts("w", &outcomes, at(instant)).await.unwrap();
    ids
}

async fn receipt(db: &TestDb, reminder_id: i64, state: ReceiptState, when: &str) {
    let r = NewReceipt {
        reminder_id: Some(reminder_id),
        provider_message_id: None,
        state,
        detail: None,
        raw: "uji",
    };
    db.store.record_receipt("kannel", &r, at(when)).await.unwrap();
}

/// Builds the population and its history; returns nothing, the figures are in the module docs.
pub async fn population(db: &TestDb) {
    load_test_kelurahan(db).await;
    let mut rows = vec![
        participant(1, "2025-07"),
        participant(2, "2025-06"),
        participant(3, "2025-05"),
        participant(4, "2025-04"),
        participant(5, "2025-08"),
        participant(6, "2025-01"),
    ];
    for p in &mut rows[4..] {
        p.kelurahan = KelurahanCode::parse(YOSOMULYO).unwrap();
    }
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let created = at("2025-07-09T00:00:00Z");
    let h7 = rule(
        "h+7",
        7,
        vec![
            occurrence(METRO, "2025-06", "2025-07-10T02:00:00Z"),
            occurrence(METRO, "2025-05", "2025-07-10T02:00:00Z"),
            occurrence(YOSOMULYO, "2025-02", "2025-07-10T02:00:00Z"),
        ],
    );
    let h1 = rule("h-1", -1, vec![occurrence(METRO, "2025-07", "2025-07-14T02:00:00Z")]);
    assert_eq!(db.store.insert_reminders(&h7, created).await.unwrap().created, 3);
    assert_eq!(db.store.insert_reminders(&h1, created).await.unwrap().created, 1);

    let serial = |p: i64| p; // participant ids follow insertion order: 1..=6
    let first = send_due(db, "2025-07-10T02:00:00Z", |p| match serial(p) {
        6 => AttemptOutcome::Failed {
            reason: "nomor ditolak".into(),
        },
        _ => sent(),
    })
    .await;
    assert_eq!(first.len(), 3);
    let id_of = |list: &[(i64, i64)], p: i64| list.iter().find(|(_, q)| *q == p).unwrap().0;
    receipt(db, id_of(&first, 3), ReceiptState::Delivered, "2025-07-10T02:01:00Z").await;
    receipt(db, id_of(&first, 4), ReceiptState::Undelivered, "2025-07-10T02:01:00Z").await;
    let second = send_due(db, "2025-07-14T02:00:00Z", |_| sent()).await;
    assert_eq!(second.len(), 1);
    receipt(db, second[0].0, ReceiptState::Delivered, "2025-07-14T02:01:00Z").await;

    let batch = PaymentBatch {
        source: PaymentSource::Http,
        now: at("2025-07-20T00:00:00Z"),
        strict: true,
        attribution_secs: 14 * 86_400,
    };
    let pays = [
        payment("P3-JUNJUL", 3, 33_600, "2025-07-13T02:00:00Z"),
        payment("P2-JUL", 2, 16_800, "2025-07-19T02:00:00Z"),
    ];
    db.store.record_payments(&pays, &batch, &NoProgress).await.unwrap();
}

async fn report(db: &TestDb, query: ReportQuery) -> OutcomeReport {
    report_at(db, query, at("2025-07-20T00:00:00Z")).await
}

/// The report of `query` at `now`, with the population's rules in schedule order.
pub async fn report_at(db: &TestDb, query: ReportQuery, now: chrono::DateTime<chrono::Utc>) -> OutcomeReport {
    let settings = Settings::default();
    let order = ["h-1".to_string(), "h+7".to_string()];
    outcomes::compute(
        db.store.as_ref(),
        &settings.due_date.rules(),
        &settings.standing.rules(),
        &query,
        &order,
        now,
    )
    .await
    .unwrap()
}

fn all_time() -> ReportQuery {
    ReportQuery {
        from: None,
        to: None,
        kelurahan: None,
    }
}

async fn report_matches_hand_computed_figures(db: &TestDb) {
    population(db).await;
    let r = report(db, all_time()).await;
    let metro = &r.kelurahan[0];
    assert_eq!(
        (metro.code.as_str(), metro.bpu, metro.active, metro.nonactive),
        (METRO, 4, 3, 1)
    );
    assert_eq!(metro.active_ratio, Some(0.75));
    assert_eq!((metro.arrears_1, metro.arrears_2, metro.arrears_3_plus), (0, 0, 1));
    let yoso = &r.kelurahan[1];
    assert_eq!((yoso.bpu, yoso.active, yoso.active_ratio), (2, 1, Some(0.5)));
    assert_eq!((yoso.effect.sent, yoso.effect.failed), (0, 1));

    let t = &r.total;
    assert_eq!((t.bpu, t.active, t.nonactive), (6, 4, 2));
    assert_eq!(t.active_ratio, Some(4.0 / 6.0));
    assert_eq!(
        (t.effect.sms.sent, t.effect.sms.delivered, t.effect.sms.failed),
        (3, 2, 2)
    );
    assert_eq!((t.effect.email.relay_accepted, t.effect.email.failed), (0, 0));
    assert_eq!(t.effect.sms.delivery_rate, Some(2.0 / 3.0));
    assert_eq!(t.effect.converted, 2);
    assert_eq!(t.effect.conversion_rate, Some(2.0 / 3.0));
    assert_eq!(t.effect.median_days_to_pay, Some(4.0), "3 and 5 days");
    assert_eq!(t.effect.amount_paid, 50_400);

    let rules: Vec<_> = r
        .rules
        .iter()
        .map(|x| {
            (
                x.rule.as_str(),
                x.sent,
                x.delivered,
                x.failed,
                x.converted,
                x.median_days_to_pay,
                x.amount_paid,
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("h-1", 1, Some(1), 0, 1, Some(5.0), 16_800),
            ("h+7", 2, Some(1), 2, 1, Some(3.0), 33_600),
        ]
    );
    assert_eq!(r.rules[1].conversion_rate, Some(0.5));

    // A period from 12 July: only the h-1 reminder of the 14th counts.
    let since = report(
        db,
        ReportQuery {
            from: Some("2025-07-12".parse().unwrap()),
            to: Some("2025-07-31".parse().unwrap()),
            kelurahan: None,
        },
    )
    .await;
    let e = &since.total.effect;
    assert_eq!((e.sent, e.sms.delivered, e.failed, e.converted), (1, 1, 0, 1));
    assert_eq!(e.median_days_to_pay, Some(5.0));
    assert_eq!(since.total.active, 4, "standing is capped at now");

    // A period without data: zeros, no rates, not an error.
    let empty = report(
        db,
        ReportQuery {
            from: Some("2024-01-01".parse().unwrap()),
            to: Some("2024-01-31".parse().unwrap()),
            kelurahan: Some(METRO.into()),
        },
    )
    .await;
    let e = &empty.total.effect;
    assert_eq!((e.sent, e.converted, e.amount_paid), (0, 0, 0));
    assert_eq!(
        (e.sms.delivery_rate, e.conversion_rate, e.median_days_to_pay),
        (None, None, None)
    );
    assert!(empty.rules.is_empty());
}

async fn report_of_an_earlier_date_rebuilds_standing(db: &TestDb) {
    population(db).await;
    // Standing at the end of 12 July (WIB): before both payments and before
    // July's due date, so June is the last month past due. P2 (Jun) 0, P3
    // (May) 1, P4 (Apr) 2 months behind: all of Metro active; P6 (Jan) 5.
    let r = report(
        db,
        ReportQuery {
            from: None,
            to: Some("2025-07-12".parse().unwrap()),
            kelurahan: None,
        },
    )
    .await;
    assert_eq!(r.standing_at, at("2025-07-12T17:00:00Z"));
    let metro = &r.kelurahan[0];
    assert_eq!(
        (metro.bpu, metro.active, metro.arrears_1, metro.arrears_2),
        (4, 4, 1, 1)
    );
    assert_eq!((r.total.bpu, r.total.active), (6, 5));
    // Reminders of the period: the h+7 batch of the 10th only, no conversion
    // credited to reminders sent after the period.
    assert_eq!((r.total.effect.sent, r.total.effect.converted), (2, 1));
}

/// Metro's July h-1, by SMS and by e-mail, to two participants who take both:
/// two SMS sent, one delivered; two e-mails accepted by the relay (no
/// receipts). Mixed, that is 1 delivered of 4 sent (25,0%); per channel, SMS
/// 50,0% delivered and e-mail 100,0% accepted by the relay.
async fn email_is_accepted_by_the_relay_never_undelivered_and_never_mixed_with_sms(db: &TestDb) {
    use pengingat::domain::{EmailAddress, PreferredChannel};
    use pengingat::report::OutputFormat;
    use pengingat::report::render_outcomes::render_outcome_report;

    load_test_kelurahan(db).await;
    let mut rows = vec![participant(1, "2025-06"), participant(2, "2025-06")];
    for (i, p) in rows.iter_mut().enumerate() {
        p.email = Some(EmailAddress::parse(&format!("peserta{i}@example.org")).unwrap());
        p.preferred_channel = PreferredChannel::Both;
    }
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let planned = "2025-07-14T02:00:00Z";
    let mut sms = rule("h-1", -1, vec![occurrence(METRO, "2025-07", planned)]);
    db.store
        .insert_reminders(&sms, at("2025-07-09T00:00:00Z"))
        .await
        .unwrap();
    sms.channel = Channel::Email;
    db.store
        .insert_reminders(&sms, at("2025-07-09T00:00:00Z"))
        .await
        .unwrap();
    let texts = send_due(db, planned, |_| sent()).await;
    assert_eq!(texts.len(), 2);
    receipt(db, texts[0].0, ReceiptState::Delivered, "2025-07-14T02:01:00Z").await;
    let mails = db.store.claim_due(at(planned), Channel::Email, 100, "w").await.unwrap();
    let accepted = AttemptOutcome::Sent {
        gateway: "smtp".into(),
        provider_message_id: Some("<1@pengingat>".into()),
        encoding: None,
        segments: None,
    };
    let outcomes: Vec<_> = mails.iter().map(|m| (m.id, accepted.clone())).collect();
    assert_eq!(outcomes.len(), 2);
    db.store.finish_attempts("w", &outcomes, at(planned)).await.unwrap();

    let r = report(db, all_time()).await;
    let e = &r.total.effect;
    assert_eq!((e.sms.sent, e.sms.delivered, e.sms.delivery_rate), (2, 1, Some(0.5)));
    assert_eq!(
        (e.email.relay_accepted, e.email.failed, e.email.relay_rate),
        (2, 0, Some(1.0))
    );

    let table = render_outcome_report(&r, OutputFormat::Table);
    let total = table
        .lines()
        .filter(|l| l.starts_with("Total"))
        .nth(1)
        .expect("a Total row in the reminders block");
    let cells: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(cells[1..4], ["2/1/0", "50,0%", "2/0"], "{table}");
    assert!(!table.contains("25,0%"), "no mixed delivery rate:\n{table}");
    let email_rule: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("h-1") && l.contains("email"))
        .expect("the e-mail rule row")
        .split_whitespace()
        .collect();
    assert_eq!(email_rule[2..7], ["2", "-", "0", "-", "100,0%"], "{table}");

    let csv = render_outcome_report(&r, OutputFormat::Csv);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}: {csv}"))
    };
    let total = reader.records().map(Result::unwrap).find(|r| &r[0] == "total").unwrap();
    assert_eq!(&total[col("rasio_sms_tersampaikan")], "0.5000");
    assert_eq!(&total[col("email_diterima_relay")], "2");
    assert_eq!(&total[col("rasio_email_diterima_relay")], "1.0000");
    assert!(!header.iter().any(|h| h == "rasio_tersampaikan"), "{csv}");
}
