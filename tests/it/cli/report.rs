//! `pengingat report` through the real binary: the Kota Metro population
//! with one scan's h-7 reminders sent (some failed), as a table, CSV and
//! JSON, over periods with and without reminders; and a payment posted to a
//! running daemon showing up in the report as a conversion.

use std::sync::Arc;

use pengingat::clock::FixedClock;
use pengingat::domain::Channel;
use pengingat::store::AttemptOutcome;
use serde_json::Value;

use super::Cli;
use crate::app::TestDaemon;
use crate::helpers::*;

both_backends!(
    metro_report_as_table_csv_and_json,
    a_payment_posted_to_the_daemon_is_a_conversion_in_the_report
);

/// The report's CSV header (`CSV_HEADER` in `src/report/render_outcomes.rs`).
const CSV_HEADER: [&str; 26] = [
    "tingkat",
    "kode",
    "kelurahan",
    "aturan",
    "kanal",
    "peserta_bpu",
    "aktif",
    "nonaktif",
    "rasio_aktif",
    "menunggak_1",
    "menunggak_2",
    "menunggak_3_lebih",
    "sms_terkirim",
    "sms_tersampaikan",
    "sms_gagal",
    "rasio_sms_tersampaikan",
    "email_diterima_relay",
    "email_gagal",
    "rasio_email_diterima_relay",
    "terkirim",
    "gagal",
    "membayar",
    "rasio_konversi",
    "median_hari_bayar",
    "nominal_dibayar",
    "status_direkonstruksi",
];

/// The keys of a kelurahan row (and the total) in the JSON, `effect` flattened in.
const KELURAHAN_KEYS: [&str; 17] = [
    "code",
    "name",
    "bpu",
    "active",
    "nonactive",
    "active_ratio",
    "arrears_1",
    "arrears_2",
    "arrears_3_plus",
    "sms",
    "email",
    "sent",
    "failed",
    "converted",
    "conversion_rate",
    "median_days_to_pay",
    "amount_paid",
];

/// The keys of a rule row in the JSON.
const RULE_KEYS: [&str; 11] = [
    "rule",
    "channel",
    "sent",
    "delivered",
    "failed",
    "delivery_rate",
    "relay_rate",
    "converted",
    "conversion_rate",
    "median_days_to_pay",
    "amount_paid",
];

/// The reminders failed on purpose.
const FAILED: i64 = 100;

/// When the report is made: Wednesday 8 July 2026, 10:00 WIB.
const REPORT_CLOCK: &str = "2026-07-08T03:00:00Z";

/// The object's keys, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

