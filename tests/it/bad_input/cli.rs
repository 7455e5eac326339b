//! The command line: bad arguments are refused with a message naming the
//! argument and its value, a non-zero exit, and no change to the database.

use std::process::Command;

use super::{Case, assert_count, changed, snapshot, unnamed, words};
use crate::helpers::*;

both_backends!(bad_arguments_are_refused);

fn case(name: &'static str, args: &[&'static str], needles: &[&str]) -> (Case, Vec<&'static str>) {
    (
        Case {
            name,
            needles: words(needles),
        },
        args.to_vec(),
    )
}

fn cases() -> Vec<(Case, Vec<&'static str>)> {
    vec![
        case(
            "status_kelurahan_unknown",
            &["status", "--kelurahan", "18.72.09.9999"],
            &["--kelurahan", "18.72.09.9999", "no kelurahan"],
        ),
        case(
            "status_kabupaten_unknown",
            &["status", "--kelurahan", "18.99"],
            &["--kelurahan", "18.99", "no kelurahan"],
        ),
        case(
            "status_kelurahan_percent",
            &["status", "--kelurahan", "%"],
            &["--kelurahan", "\"%\""],
        ),
        case(
            "status_kelurahan_underscore",
            &["status", "--kelurahan", "18.72.0_"],
            &["--kelurahan", "\"18.72.0_\""],
        ),
        case(
            "status_kelurahan_province_unknown",
            &["status", "--kelurahan", "99"],
            &["--kelurahan", "\"99\"", "province"],
        ),
        case(
            "report_kelurahan_unknown",
            &["report", "--kelurahan", "18.72.09.9999"],
            &["--kelurahan", "18.72.09.9999"],
        ),
        case(
            "report_kelurahan_underscore",
            &["report", "--kelurahan", "18.72.0_"],
            &["--kelurahan", "\"18.72.0_\""],
        ),
        case(
            "preview_kelurahan_unknown",
            &["preview", "--kelurahan", "18.99"],
            &["--kelurahan", "18.99"],
        ),
        case(
            "preview_kelurahan_percent",
            &["preview", "--kelurahan", "%"],
            &["--kelurahan", "\"%\""],
        ),
        case(
            "status_at_in_words",
            &["status", "--at", "kemarin"],
            &["--at", "kemarin"],
        ),
        case(
            "report_from_after_to",
            &["report", "--from", "2025-08-01", "--to", "2025-07-01"],
            &["--from 2025-08-01", "--to 2025-07-01"],
        ),
        case(
            "opt_out_not_a_nik",
            &["participant", "opt-out", "123"],
            &["\"123\"", "NIK"],
        ),
        case(
            "import_missing_file",
            &["import", "participants", "/nonexistent/tidak-ada.csv"],
            &["/nonexistent/tidak-ada.csv"],
        ),
        case(
            "import_format_xml",
            &["import", "participants", "--format", "xml", "/nonexistent/p.csv"],
            &["xml"],
        ),
    ]
}

async fn bad_arguments_are_refused(db: &TestDb) {
    crate::payments::reminded_participant(db).await;
    let dir = tempfile::tempdir().unwrap();
    let schedules = std::fs::canonicalize("config/schedules.toml").unwrap();
    let config = dir.path().join("pengingat.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{}\"\n[schedules]\npath = \"{}\"\n",
            db.url,
            schedules.display()
        ),
    )
    .unwrap();
    let cases = cases();
    let names: Vec<Case> = cases
        .iter()
        .map(|(c, _)| Case {
            name: c.name,
            needles: Vec::new(),
        })
        .collect();
    assert_count(&names, 14);
    let mut before = snapshot(db).await;
    let mut failures = Vec::new();
    for (case, args) in &cases {
        let out = Command::new(env!("CARGO_BIN_EXE_pengingat"))
            .arg("--config")
            .arg(&config)
            .args(["--clock", "2025-07-16T04:00:00Z"])
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            failures.push(format!("case {:?} succeeded:\n{said}", case.name));
        }
        failures.extend(unnamed(case, &said));
        if let Some(change) = changed(case, db, &before).await {
            failures.push(change);
            before = snapshot(db).await;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
