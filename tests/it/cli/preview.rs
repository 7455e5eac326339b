//! `pengingat preview --format json` through the real binary says what the
//! table says: the same entries per kelurahan, rule and channel, the same
//! total and the same sample messages.

use std::collections::BTreeSet;

use pengingat::domain::{EmailAddress, KelurahanCode, PreferredChannel};
use serde_json::Value;

use super::Cli;
use crate::helpers::*;

both_backends!(preview_as_json_matches_the_table);

/// (code, rule, channel, participants) of each entry.
type Entry = (String, String, String, i64);

/// A week after the July due date, when h+7 reminds by SMS and e-mail: in
/// Metro four participants by SMS and two by both channels, in Yosomulyo
/// three by SMS.
async fn preview_as_json_matches_the_table(db: &TestDb) {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (1..=9)
        .map(|i| {
            let mut p = participant(i, "2025-06");
            if (5..=6).contains(&i) {
                p.email = Some(EmailAddress::parse(&format!("peserta{i}@example.id")).unwrap());
                p.preferred_channel = PreferredChannel::Both;
            }
            if i >= 7 {
                p.kelurahan = KelurahanCode::parse("18.72.01.1005").unwrap();
            }
            p
        })
        .collect();
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &pengingat::store::NoProgress)
        .await
        .unwrap();
    let cli = Cli::new(db);
    let args = ["preview", "--date", "2025-07-22", "--samples", "1"];
    let table = cli.ok(&[&args[..], &["--format", "table"]].concat());
    let json: Value = serde_json::from_str(&cli.ok(&[&args[..], &["--format", "json"]].concat())).unwrap();

    let expected: BTreeSet<Entry> = [
        ("18.72.01.1001", "email", 2),
        ("18.72.01.1001", "sms", 6),
        ("18.72.01.1005", "sms", 3),
    ]
    .into_iter()
    .map(|(code, channel, n)| (code.to_string(), "h+7".to_string(), channel.to_string(), n))
    .collect();
    assert_eq!(table_entries(&table), expected, "{table}");
    assert_eq!(json_entries(&json), expected, "{json:#}");
    assert_eq!(json["date"], "2025-07-22");
    assert_eq!(json["total"], 11);
    assert!(table.contains("Total: 11 pengingat"), "{table}");
    let metro = &json["entries"][0];
    assert_eq!(metro["kelurahan"], "Metro", "{json:#}");

    // One sample per rule and channel, each the very text the table shows.
    let samples = json["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 2, "{json:#}");
    assert_eq!(table.matches("\n[h+7 ").count(), 2, "{table}");
    for s in samples {
        let text = s["text"].as_str().unwrap();
        let name = s["participant"].as_str().unwrap();
        assert!(name.starts_with("Peserta "), "{s}");
        assert!(text.contains(name), "the message greets its participant: {s}");
        assert!(table.contains(text), "the table shows the same text:\n{table}\n{s}");
        let heading = format!(
            "[h+7 {}] {name} ({}, {} segmen {})",
            s["channel"].as_str().unwrap(),
            s["kelurahan"].as_str().unwrap(),
            s["segments"],
            s["encoding"].as_str().unwrap()
        );
        assert!(table.contains(&heading), "{heading} in:\n{table}");
    }
    assert!(
        db.store.list_reminders(None, 10).await.unwrap().is_empty(),
        "preview writes nothing"
    );
}

/// The rows between the header and the total line.
fn table_entries(table: &str) -> BTreeSet<Entry> {
    table
        .lines()
        .skip_while(|l| !l.starts_with("Kode"))
        .skip(1)
        .take_while(|l| !l.starts_with("Total:"))
        .filter(|l| !l.trim().is_empty() && !l.starts_with('-'))
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            let n = cells.len();
            assert!(n >= 5, "a row of five cells: {l:?}");
            let count = cells[n - 1].parse().unwrap_or_else(|e| panic!("{l:?}: {e}"));
            (
                cells[0].to_string(),
                cells[n - 3].to_string(),
                cells[n - 2].to_string(),
                count,
            )
        })
        .collect()
}

fn json_entries(json: &Value) -> BTreeSet<Entry> {
    json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kelurahan_code"].as_str().unwrap().to_string(),
                e["rule"].as_str().unwrap().to_string(),
                e["channel"].as_str().unwrap().to_string(),
                e["participants"].as_i64().unwrap(),
            )
        })
        .collect()
}
