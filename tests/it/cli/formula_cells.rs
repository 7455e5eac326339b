//! Cells a spreadsheet would run as formulas (`=`, `+`, `-`, `@`, tab, CR
//! first) are written with a `'` in front, as OWASP's CSV injection
//! guidance says: in `report --format csv` and in the `--skip-invalid`
//! rejected-rows file, which imports back as it was.

use super::Cli;
use crate::helpers::*;

both_backends!(formula_cells_are_defused_in_csv_output);

const FORMULA_NAME: &str = "=HYPERLINK(\"http://contoh.example\",\"klik\")";

async fn formula_cells_are_defused_in_csv_output(db: &TestDb) {
    db.store
        .upsert_kelurahan(&[kelurahan("18.72.01.1001", "=cmd|' /C calc'!A0")])
        .await
        .unwrap();
    let cli = Cli::new(db);
    let file = cli.dir.path().join("peserta.csv");
    std::fs::write(
        &file,
        format!(
            "nik,name,phone,kelurahan,segment,monthly_amount\n\
             123,\"{}\",+62 812-3456-7801,18.72.01.1001,bpu,16800\n\
             1872014506880001,Budi Santoso,081234567802,18.72.01.1001,bpu,16800\n",
            FORMULA_NAME.replace('"', "\"\"")
        ),
    )
    .unwrap();
    let out = cli.ok(&[
        "--clock",
        "2025-07-10T03:00:00Z",
        "import",
        "participants",
        "--skip-invalid",
        file.to_str().unwrap(),
    ]);
    assert!(out.contains("rejected"), "{out}");
    let rejected_path = cli.dir.path().join("peserta.rejected.csv");
    let rejected = std::fs::read_to_string(&rejected_path).unwrap();
    let mut reader = csv::Reader::from_reader(rejected.trim_start_matches('\u{feff}').as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[1], format!("'{FORMULA_NAME}"), "{rejected}");
    assert_eq!(&row[2], "'+62 812-3456-7801", "{rejected}");
    assert!(row[row.len() - 1].starts_with("nik"), "{rejected}");

    // Fixed and imported again, the quote is gone.
    let fixed = rejected
        .replacen("123,", "1872011205900009,", 1)
        .replace(&format!("'{}", FORMULA_NAME.replace('"', "\"\"")), "Siti Rahayu");
    std::fs::write(&rejected_path, fixed).unwrap();
    cli.ok(&[
        "--clock",
        "2025-07-10T03:00:00Z",
        "import",
        "participants",
        rejected_path.to_str().unwrap(),
    ]);
    let stored = db
        .store
        .participants_by_nik(&[pengingat::domain::Nik::parse("1872011205900009").unwrap()])
        .await
        .unwrap();
    assert_eq!(stored[0].phone.as_deref(), Some("+6281234567801"));

    let report = cli.ok(&["--clock", "2025-07-20T03:00:00Z", "report", "--format", "csv"]);
    assert!(report.contains(",'=cmd|' /C calc'!A0,"), "{report}");
    assert!(!report.contains(",=cmd"), "{report}");
}
