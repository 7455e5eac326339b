//! The weekly coordinator digest against a real SMTP server (aiosmtpd, see
//! tests/support/smtp_sink.py): who is listed in which group, exactly once
//! per kelurahan and ISO week across calls, instances and crashed claims,
//! the ratio change from one week to the next, catch-up within the week
//! only, and retries after an SMTP outage. Times are fixed instants.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use pengingat::channels::EmailSender;
use pengingat::clock::FixedClock;
use pengingat::digest::{DigestClaim, DigestContext, DigestRecord, DigestReport, send_due};
use pengingat::domain::*;
use pengingat::schedule::Schedules;
use pengingat::store::NoProgress;
use serde_json::{Value, json};

use crate::app::TestDaemon;
use crate::channels::email::Sink;
use crate::helpers::*;

both_backends!(
    the_digest_lists_the_people_behind_in_their_groups_with_masked_phones,
    calls_restarts_and_concurrent_instances_send_once_per_kelurahan_and_week,
    a_crashed_instances_claim_runs_out_and_another_sends,
    the_next_week_sends_again_and_shows_the_ratio_change,
    no_coordinators_or_no_digest_table_sends_nothing,
    catches_up_within_the_week_but_never_sends_a_past_week,
    smtp_down_marks_nothing_sent_and_a_later_tick_retries,
    the_daemon_sends_the_due_digest_when_it_starts,
);

const METRO: &str = "18.72.01.1001";
const YOSOMULYO: &str = "18.72.01.1005";
const DANGIN_PURI: &str = "51.71.01.1001";

/// Monday 14 July 2025, 07:05 WIB: five minutes after the week-29 digest time.
const MONDAY_29: &str = "2025-07-14T00:05:00Z";
/// Monday 21 July 2025, 07:05 WIB (week 30).
const MONDAY_30: &str = "2025-07-21T00:05:00Z";

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
coordinators = [
  { name = "Ratna Dewi", email = "ratna.dewi@example.org", phone = "0812-3456-7890" },
  { name = "Budi Santoso", email = "budi.santoso@example.org" },
]

[kelurahan."51.71.01.1001"]
coordinators = [{ name = "Made Wirawan", email = "made.wirawan@example.org" }]
disabled = true
"#;

fn schedules(text: &str) -> Schedules {
    Schedules::parse(text, Path::new("."), "test.toml").expect("valid schedules")
}

/// A BPU participant (Rp16.800 a month, self-funded, phone +62812000000NN).
fn person(serial: u32, name: &str, kelurahan: &str, paid_through: &str) -> NewParticipant {
    let mut p = participant(serial, paid_through);
    p.name = ParticipantName::parse(name).unwrap();
    p.kelurahan = KelurahanCode::parse(kelurahan).unwrap();
    p
}

/// The phone [`person`] gives `serial`, as stored.
fn phone(serial: u32) -> String {
    PhoneNumber::parse(&format!("0812{serial:08}"))
        .unwrap()
        .as_str()
        .to_string()
}

/// Metro: seven BPU participants (five active on 14 July) and one PU;
/// Yosomulyo (no coordinators) and Dangin Puri (disabled) have someone behind too.
async fn population(db: &TestDb) {
    load_test_kelurahan(db).await;
    let mut dewi = person(4, "Dewi Lestari", METRO, "2025-01");
    dewi.phone = None;
    dewi.opted_out = true;
    let mut gunawan = person(7, "Gunawan", METRO, "2025-01");
    gunawan.segment = Segment::Pu;
    let mut hadi = person(8, "Hadi Kusuma", METRO, "2025-05");
    hadi.monthly_amount = Rupiah::new(20_000).unwrap();
    hadi.funding = Funding::Collective;
    let rows = vec![
        person(1, "Siti Aminah", METRO, "2025-05"),
        person(2, "Agus Salim", METRO, "2025-04"),
        person(3, "Bambang Wijaya", METRO, "2025-03"),
        dewi,
        person(5, "Eko Prasetyo", METRO, "2025-06"),
        person(6, "Fitri Handayani", METRO, "2025-12"),
        gunawan,
        hadi,
        person(9, "Yanti Yosomulyo", YOSOMULYO, "2025-02"),
        person(10, "Wayan Dangin", DANGIN_PURI, "2025-02"),
    ];
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &NoProgress)
        .await
        .unwrap();
}

