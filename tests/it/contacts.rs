//! The contact-verification list end to end: participants whose last two
//! SMS the network reported undelivered, whose e-mail a real SMTP relay
//! refused (550), and who have no contact data appear in the coordinator
//! digest (through a real SMTP sink), in `pengingat report --contacts
//! --format csv` (the real binary) and in the dashboard's count; an import
//! that corrects their phone or e-mail takes them off all three, and an
//! import that changes nothing else does not.
//!
//! Metro, July 2025 (h-7 on 8 July, h-1 on 14 July, SMS; h-1 also by e-mail):
//!
//! | who | contact | what happened | listed |
//! |---|---|---|---|
//! | 1 Siti Aminah | phone | both SMS undelivered | yes: number |
//! | 2 Agus Salim | phone | h-7 undelivered, h-1 delivered | no |
//! | 3 Bambang Wijaya | phone | both SMS expired at the operator | no |
//! | 4 Dewi Lestari | none | — | yes: no contact |
//! | 5 Eko Prasetyo | e-mail | refused by the relay: 550 5.1.1 | yes: e-mail |

use std::path::Path;
use std::process::Command;

use pengingat::channels::{EmailSender, OutboundEmail};
use pengingat::digest::{DigestContext, send_due};
use pengingat::domain::*;
use pengingat::report::contacts::contact_list;
use pengingat::schedule::Schedules;
use pengingat::store::{AttemptOutcome, NewReceipt, NoProgress, Occurrence, ReceiptState, RuleOccurrences};

use crate::app::TestApp;
use crate::channels::email::Sink;
use crate::helpers::*;

both_backends!(listed_in_digest_csv_and_dashboard_until_a_corrected_import);

const METRO: &str = "18.72.01.1001";
/// The address the SMTP sink refuses with 550 5.1.1.
const WRONG_EMAIL: &str = "eko.salah@example.org";

const SCHEDULES: &str = r#"[template.t]
text = "Yth. {name}, iuran {month} {amount}."
subject = "Iuran {month}"

[[rule]]
name = "r"
offset_days = -7
channels = ["sms"]
template = "t"

[digest]
cron = ["0 0 7 * * MON"]

[kelurahan."18.72.01.1001"]
coordinators = [{ name = "Ratna Dewi", email = "ratna.dewi@example.org" }]
"#;

fn person(serial: u32, name: &str) -> NewParticipant {
    let mut p = participant(serial, "2025-06");
    p.name = ParticipantName::parse(name).unwrap();
    p
}

/// The five participants, as the first import has them.
fn people() -> Vec<NewParticipant> {
    let mut dewi = person(4, "Dewi Lestari");
    dewi.phone = None;
    let mut eko = person(5, "Eko Prasetyo");
    eko.phone = None;
    eko.email = Some(EmailAddress::parse(WRONG_EMAIL).unwrap());
    eko.preferred_channel = PreferredChannel::Email;
    vec![
        person(1, "Siti Aminah"),
        person(2, "Agus Salim"),
        person(3, "Bambang Wijaya"),
        dewi,
        eko,
    ]
}

fn rule(name: &str, offset: i32, channel: Channel, planned: &str) -> RuleOccurrences {
    let planned_at = at(planned).timestamp();
    RuleOccurrences {
        rule: name.into(),
        rule_offset: offset,
        channel,
        funding: None,
        holdout: false,
        occurrences: vec![Occurrence {
            kelurahan_code: METRO.into(),
            contribution_month: month("2025-07").index(),
            occurrence_date: (planned_at / 86_400) as i32,
            send_date: (planned_at / 86_400) as i32,
            planned_at,
            expires_at: Some(planned_at + 10 * 3600),
            skip_reason: None,
        }],
    }
}

/// Sends the SMS due at `instant` through "kannel"; returns (reminder, participant).
async fn send_sms(db: &TestDb, instant: &str) -> Vec<(i64, i64)> {
    let claimed = db.store.claim_due(at(instant), Channel::Sms, 100, "w").await.unwrap();
    let ids: Vec<(i64, i64)> = claimed.iter().map(|c| (c.id, c.participant_id)).collect();
    let sent = AttemptOutcome::Sent {
        gateway: "kannel".into(),
        provider_message_id: None,
        encoding: Some("gsm7".into()),
        segments: Some(1),
    };
    let outcomes: Vec<_> = ids.iter().map(|(id, _)| (*id, sent.clone())).collect();
    db.store.finish_attempts("w", &outcomes, at(instant)).await.unwrap();
    ids
}

