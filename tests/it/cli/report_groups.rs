//! `pengingat report --group-by` through the real binary: provinces in the
//! CSV add up to the total, and a level it does not know is refused naming
//! the ones it does.

use super::Cli;
use crate::helpers::*;

both_backends!(report_per_province_as_csv);

async fn report_per_province_as_csv(db: &TestDb) {
    db.store
        .upsert_kelurahan(&[kelurahan("18.72.01.1001", "Metro"), {
            let mut k = kelurahan("51.71.01.1001", "Dangin Puri");
            k.provinsi = "Bali".into();
            k
        }])
        .await
        .unwrap();
    let mut people: Vec<_> = (1..=5).map(|i| participant(i, "2026-07")).collect();
    for (i, p) in people.iter_mut().enumerate().skip(3) {
        p.paid_through = month(if i == 3 { "2026-07" } else { "2026-01" });
        p.kelurahan = pengingat::domain::KelurahanCode::parse("51.71.01.1001").unwrap();
    }
    db.store
        .upsert_participants(&people, at("2026-07-01T00:00:00Z"), &pengingat::store::NoProgress)
        .await
        .unwrap();
    let cli = Cli::new(db);
    let csv = cli.ok(&[
        "--clock",
        "2026-07-15T03:00:00Z",
        "report",
        "--group-by",
        "provinsi",
        "--format",
        "csv",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("tingkat,kode,provinsi,"), "{csv}");
    assert!(
        lines[1].starts_with("provinsi,18,Provinsi Uji,,,3,3,0,1.0000,"),
        "{csv}"
    );
    assert!(lines[2].starts_with("provinsi,51,Bali,,,2,1,1,0.5000,"), "{csv}");
    assert!(lines[3].starts_with("total,,Total,,,5,4,1,0.8000,"), "{csv}");
    let out = cli.run(&["report", "--group-by", "kota"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--group-by") && err.contains("kabupaten"), "{err}");
}