/// Everything [`send_due`] needs, for one "instance".
struct Instance {
    schedules: Schedules,
    email: EmailSender,
    due: DueDateRules,
    standing: StandingRules,
    worker: String,
}

impl Instance {
    fn new(sink: &Sink, worker: &str) -> Self {
        Self::with(
            schedules(SCHEDULES),
            EmailSender::from_settings(&sink.settings()).unwrap(),
            worker,
        )
    }

    fn with(schedules: Schedules, email: EmailSender, worker: &str) -> Self {
        Self {
            schedules,
            email,
            due: DueDateRules::default(),
            standing: StandingRules::default(),
            worker: worker.to_string(),
        }
    }

    async fn send_due(&self, db: &TestDb, now: &str) -> DigestReport {
        let ctx = DigestContext {
            store: db.store.as_ref(),
            schedules: &self.schedules,
            email: &self.email,
            due: &self.due,
            standing: &self.standing,
            worker: &self.worker,
        };
        send_due(&ctx, at(now)).await.expect("send_due")
    }
}

async fn week(db: &TestDb, week: &str) -> Vec<DigestRecord> {
    db.store.digests_of_week(week).await.unwrap()
}

fn text(message: &Value) -> String {
    message["text"].as_str().unwrap_or_default().replace("\r\n", "\n")
}

async fn the_digest_lists_the_people_behind_in_their_groups_with_masked_phones(db: &TestDb) {
    population(db).await;
    let sink = Sink::start(&[]).await;
    let report = Instance::new(&sink, "a").send_due(db, MONDAY_29).await;
    assert_eq!(report.week.as_deref(), Some("2025-W29"));
    assert_eq!(report.sent, [METRO], "{report:?}");
    let got = sink.message(1).await;
    assert_eq!(
        got["rcpt_tos"],
        json!(["ratna.dewi@example.org", "budi.santoso@example.org"]),
        "one e-mail to every coordinator of the kelurahan"
    );
    let to = got["headers"]["To"].as_str().unwrap();
    assert!(to.contains("Ratna Dewi <ratna.dewi@example.org>"), "{to}");
    assert_eq!(
        got["headers"]["Subject"],
        "Rekap mingguan tunggakan iuran BPU Kelurahan Metro, minggu 29/2025: 5 peserta menunggak"
    );
    assert_eq!(got["content_type"], "multipart/alternative");
    let t = text(&got);
    assert!(t.starts_with("Yth. Ratna Dewi dan Budi Santoso,"), "{t}");
    assert!(t.contains("per Senin, 14 Juli 2025 pukul 07.05 WIB"), "{t}");
    // On 14 July June is the last month past due (July falls due on the 15th).
    assert!(t.contains("Rasio aktif: 71,4% (5 dari 7 peserta BPU aktif)"), "{t}");
    assert!(t.contains("Perubahan: digest pertama"), "{t}");
    let one = t.find("MENUNGGAK 1 BULAN (2 peserta, jumlah Rp36.800)").expect(&t);
    let two = t.find("MENUNGGAK 2 BULAN (1 peserta, jumlah Rp33.600)").expect(&t);
    let three = t
        .find("MENUNGGAK 3 BULAN ATAU LEBIH (2 peserta, jumlah Rp134.400)")
        .expect(&t);
    let line = |s: &str| t.find(s).unwrap_or_else(|| panic!("{s:?} missing from:\n{t}"));
    let hadi = line("1. Hadi Kusuma | HP +62812****008 | 1 bulan | Rp20.000 | kolektif");
    let siti = line("2. Siti Aminah | HP +62812****001 | 1 bulan | Rp16.800");
    let agus = line("1. Agus Salim | HP +62812****002 | 2 bulan | Rp33.600");
    let dewi = line("1. Dewi Lestari | HP - | 5 bulan | Rp84.000 | nonaktif, berhenti SMS");
    let bambang = line("2. Bambang Wijaya | HP +62812****003 | 3 bulan | Rp50.400 | nonaktif");
    assert!(one < hadi && hadi < siti && siti < two, "{t}");
    assert!(two < agus && agus < three && three < dewi && dewi < bambang, "{t}");
    for absent in ["Eko", "Fitri", "Gunawan", "Yanti", "Wayan"] {
        assert!(!t.contains(absent), "{absent} is not behind in Metro's BPU: {t}");
    }
    let html = got["html"].as_str().unwrap_or_default();
    for serial in 1..=10 {
        let full = phone(serial);
        assert!(!t.contains(&full) && !html.contains(&full), "{full} unmasked");
        assert!(!t.contains(&full[3..]), "{full} unmasked");
    }
    assert_eq!(
        sink.count(),
        1,
        "Yosomulyo has no coordinators, Dangin Puri is disabled"
    );
    let rows = week(db, "2025-W29").await;
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.kelurahan_code.as_str(), r.status.as_str()), (METRO, "sent"));
    assert_eq!(
        (r.bpu, r.active, r.behind, r.recipients),
        (Some(7), Some(5), Some(5), Some(2))
    );
    assert_eq!(r.scheduled_at, at("2025-07-14T00:00:00Z").timestamp());
    assert_eq!(r.message_id.as_deref(), got["headers"]["Message-ID"].as_str());
    assert_eq!(r.sent_at, Some(at(MONDAY_29).timestamp()));
    sink.stop().await;
}

