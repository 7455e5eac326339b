//! A kelurahan's own holiday (`[kelurahan."…"] holidays` in schedules.toml)
//! moves its due date the same way for the scan's preview, for `status` and
//! for `report`, and nowhere else.

use serde_json::Value;

use super::Cli;
use crate::helpers::*;

both_backends!(a_kelurahan_holiday_moves_its_due_date_in_preview_status_and_report);

/// 15 July 2026 (a Wednesday) is a holiday in Yosomulyo only: July's
/// contribution falls due there on the 16th, in Metro on the 15th.
const YOSOMULYO_HOLIDAY: &str = "\n[kelurahan.\"18.72.01.1005\"]\nholidays = [\"2026-07-15\"]\n";

/// The shipped schedules with `extra` appended, written beside a copy of
/// their templates in `dir`.
fn schedules_with(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let shipped = std::fs::read_to_string("config/schedules.toml").unwrap();
    let templates = dir.join("templates");
    std::fs::create_dir(&templates).unwrap();
    for entry in std::fs::read_dir("config/templates").unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), templates.join(entry.file_name())).unwrap();
    }
    let path = dir.join("schedules.toml");
    std::fs::write(&path, shipped + extra).unwrap();
    path
}

/// `kode` → `menunggak_1` of a `status` CSV.
fn arrears_1(csv: &str) -> Vec<(String, String)> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_string(), cells[5].to_string())
        })
        .collect()
}

async fn a_kelurahan_holiday_moves_its_due_date_in_preview_status_and_report(db: &TestDb) {
    load_test_kelurahan(db).await;
    let mut yosomulyo = participant(1, "2026-06");
    yosomulyo.kelurahan = pengingat::domain::KelurahanCode::parse("18.72.01.1005").unwrap();
    let metro = participant(2, "2026-06");
    db.store
        .upsert_participants(
            &[yosomulyo, metro],
            at("2026-07-01T00:00:00Z"),
            &pengingat::store::NoProgress,
        )
        .await
        .unwrap();
    let cli = Cli::new(db);
    let schedules = schedules_with(cli.dir.path(), YOSOMULYO_HOLIDAY);
    std::fs::write(
        cli.config(),
        format!(
            "[database]\nurl = \"{}\"\n[schedules]\npath = \"{}\"\n",
            db.url,
            schedules.display()
        ),
    )
    .unwrap();

    // The scan's view: h0 (the due date) is the 16th in Yosomulyo.
    let preview: Value =
        serde_json::from_str(&cli.ok(&["preview", "--date", "2026-07-16", "--format", "json"])).unwrap();
    let h0: Vec<&str> = preview["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["rule"] == "h0")
        .map(|e| e["kelurahan_code"].as_str().unwrap())
        .collect();
    assert_eq!(h0, ["18.72.01.1005"], "{preview}");

    // Standing at the start of the 16th: July is past due in Metro only.
    let csv = cli.ok(&["status", "--at", "2026-07-16", "--format", "csv"]);
    let rows = arrears_1(&csv);
    assert!(rows.contains(&("18.72.01.1005".into(), "0".into())), "{csv}");
    assert!(rows.contains(&("18.72.01.1001".into(), "1".into())), "{csv}");
    let one = cli.ok(&[
        "status",
        "--at",
        "2026-07-16",
        "--kelurahan",
        "18.72.01.1005",
        "--format",
        "csv",
    ]);
    assert_eq!(
        arrears_1(&one)[0],
        ("18.72.01.1005".to_string(), "0".to_string()),
        "{one}"
    );

    // The report at 10:00 WIB on the 16th agrees.
    let report: Value =
        serde_json::from_str(&cli.ok(&["--clock", "2026-07-16T03:00:00Z", "report", "--format", "json"])).unwrap();
    let arrears = |code: &str| {
        report["kelurahan"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["code"] == code)
            .map(|k| k["arrears_1"].clone())
    };
    assert_eq!(arrears("18.72.01.1005"), Some(Value::from(0)), "{report}");
    assert_eq!(arrears("18.72.01.1001"), Some(Value::from(1)), "{report}");
}