/// Kannel's receipts for the reminders sent to participants 1 to 3.
async fn receipts(db: &TestDb, sent: &[(i64, i64)], second: bool, when: &str) {
    for (reminder, participant) in sent {
        let state = match (participant, second) {
            (1, _) | (2, false) => ReceiptState::Undelivered,
            (2, true) => ReceiptState::Delivered,
            _ => ReceiptState::Expired,
        };
        let r = NewReceipt {
            reminder_id: Some(*reminder),
            provider_message_id: None,
            state,
            detail: Some("stat:UNDELIV err:001"),
            raw: "uji",
        };
        db.store.record_receipt("kannel", &r, at(when)).await.unwrap();
    }
}

/// The e-mail reminder handed to the sink, which refuses the address; the
/// failure recorded as the dispatcher records a permanent one.
async fn send_email(db: &TestDb, sink: &Sink, instant: &str) {
    let claimed = db.store.claim_due(at(instant), Channel::Email, 100, "w").await.unwrap();
    assert_eq!(claimed.len(), 1, "Eko's e-mail");
    let sender = EmailSender::from_settings(&sink.settings()).unwrap();
    let error = sender
        .send(&OutboundEmail {
            reminder_id: claimed[0].id,
            to: WRONG_EMAIL.into(),
            subject: "Iuran".into(),
            text: "Yth. Eko".into(),
            html: None,
        })
        .await
        .unwrap_err();
    let outcome = AttemptOutcome::Failed {
        reason: error.to_string(),
    };
    db.store
        .finish_attempts("w", &[(claimed[0].id, outcome)], at(instant))
        .await
        .unwrap();
}

async fn history(db: &TestDb, sink: &Sink) {
    load_test_kelurahan(db).await;
    db.store
        .upsert_participants(&people(), at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    let created = at("2025-07-07T00:00:00Z");
    let store = &db.store;
    store
        .insert_reminders(&rule("h-7", -7, Channel::Sms, "2025-07-08T02:00:00Z"), created)
        .await
        .unwrap();
    store
        .insert_reminders(&rule("h-1", -1, Channel::Sms, "2025-07-14T02:00:00Z"), created)
        .await
        .unwrap();
    store
        .insert_reminders(&rule("h-1", -1, Channel::Email, "2025-07-14T02:00:00Z"), created)
        .await
        .unwrap();
    let first = send_sms(db, "2025-07-08T02:00:00Z").await;
    assert_eq!(first.len(), 3, "participants 1 to 3 have phones");
    receipts(db, &first, false, "2025-07-08T02:05:00Z").await;
    let second = send_sms(db, "2025-07-14T02:00:00Z").await;
    assert_eq!(second.len(), 3);
    receipts(db, &second, true, "2025-07-14T17:30:00Z").await;
    send_email(db, sink, "2025-07-14T02:00:00Z").await;
}

/// Who is listed, as (name, reason code, date).
async fn listed(db: &TestDb) -> Vec<(String, &'static str, String)> {
    let kelurahan = db.store.list_kelurahan().await.unwrap();
    contact_list(db.store.as_ref(), &kelurahan, Some(METRO))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.problem.code(), e.date.to_string()))
        .collect()
}

