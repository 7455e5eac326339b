//! The command line as an operator uses it: the real binary, a config file
//! pointing at the test database.

mod credentials;
mod formula_cells;
mod kelurahan_holidays;
mod preview;
mod report;
mod report_groups;
mod retention;
mod secrets_in_logs;
mod segments;
mod snapshot;

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::helpers::*;

both_backends!(
    seed_metro_then_status_adds_up_to_the_pilot,
    preview_counts_and_writes_nothing_then_scan_once_creates,
    import_reports_bad_rows_and_changes_nothing,
    import_over_the_size_limit_is_refused_naming_file_size_and_limit,
);

/// A config file for `db` in a temporary directory, with the shipped schedules.
struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new(db: &TestDb) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let schedules = std::fs::canonicalize("config/schedules.toml").unwrap();
        std::fs::write(
            dir.path().join("pengingat.toml"),
            format!(
                "[database]\nurl = \"{}\"\n[schedules]\npath = \"{}\"\n",
                db.url,
                schedules.display()
            ),
        )
        .unwrap();
        Self { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("pengingat.toml")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_pengingat"))
            .arg("--config")
            .arg(self.config())
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run pengingat")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

async fn seed_metro_then_status_adds_up_to_the_pilot(db: &TestDb) {
    let cli = Cli::new(db);
    let seeded = cli.ok(&[
        "--clock",
        "2026-07-01T03:00:00Z",
        "seed",
        "--population",
        "metro",
        "--seed",
        "3",
    ]);
    assert!(
        seeded.contains("seeded 7446 participants (4082 BPU, 3364 PU) in 22 kelurahan"),
        "{seeded}"
    );
    let csv = cli.ok(&["status", "--at", "2026-07-20", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("kode,kelurahan,peserta_bpu,aktif,nonaktif,menunggak_1,menunggak_2,menunggak_3_lebih")
    );
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), 23, "22 kelurahan and the total");
    let n = |r: &Vec<String>, i: usize| r[i].parse::<i64>().unwrap();
    let bpu: i64 = rows[..22].iter().map(|r| n(r, 2)).sum();
    assert_eq!(bpu, 4_082);
    assert_eq!(n(&rows[22], 2), 4_082);
    for r in &rows {
        assert_eq!(n(r, 3) + n(r, 4), n(r, 2), "active + non-active = BPU in {}", r[0]);
        assert!(n(r, 4) <= n(r, 7), "non-active ones are 3+ months behind in {}", r[0]);
    }
    let table = cli.ok(&["status", "--at", "2026-07-20", "--kelurahan", "18.72.01.1005"]);
    assert!(table.contains("Yosomulyo"), "{table}");
    assert!(
        table.lines().all(|l| l.chars().count() <= 80),
        "fits 80 columns:\n{table}"
    );
}

async fn preview_counts_and_writes_nothing_then_scan_once_creates(db: &TestDb) {
    load_test_kelurahan(db).await;
    let rows: Vec<_> = (1..=7).map(|i| participant(i, "2025-06")).collect();
    db.store
        .upsert_participants(&rows, at("2025-07-01T00:00:00Z"), &pengingat::store::NoProgress)
        .await
        .unwrap();
    let cli = Cli::new(db);
    let preview = cli.ok(&["preview", "--date", "2025-07-08"]);
    assert!(preview.contains("Total: 7 pengingat"), "{preview}");
    assert!(preview.contains("h-7"), "{preview}");
    assert!(
        preview.contains("Peserta 1"),
        "a rendered sample names the participant:\n{preview}"
    );
    assert!(
        db.store.list_reminders(None, 10).await.unwrap().is_empty(),
        "preview writes nothing"
    );

    let scanned = cli.ok(&["--clock", "2025-07-08T02:05:00Z", "scan", "--once"]);
    assert!(scanned.contains("scan: 7 created"), "{scanned}");
    assert_eq!(db.store.list_reminders(None, 10).await.unwrap().len(), 7);
    let again = cli.ok(&["--clock", "2025-07-08T02:20:00Z", "scan", "--once"]);
    assert!(again.contains("scan: 0 created"), "{again}");
}