async fn calls_restarts_and_concurrent_instances_send_once_per_kelurahan_and_week(db: &TestDb) {
    population(db).await;
    let sink = Sink::start(&[]).await;
    let a = Instance::new(&sink, "instance-a");
    let b = Instance::new(&sink, "instance-b");
    // Two instances on one database tick at the same moment.
    let (ra, rb) = tokio::join!(a.send_due(db, MONDAY_29), b.send_due(db, MONDAY_29));
    assert_eq!(ra.sent.len() + rb.sent.len(), 1, "{ra:?} {rb:?}");
    assert_eq!(ra.sent.iter().chain(&rb.sent).collect::<Vec<_>>(), [METRO]);
    assert!(ra.failed.is_empty() && rb.failed.is_empty(), "{ra:?} {rb:?}");
    // Again, later the same week, and after a "restart" (a new worker name).
    let again = a.send_due(db, MONDAY_29).await;
    assert_eq!((again.sent.len(), again.skipped.clone()), (0, vec![METRO.to_string()]));
    assert!(b.send_due(db, "2025-07-19T10:00:00Z").await.sent.is_empty());
    let restarted = Instance::new(&sink, "instance-a-restarted");
    assert!(restarted.send_due(db, "2025-07-20T16:59:00Z").await.sent.is_empty());
    let (ra, rb) = tokio::join!(a.send_due(db, MONDAY_29), b.send_due(db, MONDAY_29));
    assert!(ra.sent.is_empty() && rb.sent.is_empty());
    sink.message(1).await;
    assert_eq!(sink.count(), 1, "one digest for Metro in week 29, whoever asked");
    let rows = week(db, "2025-W29").await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("sent", 1));
    sink.stop().await;
}

async fn a_crashed_instances_claim_runs_out_and_another_sends(db: &TestDb) {
    population(db).await;
    let sink = Sink::start(&[]).await;
    // An instance claimed Metro's digest and died before sending.
    let claim = DigestClaim {
        kelurahan_code: METRO,
        week: "2025-W29",
        scheduled_at: at("2025-07-14T00:00:00Z").timestamp(),
        worker: "crashed",
        lease_secs: 15 * 60,
    };
    assert_eq!(db.store.claim_digest(&claim, at(MONDAY_29)).await.unwrap(), Some(1));
    assert_eq!(db.store.claim_digest(&claim, at(MONDAY_29)).await.unwrap(), None);
    let b = Instance::new(&sink, "b");
    let during = b.send_due(db, "2025-07-14T00:19:00Z").await;
    assert_eq!(
        (during.sent.len(), during.skipped.clone()),
        (0, vec![METRO.to_string()])
    );
    assert_eq!(sink.count(), 0, "the claim holds for its lease");
    let after = b.send_due(db, "2025-07-14T00:20:00Z").await;
    assert_eq!(after.sent, [METRO], "the lease ran out: another instance sends");
    sink.message(1).await;
    // The crashed instance's late record changes nothing.
    let late = pengingat::digest::DigestOutcome::Failed {
        error: "late".into(),
        retry_at: 0,
    };
    let recorded = db
        .store
        .finish_digest(METRO, "2025-W29", "crashed", &late, at("2025-07-14T00:21:00Z"))
        .await
        .unwrap();
    assert!(!recorded);
    let rows = week(db, "2025-W29").await;
    assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("sent", 2));
    assert_eq!(rows[0].claimed_by.as_deref(), Some("b"));
    assert_eq!(sink.count(), 1);
    sink.stop().await;
}