/// `pengingat report --contacts --format csv` through the real binary.
fn csv(db: &TestDb) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pengingat.toml");
    std::fs::write(&config, format!("[database]\nurl = \"{}\"\n", db.url)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pengingat"))
        .arg("--config")
        .arg(&config)
        .args(["report", "--contacts", "--kelurahan", METRO, "--format", "csv"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The dashboard's contact-verification count.
async fn dashboard_count(db: &TestDb) -> String {
    let app = TestApp::builder(db).open_dashboard().spawn().await;
    let (status, page) = app.get("/").await;
    app.stop().await;
    assert_eq!(status, 200, "{page}");
    let at = page.find("id=\"kpi-contacts\"").expect("the count is on the page");
    let value = &page[at..];
    let start = value.find("kpi-value\">").unwrap() + "kpi-value\">".len();
    value[start..start + value[start..].find('<').unwrap()].to_string()
}

/// The digest due at `now` (week 29's, caught up on Wednesday 16 July, then
/// week 30's on Monday 21 July): the text of the sink's message `n`.
async fn digest(db: &TestDb, sink: &Sink, now: &str, n: usize) -> String {
    let schedules = Schedules::parse(SCHEDULES, Path::new("."), "test.toml").unwrap();
    let email = EmailSender::from_settings(&sink.settings()).unwrap();
    let ctx = DigestContext {
        store: db.store.as_ref(),
        schedules: &schedules,
        email: &email,
        due: &DueDateRules::default(),
        standing: &StandingRules::default(),
        worker: "a",
    };
    let report = send_due(&ctx, at(now)).await.unwrap();
    assert_eq!(report.sent, [METRO], "{report:?}");
    let message = sink.message(n).await;
    message["text"].as_str().unwrap_or_default().replace("\r\n", "\n")
}

async fn listed_in_digest_csv_and_dashboard_until_a_corrected_import(db: &TestDb) {
    let sink = Sink::start(&["--reject", WRONG_EMAIL]).await;
    history(db, &sink).await;
    let s = |t: &str| t.to_string();
    // Siti's second receipt came at 17:30 UTC on 14 July: 15 July in WIB.
    assert_eq!(
        listed(db).await,
        [
            (s("Siti Aminah"), "nomor_hp", s("2025-07-15")),
            (s("Eko Prasetyo"), "email", s("2025-07-14")),
            (s("Dewi Lestari"), "tanpa_kontak", s("2025-07-01")),
        ]
    );

    let table = csv(db);
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("kode_kelurahan,kelurahan,nik,nama,hp,email,kode_alasan,alasan,tanggal")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(
        rows[0].starts_with("18.72.01.1001,Metro,1872011205900001,Siti Aminah,'+62812****001,,nomor_hp,"),
        "{table}"
    );
    assert!(rows[0].ends_with(",2025-07-15"), "{table}");
    assert!(rows[1].contains(",Eko Prasetyo,,e***@example.org,email,"), "{table}");
    assert!(rows[2].contains(",Dewi Lestari,,,tanpa_kontak,"), "{table}");
    assert!(
        !table.contains("6281200000001") && !table.contains(WRONG_EMAIL),
        "{table}"
    );

    assert_eq!(dashboard_count(db).await, "3");

    let t = digest(db, &sink, "2025-07-16T00:05:00Z", 1).await;
    let section = &t[t.find("PERLU VERIFIKASI DATA KONTAK (3 peserta)").expect(&t)..];
    assert!(
        section
            .contains("1. Siti Aminah | HP +62812****001 | 2 SMS terakhir gagal: nomor HP salah/mati | 15 Juli 2025"),
        "{t}"
    );
    assert!(
        section.contains("2. Eko Prasetyo | HP - | Email ditolak server: alamat salah | 14 Juli 2025"),
        "{t}"
    );
    assert!(
        section.contains("3. Dewi Lestari | HP - | Tidak ada nomor HP maupun email"),
        "{t}"
    );
    for absent in [
        "Agus Salim | HP +62812****002 | 2 SMS",
        "Bambang",
        WRONG_EMAIL,
        "6281200000001",
    ] {
        assert!(!section.contains(absent), "{absent}: {t}");
    }

    // A re-import that changes nothing else keeps everyone listed.
    db.store
        .upsert_participants(&people(), at("2025-07-16T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    assert_eq!(listed(db).await.len(), 3);

    // The kelurahan office's corrections come back in an import.
    let mut corrected = people();
    corrected[0].phone = Some(PhoneNumber::parse("0813-1111-2222").unwrap());
    corrected[3].phone = Some(PhoneNumber::parse("0813-3333-4444").unwrap());
    corrected[4].email = Some(EmailAddress::parse("eko.prasetyo@example.org").unwrap());
    db.store
        .upsert_participants(&corrected, at("2025-07-17T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
    assert_eq!(listed(db).await, []);
    assert_eq!(csv(db).lines().count(), 1, "the header alone");
    assert_eq!(dashboard_count(db).await, "0");
    let t = digest(db, &sink, "2025-07-21T00:05:00Z", 2).await;
    assert!(
        t.contains("PERLU VERIFIKASI DATA KONTAK (0 peserta)\n  (tidak ada yang perlu diverifikasi)"),
        "{t}"
    );
    sink.stop().await;
}