async fn import_reports_bad_rows_and_changes_nothing(db: &TestDb) {
    let cli = Cli::new(db);
    cli.ok(&["import", "kelurahan", "assets/wilayah/metro_kelurahan.csv"]);
    let file = cli.dir.path().join("peserta.csv");
    std::fs::write(
        &file,
        "nik,name,phone,kelurahan,segment,monthly_amount\n\
         1872015207850001,Siti Aminah,0812-3456-7890,18.72.01.1005,bpu,16800\n\
         1872015207850002,Budi,021-555,18.72.01.1005,bpu,16800\n",
    )
    .unwrap();
    let out = cli.run(&["import", "participants", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3, column phone"), "{err}");
    assert_eq!(db.store.segment_counts().await.unwrap().bpu, 0, "nothing imported");
    let ok = cli.ok(&["import", "participants", file.to_str().unwrap(), "--skip-invalid"]);
    assert!(ok.contains("1 inserted"), "{ok}");
    assert!(cli.dir.path().join("peserta.rejected.csv").exists());
}

/// `check-config` names the file, line and key of a problem and exits 2.
#[test]
fn check_config_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pengingat.toml");
    std::fs::write(&config, "[database]\nurl = \"sqlite://x.db\"\n\n[due_date]\ndya = 15\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pengingat"))
        .arg("--config")
        .arg(&config)
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pengingat.toml, line 5") && err.contains("dya"), "{err}");

    // An unreachable database names itself and fails.
    std::fs::write(
        &config,
        "[database]\nurl = \"postgres://nobody@127.0.0.1:9/none\"\ntimeout_secs = 1\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pengingat"))
        .arg("--config")
        .arg(&config)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to the database at postgres://nobody@127.0.0.1:9/none"),
        "{err}"
    );

    // A valid configuration: the next digest times follow the `[digest]`
    // table, in its own time zone, with the ISO week each one covers.
    let shipped = std::fs::read_to_string("config/schedules.toml").unwrap();
    let block = "cron = [\"0 0 7 * * MON\"]\n# The IANA time zone the expressions and the week are read in. \
                 Default: \"Asia/Jakarta\" (WIB).\ntime_zone = \"Asia/Jakarta\"\n";
    assert!(shipped.contains(block), "the shipped [digest] table");
    let templates = std::fs::canonicalize("config/templates").unwrap();
    std::os::unix::fs::symlink(templates, dir.path().join("templates")).unwrap();
    let check = |schedules: &str| {
        let path = dir.path().join("schedules.toml");
        std::fs::write(&path, schedules).unwrap();
        check_config(dir.path(), &path, "")
    };
    // Fridays 16:30 WITA: Friday 3 July 2026 is in ISO week 27.
    let text = check(&shipped.replace(block, "cron = [\"0 30 16 * * FRI\"]\ntime_zone = \"Asia/Makassar\"\n"));
    let digests: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("next digests"))
        .take(4)
        .collect();
    assert_eq!(
        digests,
        [
            "next digests (Asia/Makassar):",
            "  2026-07-03 16:30:00 WITA  week 2026-W27",
            "  2026-07-10 16:30:00 WITA  week 2026-W28",
            "  2026-07-17 16:30:00 WITA  week 2026-W29",
        ],
        "{text}"
    );
    assert!(text.contains("[digest] is set but e-mail is disabled"), "{text}");
    assert!(text.contains("next scans:\n  2026-07-01 10:15:00 WIB"), "{text}");
    // Without the table there is no digest.
    let start = shipped.find("[digest]\n").unwrap();
    let end = shipped.find(block).unwrap() + block.len();
    let text = check(&format!("{}{}", &shipped[..start], &shipped[end..]));
    assert!(text.contains("next digests:  none (no [digest] table)"), "{text}");
    assert!(!text.contains("e-mail is disabled"), "{text}");
}

both_backends!(send_test_and_opt_out_from_the_command_line);

async fn send_test_and_opt_out_from_the_command_line(db: &TestDb) {
    let mock = crate::mock_gateway::Gateway::start(crate::channels::mock_config()).await;
    let cli = Cli::new(db);
    let secrets = crate::channels::Secrets::new();
    let password = secrets.file("kannel", "kannel");
    let mut config = std::fs::read_to_string(cli.config()).unwrap();
    config.push_str(&format!(
        "[[sms.gateway]]\nname = \"uji\"\npreset = \"kannel\"\nbase_url = \"{}\"\nusername = \"kannel\"\n\
         password_file = \"{}\"\nsender = \"BPJSTK\"\n",
        mock.base,
        password.display()
    ));
    std::fs::write(cli.config(), config).unwrap();
    let sent = cli.ok(&["send-test", "--channel", "sms", "--to", "0812-3456-7890"]);
    assert!(sent.contains("accepted by gateway uji"), "{sent}");
    let messages = mock.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, "+6281234567890");
    let refused = cli.run(&["send-test", "--channel", "sms", "--to", "021-555"]);
    assert!(!refused.status.success());

    load_test_kelurahan(db).await;
    db.store
        .upsert_participants(
            &[participant(1, "2025-06")],
            at("2025-07-01T00:00:00Z"),
            &pengingat::store::NoProgress,
        )
        .await
        .unwrap();
    let out = cli.ok(&["participant", "opt-out", "1872011205900001"]);
    assert!(out.contains("opted out"), "{out}");
    assert!(!out.contains("1872011205900001"), "the NIK is masked: {out}");
    let stored = db
        .store
        .participants_by_nik(&[pengingat::domain::Nik::parse("1872011205900001").unwrap()])
        .await
        .unwrap();
    assert!(stored[0].opted_out);
    cli.ok(&["participant", "opt-in", "1872011205900001"]);
    let unknown = cli.run(&["participant", "opt-out", "1872011205900099"]);
    assert!(!unknown.status.success());
    mock.stop().await;
}