async fn the_next_week_sends_again_and_shows_the_ratio_change(db: &TestDb) {
    population(db).await;
    let sink = Sink::start(&[]).await;
    let a = Instance::new(&sink, "a");
    assert_eq!(a.send_due(db, MONDAY_29).await.sent, [METRO]);
    // Agus and Bambang pay through July during the week.
    let paid = vec![
        person(2, "Agus Salim", METRO, "2025-07"),
        person(3, "Bambang Wijaya", METRO, "2025-07"),
    ];
    db.store
        .upsert_participants(&paid, at("2025-07-18T03:00:00Z"), &NoProgress)
        .await
        .unwrap();
    assert_eq!(a.send_due(db, MONDAY_30).await.sent, [METRO]);
    let second = sink.message(2).await;
    let t = text(&second);
    assert!(
        second["headers"]["Subject"]
            .as_str()
            .unwrap()
            .contains("minggu 30/2025")
    );
    // On 21 July July is past due too: Siti and Hadi 2 months, Eko 1, Dewi 6; Agus and Bambang current.
    assert!(t.contains("Rasio aktif: 85,7% (6 dari 7 peserta BPU aktif)"), "{t}");
    assert!(
        t.contains("Perubahan: naik 14,3 poin persen dari rekap minggu 29/2025 (71,4%)"),
        "{t}"
    );
    assert!(
        t.contains("1. Eko Prasetyo | HP +62812****005 | 1 bulan | Rp16.800"),
        "{t}"
    );
    assert!(
        t.contains("1. Hadi Kusuma | HP +62812****008 | 2 bulan | Rp40.000 | kolektif"),
        "{t}"
    );
    assert!(
        t.contains("2. Siti Aminah | HP +62812****001 | 2 bulan | Rp33.600"),
        "{t}"
    );
    assert!(!t.contains("Agus") && !t.contains("Bambang"), "{t}");
    let rows = week(db, "2025-W30").await;
    assert_eq!((rows[0].bpu, rows[0].active), (Some(7), Some(6)));
    assert_eq!(sink.count(), 2);
    sink.stop().await;
}

async fn no_coordinators_or_no_digest_table_sends_nothing(db: &TestDb) {
    population(db).await;
    let sink = Sink::start(&[]).await;
    let email = || EmailSender::from_settings(&sink.settings()).unwrap();
    let no_coordinators = SCHEDULES.split("[kelurahan.").next().unwrap().replace(
        "[digest]",
        "[kelurahan.\"18.72.01.1005\"]\nholidays = [\"2025-08-18\"]\n\n[digest]",
    );
    let report = Instance::with(schedules(&no_coordinators), email(), "a")
        .send_due(db, MONDAY_29)
        .await;
    assert_eq!(report.week.as_deref(), Some("2025-W29"));
    assert!(report.sent.is_empty() && report.failed.is_empty(), "{report:?}");
    let no_digest = SCHEDULES.replace("[digest]\ncron = [\"0 0 7 * * MON\"]\n", "");
    let report = Instance::with(schedules(&no_digest), email(), "a")
        .send_due(db, MONDAY_29)
        .await;
    assert_eq!(report, DigestReport::default());
    assert!(week(db, "2025-W29").await.is_empty(), "nothing claimed");
    assert_eq!(sink.count(), 0);
    sink.stop().await;
}

