//! The configuration file, through `pengingat check-config` (the unit's
//! `ExecStartPre`): every bad value is refused naming its key and value,
//! including the secrets `run` reads, and the database is not touched.

use std::process::Command;

use super::{Case, assert_count, changed, snapshot, unnamed, words};
use crate::helpers::*;

both_backends!(bad_configuration_is_refused_by_check_config);

fn case(name: &'static str, toml: String, needles: &[&str]) -> (Case, String) {
    (
        Case {
            name,
            needles: words(needles),
        },
        toml,
    )
}

fn cases(secrets: &std::path::Path) -> Vec<(Case, String)> {
    let secret = |name: &str, value: &str| {
        let path = secrets.join(name);
        std::fs::write(&path, format!("{value}\n")).unwrap();
        path.display().to_string()
    };
    let kannel = |token_file: &str| {
        format!(
            "[[sms.gateway]]\nname = \"uji\"\npreset = \"kannel\"\nbase_url = \"http://127.0.0.1:9\"\n\
             username = \"kannel\"\npassword_file = \"{}\"\nreceipt_token_file = \"{token_file}\"\n",
            secret("kannel-password", "sandi")
        )
    };
    vec![
        case("toml_syntax", "[due_date\nday = 15\n".into(), &["line 5"]),
        case("toml_unknown_key", "[http]\nbnid = \"127.0.0.1:8080\"\n".into(), &["line 6", "bnid"]),
        case("toml_unknown_section", "[dasbor]\ntoken_env = \"X\"\n".into(), &["line 5", "dasbor"]),
        case("toml_wrong_type", "[due_date]\nday = \"fifteen\"\n".into(), &["line 6", "fifteen"]),
        case("toml_holiday_february_30", "[due_date]\nholidays = [\"2026-02-30\"]\n".into(), &["line 6", "due_date.holidays", "\"2026-02-30\""]),
        case("toml_holiday_in_words", "[due_date]\nholidays = [\"2026-01-01\", \"lebaran\"]\n".into(), &["due_date.holidays", "\"lebaran\""]),
        case("toml_due_day_40", "[due_date]\nday = 40\n".into(), &["due_date.day", "40"]),
        case("toml_weekday_unknown", "[due_date]\nnon_working_weekdays = [\"caturday\"]\n".into(), &["due_date.non_working_weekdays", "caturday"]),
        case("toml_nonactive_zero", "[standing]\nnonactive_after_months = 0\n".into(), &["standing.nonactive_after_months", "0"]),
        case("toml_paid_ahead_100", "[standing]\nmax_paid_ahead_months = 100\n".into(), &["standing.max_paid_ahead_months", "100"]),
        case("toml_earliest_month_13", "[standing]\nearliest_paid_through = \"2015-13\"\n".into(), &["line 6", "2015-13"]),
        case("toml_bind_nowhere", "[http]\nbind = \"nowhere\"\n".into(), &["http.bind", "nowhere"]),
        case("toml_header_timeout_zero", "[http]\nheader_read_timeout_secs = 0\n".into(), &["http.header_read_timeout_secs", "0"]),
        case("toml_request_timeout_huge", "[http]\nrequest_timeout_secs = 86400\n".into(), &["http.request_timeout_secs", "86400"]),
        case("toml_no_connections", "[http]\nmax_connections = 0\n".into(), &["http.max_connections", "0"]),
        case("toml_inbox_limit_zero", "[payments]\ninbox_max_file_mb = 0\n".into(), &["payments.inbox_max_file_mb", "0"]),
        case("toml_retention_two_months", "[retention]\nmonths = 2\n".into(), &["retention.months", "2", "at least 3"]),
        case("toml_inbox_poll_zero", "[payments]\ninbox_poll_secs = 0\n".into(), &["payments.inbox_poll_secs"]),
        case("toml_log_format_xml", "[log]\nformat = \"xml\"\n".into(), &["line 6", "xml"]),
        case("toml_payments_token_env_unset", "[payments]\ntoken_env = \"PENGINGAT_TEST_UNSET_PAYMENTS_TOKEN\"\n".into(), &["payments API token", "PENGINGAT_TEST_UNSET_PAYMENTS_TOKEN"]),
        case("toml_payments_token_file_missing", "[payments]\ntoken_file = \"/nonexistent/payments_token\"\n".into(), &["payments API token", "/nonexistent/payments_token"]),
        case("toml_dashboard_token_env_unset", "[dashboard]\ntoken_env = \"PENGINGAT_TEST_UNSET_DASHBOARD_TOKEN\"\n".into(), &["dashboard token", "PENGINGAT_TEST_UNSET_DASHBOARD_TOKEN"]),
        case("toml_kannel_token_with_percent", kannel(&secret("kannel-token", "ab%64cd")), &["uji", "Kannel receipt token"]),
        case("toml_kannel_token_file_missing", kannel("/nonexistent/kannel_token"), &["/nonexistent/kannel_token"]),
        case(
            "toml_gateway_named_twice",
            format!("{}{}", kannel(&secret("t1", "token1")), kannel(&secret("t2", "token2"))),
            &["sms.gateway.name", "uji"],
        ),
        case(
            "toml_smtp_password_file_missing",
            "[email]\nenabled = true\nhost = \"127.0.0.1\"\nfrom = \"pengingat@bpjs.example\"\nusername = \"u\"\npassword_file = \"/nonexistent/smtp_password\"\n".into(),
            &["/nonexistent/smtp_password"],
        ),
    ]
}

async fn bad_configuration_is_refused_by_check_config(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let schedules = std::fs::canonicalize("config/schedules.toml").unwrap();
    let cases = cases(dir.path());
    let names: Vec<Case> = cases
        .iter()
        .map(|(c, _)| Case {
            name: c.name,
            needles: Vec::new(),
        })
        .collect();
    assert_count(&names, 25);
    let mut before = snapshot(db).await;
    let mut failures = Vec::new();
    for (case, toml) in &cases {
        // Four lines before the case's own, so its first line is line 5.
        let text = format!(
            "[database]\nurl = \"{}\"\n[schedules]\npath = \"{}\"\n{toml}",
            db.url,
            schedules.display()
        );
        let path = dir.path().join("pengingat.toml");
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_pengingat"))
            .arg("--config")
            .arg(&path)
            .arg("check-config")
            .env("RUST_LOG", "warn")
            .env_remove("PENGINGAT_TEST_UNSET_PAYMENTS_TOKEN")
            .env_remove("PENGINGAT_TEST_UNSET_DASHBOARD_TOKEN")
            .env_remove("CREDENTIALS_DIRECTORY")
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() || said.contains("configuration is valid") {
            failures.push(format!("case {:?} passed check-config:\n{said}", case.name));
        }
        failures.extend(unnamed(case, &said));
        if let Some(change) = changed(case, db, &before).await {
            failures.push(change);
            before = snapshot(db).await;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