/// Two notices around the day cover ends, with the months-in-arrears
/// filters written as numbers that only suit a threshold of 3.
const LITERAL_THRESHOLD_RULES: &str = r#"
[[rule]]
name = "last-chance"
anchor = "nonactive"
offset_days = -3
channels = ["sms"]
template = "t"
max_months_in_arrears = 2

[[rule]]
name = "nonaktif"
anchor = "nonactive"
offset_days = 0
channels = ["sms"]
template = "t"
min_months_in_arrears = 3

[template.t]
text = "Yth. {name}, iuran {month} belum dibayar."
"#;

/// `check-config` warns of a rule that can never fire under the current
/// `standing.nonactive_after_months`, naming the rule, the filter and the
/// setting; the shipped schedules, whose filters follow the setting, draw
/// no such warning under any threshold.
#[test]
fn check_config_warns_of_rules_that_can_never_fire() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::canonicalize("config/schedules.toml").unwrap();
    let literal = dir.path().join("literal.toml");
    std::fs::write(&literal, LITERAL_THRESHOLD_RULES).unwrap();
    let check = |schedules: &std::path::Path, threshold: u32| {
        let standing = format!("[standing]\nnonactive_after_months = {threshold}\n");
        check_config(dir.path(), schedules, &standing)
            .lines()
            .filter(|l| l.starts_with("warning:") && l.contains("can never fire"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    for threshold in [1, 2, 3, 4, 6] {
        assert_eq!(
            check(&shipped, threshold),
            Vec::<String>::new(),
            "threshold {threshold}"
        );
    }
    assert_eq!(check(&literal, 3), Vec::<String>::new());
    let two = check(&literal, 2);
    assert_eq!(two.len(), 1, "{two:?}");
    for needle in [
        "\"nonaktif\"",
        "min_months_in_arrears = 3",
        "standing.nonactive_after_months = 2",
    ] {
        assert!(two[0].contains(needle), "{needle}: {}", two[0]);
    }
    let four = check(&literal, 4);
    assert_eq!(four.len(), 1, "{four:?}");
    for needle in [
        "\"last-chance\"",
        "max_months_in_arrears = 2",
        "standing.nonactive_after_months = 4",
    ] {
        assert!(four[0].contains(needle), "{needle}: {}", four[0]);
    }
}

/// The unit's `TimeoutStopSec` is the one check-config measures the stop
/// deadline against, the shipped deadline fits in it, and a deadline that
/// does not is refused with its key.
#[test]
fn the_stop_deadline_fits_the_unit() {
    use pengingat::config::delivery::UNIT_STOP_TIMEOUT_SECS;
    let unit = std::fs::read_to_string("systemd/pengingat.service").unwrap();
    assert!(
        unit.contains(&format!("\nTimeoutStopSec={UNIT_STOP_TIMEOUT_SECS}s\n")),
        "{unit}"
    );
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string("config/pengingat.toml").unwrap();
    let config = dir.path().join("pengingat.toml");
    std::fs::write(&config, &shipped).unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_pengingat"))
            .arg("--config")
            .arg(&config)
            .arg("check-config")
            .env(
                "PENGINGAT__DATABASE__URL",
                format!("sqlite://{}", dir.path().join("p.db").display()),
            )
            .env(
                "PENGINGAT__SCHEDULES__PATH",
                std::fs::canonicalize("config/schedules.toml").unwrap(),
            )
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("stop_deadline_secs"), "{err}");
    std::fs::write(
        &config,
        shipped.replace("stop_deadline_secs = 20", "stop_deadline_secs = 28"),
    )
    .unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("delivery.stop_deadline_secs") && err.contains("TimeoutStopSec"),
        "{err}"
    );
}

/// `check-config` at 1 July 2026 with pengingat.toml in `dir` (a SQLite
/// database there, `schedules`, and `more` tables); its standard output,
/// once it succeeded.
fn check_config(dir: &std::path::Path, schedules: &std::path::Path, more: &str) -> String {
    let config = dir.join("pengingat.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"sqlite://{}\"\n[schedules]\npath = \"{}\"\n{more}",
            dir.join("p.db").display(),
            schedules.display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pengingat"))
        .arg("--config")
        .arg(&config)
        .args(["--clock", "2026-07-01T03:00:00Z", "check-config"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

async fn import_over_the_size_limit_is_refused_naming_file_size_and_limit(db: &TestDb) {
    let cli = Cli::new(db);
    let mut config = std::fs::read_to_string(cli.config()).unwrap();
    config.push_str("[import]\nmax_file_mb = 1\n");
    std::fs::write(cli.config(), config).unwrap();
    let path = cli.dir.path().join("besar.csv");
    let mut csv = String::from("nik,name,kelurahan,segment,monthly_amount\n");
    while csv.len() <= 1024 * 1024 {
        csv.push_str("1872011205900001,Peserta,18.72.01.1001,bpu,16800\n");
    }
    std::fs::write(&path, &csv).unwrap();
    let out = cli.run(&["import", "participants", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in ["besar.csv", &csv.len().to_string(), "1048576"] {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    }
    let counts = db.store.segment_counts().await.unwrap();
    assert_eq!(counts.bpu + counts.pu, 0);
}