async fn catches_up_within_the_week_but_never_sends_a_past_week(db: &TestDb) {
    population(db).await;
    let sink = Sink::start(&[]).await;
    let a = Instance::new(&sink, "a");
    // Down all of week 28; back on Monday 14 July at 06:30 WIB, before week 29's time.
    let early = a.send_due(db, "2025-07-13T23:30:00Z").await;
    assert_eq!(
        early,
        DigestReport::default(),
        "week 28's digest is not sent in week 29"
    );
    assert!(week(db, "2025-W28").await.is_empty());
    // Down at 07:00 on Monday, back on Wednesday: week 29's digest goes out then.
    let wednesday = a.send_due(db, "2025-07-16T02:00:00Z").await;
    assert_eq!(wednesday.week.as_deref(), Some("2025-W29"));
    assert_eq!(wednesday.sent, [METRO]);
    let rows = week(db, "2025-W29").await;
    assert_eq!(rows[0].scheduled_at, at("2025-07-14T00:00:00Z").timestamp());
    let got = sink.message(1).await;
    // Standing on Wednesday 16 July: July is past due.
    assert!(text(&got).contains("per Rabu, 16 Juli 2025 pukul 09.00 WIB"), "{got}");
    assert_eq!(sink.count(), 1);
    sink.stop().await;
}

async fn smtp_down_marks_nothing_sent_and_a_later_tick_retries(db: &TestDb) {
    population(db).await;
    let down = Sink::start(&[]).await;
    let settings = down.settings();
    down.stop().await;
    let a = Instance::with(
        schedules(SCHEDULES),
        EmailSender::from_settings(&settings).unwrap(),
        "a",
    );
    let first = a.send_due(db, MONDAY_29).await;
    assert_eq!(first.failed, [METRO], "{first:?}");
    assert!(first.sent.is_empty());
    let rows = week(db, "2025-W29").await;
    let r = &rows[0];
    assert_eq!(r.status, "failed");
    assert_eq!((r.sent_at, r.bpu, r.message_id.as_deref()), (None, None, None));
    assert_eq!(r.next_attempt_at, Some(at(MONDAY_29).timestamp() + 60));
    assert!(r.last_error.is_some());
    // Not before its retry time, not even by another instance.
    let b_down = Instance::with(
        schedules(SCHEDULES),
        EmailSender::from_settings(&settings).unwrap(),
        "b",
    );
    assert_eq!(b_down.send_due(db, "2025-07-14T00:05:30Z").await.skipped, [METRO]);
    // Still down at the retry: the wait doubles.
    assert_eq!(a.send_due(db, "2025-07-14T00:06:00Z").await.failed, [METRO]);
    let r = week(db, "2025-W29").await.remove(0);
    assert_eq!((r.status.as_str(), r.attempts), ("failed", 2));
    assert_eq!(r.next_attempt_at, Some(at("2025-07-14T00:08:00Z").timestamp()));
    // The relay is back: the next tick after the retry time sends.
    let sink = Sink::start(&[]).await;
    let b = Instance::new(&sink, "b");
    assert_eq!(b.send_due(db, "2025-07-14T00:08:00Z").await.sent, [METRO]);
    let got = sink.message(1).await;
    assert!(text(&got).contains("Perubahan: digest pertama"), "{got}");
    let r = week(db, "2025-W29").await.remove(0);
    assert_eq!((r.status.as_str(), r.attempts, r.last_error), ("sent", 3, None));
    assert!(b.send_due(db, "2025-07-14T00:30:00Z").await.sent.is_empty());
    assert_eq!(sink.count(), 1);
    sink.stop().await;
}

async fn the_daemon_sends_the_due_digest_when_it_starts(db: &TestDb) {
    population(db).await;
    let sink = Sink::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schedules.toml");
    std::fs::write(&path, SCHEDULES).unwrap();
    let mut settings = crate::daemon::daemon_settings(db);
    settings.schedules.path = path;
    settings.email = sink.settings();
    settings.delivery.enabled = false;
    // Started on Tuesday of week 29, after Monday's digest time.
    let now: DateTime<Utc> = at("2025-07-15T03:00:00Z");
    let clock = Arc::new(FixedClock::at(now));
    let daemon = TestDaemon::start(settings, clock).await;
    let got = sink.message(1).await;
    assert!(
        got["headers"]["Subject"]
            .as_str()
            .unwrap()
            .contains("Kelurahan Metro, minggu 29/2025"),
        "{got}"
    );
    daemon.stop().await;
    let rows = week(db, "2025-W29").await;
    assert_eq!((rows.len(), rows[0].status.as_str()), (1, "sent"));
    assert_eq!(sink.count(), 1);
    sink.stop().await;
}
