//! `[digest]`: optional, validated like `[scan]`, problems named with their line.

use super::*;

#[test]
fn no_digest_table_means_no_digest() {
    assert!(parse(BASE).unwrap().digest().is_none());
}

#[test]
fn the_shipped_digest_goes_out_on_monday_mornings_in_wib() {
    let schedules = Schedules::load(&shipped_path()).unwrap();
    let digest = schedules.digest().expect("the shipped file has [digest]");
    assert_eq!(digest.time_zone, chrono_tz::Asia::Jakarta);
    let after: DateTime<Utc> = "2025-07-09T00:00:00Z".parse().unwrap();
    // Monday 14 July 2025, 07:00 WIB.
    assert_eq!(
        digest.next_times(after, 1),
        ["2025-07-14T00:00:00Z".parse::<DateTime<Utc>>().unwrap()]
    );
}

#[test]
fn the_time_zone_defaults_to_jakarta() {
    let s = parse(&format!("{BASE}\n[digest]\ncron = [\"0 0 8 * * FRI\"]\n")).unwrap();
    let digest = s.digest().unwrap();
    assert_eq!(digest.time_zone, chrono_tz::Asia::Jakarta);
    assert_eq!(digest.cron[0].as_str(), "0 0 8 * * FRI");
    let s = parse(&format!(
        "{BASE}\n[digest]\ncron = [\"0 0 8 * * FRI\"]\ntime_zone = \"Asia/Makassar\"\n"
    ))
    .unwrap();
    assert_eq!(s.digest().unwrap().time_zone, chrono_tz::Asia::Makassar);
}

#[test]
fn a_bad_digest_cron_is_refused_with_its_line() {
    let text = format!("{BASE}\n[digest]\ncron = [\n  \"0 0 7 * * MON\",\n  \"0 7 * * MON\",\n]\n");
    let kind = problem_at(&text, 14, "digest.cron[1]");
    assert_eq!(
        kind,
        ProblemKind::InvalidCron(CronExprError::MissingSeconds("0 7 * * MON".into()))
    );
    let kind = problem_at(
        &format!("{BASE}\n[digest]\ncron = [\"0 0 25 * * *\"]\n"),
        12,
        "digest.cron[0]",
    );
    assert!(
        matches!(kind, ProblemKind::InvalidCron(CronExprError::Invalid { .. })),
        "{kind:?}"
    );
}

#[test]
fn an_empty_digest_cron_and_a_bad_time_zone_are_refused() {
    let kind = problem_at(&format!("{BASE}\n[digest]\ncron = []\n"), 12, "digest.cron");
    assert_eq!(kind, ProblemKind::NoDigestCron);
    let text = format!("{BASE}\n[digest]\ncron = [\"0 0 7 * * MON\"]\ntime_zone = \"WIB\"\n");
    let kind = problem_at(&text, 13, "digest.time_zone");
    assert_eq!(kind, ProblemKind::BadTimeZone("WIB".into()));
}

#[test]
fn a_digest_without_cron_or_with_an_unknown_key_is_a_toml_error_with_its_line() {
    let (line, message) = toml_error(&format!("{BASE}\n[digest]\ntime_zone = \"Asia/Jakarta\"\n"));
    assert_eq!(line, 11);
    assert!(message.contains("missing field `cron`"), "{message}");
    let (line, message) = toml_error(&format!("{BASE}\n[digest]\ncron = [\"0 0 7 * * MON\"]\nhari = 1\n"));
    assert_eq!(line, 13);
    assert!(message.contains("unknown field `hari`"), "{message}");
}