fn sorted(k: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

/// Parses CSV output into its header and rows.
fn parse_csv(text: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader.records().collect::<Result<Vec<_>, _>>().unwrap();
    (header, rows)
}

async fn metro_report_as_table_csv_and_json(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(&[
        "--clock",
        "2026-07-01T03:00:00Z",
        "seed",
        "--population",
        "metro",
        "--seed",
        "3",
    ]);
    // h-7 of July 2026 (due Wednesday 15 July) is 8 July, 09:00 WIB.
    let scanned = cli.ok(&["--clock", "2026-07-08T02:05:00Z", "scan", "--once"]);
    let created: i64 = scanned
        .split("scan: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count of created reminders: {scanned}"));
    assert!(created > FAILED, "{scanned}");
    let mut claimed = Vec::new();
    for channel in [Channel::Sms, Channel::Email] {
        let of_channel = db
            .store
            .claim_due(at("2026-07-08T02:05:00Z"), channel, 10_000, "uji")
            .await
            .unwrap();
        claimed.extend(of_channel);
    }
    assert_eq!(claimed.len() as i64, created);
    assert!(claimed.iter().all(|c| c.rule == "h-7"));
    let outcomes: Vec<(i64, AttemptOutcome)> = claimed
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let outcome = if (i as i64) < FAILED {
                AttemptOutcome::Failed {
                    reason: "nomor ditolak".into(),
                }
            } else {
                AttemptOutcome::Sent {
                    gateway: "kannel".into(),
                    provider_message_id: None,
                    encoding: Some("gsm7".into()),
                    segments: Some(1),
                }
            };
            (c.id, outcome)
        })
        .collect();
    db.store
        .finish_attempts("uji", &outcomes, at("2026-07-08T02:05:10Z"))
        .await
        .unwrap();
    let sent = created - FAILED;

    // The table: 80 columns, three blocks, the totals.
    let table = cli.ok(&["--clock", REPORT_CLOCK, "report"]);
    for line in table.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} characters: {line}\n{table}",
            line.chars().count()
        );
    }
    assert!(table.contains("periode semua waktu"), "{table}");
    let heads: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("Kelurahan ") || l.starts_with("Aturan "))
        .collect();
    assert_eq!(heads.len(), 3, "three blocks:\n{table}");
    assert!(heads[0].contains("Nonaktif") && heads[0].contains("Tgk 3+"), "{table}");
    assert!(heads[1].contains("SMS") && heads[1].contains("Konversi"), "{table}");
    assert!(heads[2].contains("Kanal") && heads[2].contains("Kirim"), "{table}");
    let totals: Vec<Vec<&str>> = table
        .lines()
        .filter(|l| l.starts_with("Total "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(totals.len(), 2, "a Total row in both kelurahan blocks:\n{table}");
    assert_eq!(totals[0][1], "4082", "{table}");
    assert_eq!(
        totals[1][1],
        format!("{sent}/0/{FAILED}"),
        "SMS sent/delivered/failed:\n{table}"
    );
    let h7: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("h-7 "))
        .unwrap_or_else(|| panic!("an h-7 row:\n{table}"))
        .split_whitespace()
        .collect();
    let expected = [
        "h-7".to_string(),
        "sms".into(),
        sent.to_string(),
        "0".into(),
        FAILED.to_string(),
    ];
    assert_eq!(h7[..5], expected, "{table}");

    // CSV: one sheet, a row per Metro kelurahan, the total, the rule.
    let (header, rows) = parse_csv(&cli.ok(&["--clock", REPORT_CLOCK, "report", "--format", "csv"]));
    assert_eq!(header, CSV_HEADER);
    let col = |name: &str| CSV_HEADER.iter().position(|h| *h == name).unwrap();
    let n = |r: &csv::StringRecord, name: &str| -> i64 { r[col(name)].parse().unwrap() };
    let level = |l: &str| rows.iter().filter(|r| &r[0] == l).collect::<Vec<_>>();
    let kelurahan = level("kelurahan");
    assert_eq!(kelurahan.len(), 22);
    assert!(kelurahan.iter().all(|r| r[col("kode")].starts_with("18.72.")));
    assert_eq!(kelurahan.iter().map(|r| n(r, "peserta_bpu")).sum::<i64>(), 4_082);
    assert_eq!(kelurahan.iter().map(|r| n(r, "sms_terkirim")).sum::<i64>(), sent);
    for r in &kelurahan {
        assert_eq!(n(r, "aktif") + n(r, "nonaktif"), n(r, "peserta_bpu"), "{r:?}");
        let ratio: f64 = r[col("rasio_aktif")].parse().unwrap();
        let expected = n(r, "aktif") as f64 / n(r, "peserta_bpu") as f64;
        assert!((ratio - expected).abs() < 0.000_051, "{r:?}");
    }
    let total = level("total");
    assert_eq!(total.len(), 1);
    assert_eq!(&total[0][col("kelurahan")], "Total");
    assert_eq!(
        (
            n(total[0], "peserta_bpu"),
            n(total[0], "sms_terkirim"),
            n(total[0], "gagal")
        ),
        (4_082, sent, FAILED)
    );
    let rules = level("aturan");
    assert_eq!(rules.len(), 1);
    assert_eq!((&rules[0][col("aturan")], &rules[0][col("kanal")]), ("h-7", "sms"));
    assert_eq!((n(rules[0], "terkirim"), n(rules[0], "gagal")), (sent, FAILED));

    // JSON: the documented keys.
    let json: Value = serde_json::from_str(&cli.ok(&["--clock", REPORT_CLOCK, "report", "--format", "json"])).unwrap();
    assert_eq!(
        keys(&json),
        sorted(&[
            "generated_at",
            "standing_at",
            "from",
            "to",
            "kelurahan",
            "total",
            "rules",
            "standing_source",
            "standing_rebuilt"
        ])
    );
    assert_eq!(json["generated_at"], "2026-07-08T03:00:00Z");
    assert_eq!(json["standing_at"], "2026-07-08T03:00:00Z");
    assert_eq!(json["kelurahan"].as_array().unwrap().len(), 22);
    for row in json["kelurahan"].as_array().unwrap().iter().chain([&json["total"]]) {
        assert_eq!(keys(row), sorted(&KELURAHAN_KEYS), "{row}");
        assert_eq!(
            keys(&row["sms"]),
            sorted(&["sent", "delivered", "failed", "delivery_rate"])
        );
        assert_eq!(keys(&row["email"]), sorted(&["relay_accepted", "failed", "relay_rate"]));
    }
    assert_eq!(json["total"]["bpu"], 4_082);
    assert_eq!(json["total"]["sms"]["sent"], sent);
    assert_eq!(json["total"]["failed"], FAILED);
    assert_eq!(json["rules"].as_array().unwrap().len(), 1);
    assert_eq!(keys(&json["rules"][0]), sorted(&RULE_KEYS));

    // The day of the sends counts them; the day before and a later month do not.
    let period = |from: &str, to: &str| -> Value {
        let out = cli.ok(&[
            "--clock",
            REPORT_CLOCK,
            "report",
            "--from",
            from,
            "--to",
            to,
            "--format",
            "json",
        ]);
        serde_json::from_str(&out).unwrap()
    };
    assert_eq!(period("2026-07-08", "2026-07-08")["total"]["sent"], sent);
    let before = period("2026-07-01", "2026-07-07");
    assert_eq!(
        (before["total"]["sent"].as_i64(), before["total"]["failed"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(before["standing_at"], "2026-07-07T17:00:00Z", "the end of 7 July, WIB");
    let empty = period("2030-01-01", "2030-01-31");
    assert_eq!(
        (empty["from"].as_str(), empty["to"].as_str()),
        (Some("2030-01-01"), Some("2030-01-31"))
    );
    for key in ["sent", "failed", "converted", "amount_paid"] {
        assert_eq!(empty["total"][key], 0, "{key}");
    }
    assert_eq!(empty["total"]["sms"]["delivered"], 0);
    assert_eq!(empty["total"]["email"]["relay_accepted"], 0);
    assert_eq!(empty["rules"], Value::Array(vec![]));
    let table = cli.ok(&[
        "--clock",
        REPORT_CLOCK,
        "report",
        "--from",
        "2030-01-01",
        "--to",
        "2030-01-31",
    ]);
    assert!(table.contains("periode 01-01-2030 s.d. 31-01-2030"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("Total ") && l.split_whitespace().collect::<Vec<_>>()[1..4] == ["0/0/0", "-", "0/0"]),
        "no reminder in the period:\n{table}"
    );

    // A period that ends before it starts names both dates and changes nothing.
    let out = cli.run(&["report", "--from", "2026-07-31", "--to", "2026-07-01"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2026-07-31") && err.contains("2026-07-01"), "{err}");
    assert!(out.stdout.is_empty(), "no report printed");
}

async fn a_payment_posted_to_the_daemon_is_a_conversion_in_the_report(db: &TestDb) {
    // Participant 1 got the h-1 SMS on 14 July 2025 09:00 WIB.
    crate::payments::reminded_participant(db).await;
    let cli = Cli::new(db);
    let secret = cli.dir.path().join("payments_token");
    std::fs::write(&secret, "rahasia-pembayaran\n").unwrap();
    let mut settings = crate::daemon::daemon_settings(db);
    settings.payments.token_file = Some(secret);
    let clock = Arc::new(FixedClock::at(at("2025-07-16T04:00:00Z")));
    let daemon = TestDaemon::start(settings, clock).await;

    let body = serde_json::json!({
        "external_ref": "JMO-2025-000123",
        "nik": crate::payments::NIK,
        "amount": 16800,
        "paid_at": "2025-07-16T10:15:00+07:00",
        "channel": "jmo",
    });
    let (refused, _) = daemon.post_payment(None, &body.to_string()).await;
    assert_eq!(refused, 401);
    let (status, answer) = daemon.post_payment(Some("rahasia-pembayaran"), &body.to_string()).await;
    assert_eq!(status, 201);
    assert_eq!(answer["recorded"], 1, "{answer}");
    assert_eq!(answer["results"][0]["attributed_reminder"]["rule"], "h-1", "{answer}");
    daemon.stop().await;

    // 14 July 02:00:05 UTC → 16 July 03:15 UTC: 2 whole days.
    let report = |args: &[&str]| -> Value {
        let mut all = vec!["--clock", "2025-07-16T04:00:00Z", "report", "--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&cli.ok(&all)).unwrap()
    };
    let july = report(&["--from", "2025-07-01", "--to", "2025-07-31"]);
    let total = &july["total"];
    assert_eq!(
        (total["sent"].as_i64(), total["converted"].as_i64()),
        (Some(1), Some(1)),
        "{total}"
    );
    assert_eq!(total["conversion_rate"], 1.0);
    assert_eq!(total["median_days_to_pay"], 2.0);
    assert_eq!(total["amount_paid"], 16_800);
    assert_eq!(total["arrears_1"], 0, "paid through July now: {total}");
    let h1: Vec<&Value> = july["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["converted"] == 1)
        .collect();
    assert_eq!(h1.len(), 1, "{july}");
    assert_eq!(
        (h1[0]["rule"].as_str(), h1[0]["channel"].as_str()),
        (Some("h-1"), Some("sms"))
    );
    let metro = july["kelurahan"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["code"] == "18.72.01.1001")
        .unwrap();
    assert_eq!(
        (metro["converted"].as_i64(), metro["amount_paid"].as_i64()),
        (Some(1), Some(16_800))
    );

    // August holds no reminder: nothing converted there.
    let august = report(&["--from", "2025-08-01", "--to", "2025-08-31"]);
    assert_eq!(
        (august["total"]["sent"].as_i64(), august["total"]["converted"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(august["total"]["median_days_to_pay"], Value::Null);
}
