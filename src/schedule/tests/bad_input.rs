//! Every kind of bad input is refused with the file, the line and the key.

use super::*;

#[test]
fn invalid_toml_names_the_line() {
    let (line, _) = toml_error(&format!("{BASE}\n[[rule]\nname = \"x\"\n"));
    assert_eq!(line, 11);
    let err = parse("[scan]\ncron = [\"0 * * * * *\"\n").unwrap_err();
    assert!(err.to_string().starts_with("test.toml:2:"), "{err}");
}

#[test]
fn unknown_keys_are_errors_with_their_line() {
    let (line, message) = toml_error(&format!("{BASE}offset = 3\n"));
    assert_eq!(line, 10);
    assert!(message.contains("unknown field `offset`"), "{message}");
    let (line, message) = toml_error(&format!("[scan]\ncrons = []\n{BASE}"));
    assert_eq!(line, 2);
    assert!(message.contains("crons"), "{message}");
    let (line, message) = toml_error(&format!("{BASE}\n[quiet]\nstart = \"20:00\"\n"));
    assert_eq!(line, 11);
    assert!(message.contains("quiet"), "{message}");
    let (line, message) = toml_error(&BASE.replace("subject =", "subjek ="));
    assert_eq!(line, 3);
    assert!(message.contains("subjek"), "{message}");
    let (line, _) = toml_error(&format!("{BASE}\n[kelurahan.\"18.72.01.1005\"]\ndisable = true\n"));
    assert_eq!(line, 12);
}

#[test]
fn wrong_types_and_missing_keys_are_toml_errors() {
    let (line, message) = toml_error(&BASE.replace("offset_days = -7", "offset_days = \"-7\""));
    assert_eq!(line, 7);
    assert!(message.contains("invalid type"), "{message}");
    let (_, message) = toml_error(&BASE.replace("template = \"t\"\n", ""));
    assert!(message.contains("missing field `template`"), "{message}");
}

#[test]
fn a_five_field_cron_is_refused_with_its_line() {
    let text = format!("[scan]\ncron = [\"0 */15 * * * *\", \"*/15 * * * *\"]\n{BASE}");
    let kind = problem_at(&text, 2, "scan.cron[1]");
    assert_eq!(
        kind,
        ProblemKind::InvalidCron(CronExprError::MissingSeconds("*/15 * * * *".into()))
    );
}

#[test]
fn seven_fields_and_bad_values_are_refused() {
    let text = format!("[scan]\ncron = [\n  \"0 0 9 * * * 2025\",\n  \"0 0 25 * * *\",\n]\n{BASE}");
    let found = problems(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!((found[0].line, found[0].key.as_str()), (Some(3), "scan.cron[0]"));
    assert!(matches!(
        found[0].kind,
        ProblemKind::InvalidCron(CronExprError::YearField(_))
    ));
    assert_eq!((found[1].line, found[1].key.as_str()), (Some(4), "scan.cron[1]"));
    assert!(matches!(
        found[1].kind,
        ProblemKind::InvalidCron(CronExprError::Invalid { .. })
    ));
}

#[test]
fn an_empty_cron_list_is_refused() {
    let kind = problem_at(&format!("[scan]\ncron = []\n{BASE}"), 2, "scan.cron");
    assert_eq!(kind, ProblemKind::NoScanCron);
}

#[test]
fn a_bad_time_zone_is_refused() {
    let kind = problem_at(
        &format!("[scan]\ntime_zone = \"Asia/Metro\"\n{BASE}"),
        2,
        "scan.time_zone",
    );
    assert_eq!(kind, ProblemKind::BadTimeZone("Asia/Metro".into()));
}

#[test]
fn quiet_hours_covering_the_whole_day_are_refused() {
    let text = format!("{BASE}\n[quiet_hours]\nstart = \"08:00\"\nend = \"08:00\"\n");
    let kind = problem_at(&text, 11, "quiet_hours");
    assert_eq!(kind, ProblemKind::QuietHoursWholeDay("08:00".into()));
}

#[test]
fn a_bad_time_is_refused() {
    let text = format!("{BASE}\n[quiet_hours]\nstart = \"8 pm\"\nend = \"08:00\"\n");
    let kind = problem_at(&text, 12, "quiet_hours.start");
    assert!(matches!(kind, ProblemKind::BadTime(_)));
    let kind = problem_at(&format!("{BASE}send_time = \"9:00\"\n"), 10, "rule \"r\".send_time");
    assert!(matches!(kind, ProblemKind::BadTime(_)));
}

#[test]
fn a_send_window_reaching_into_quiet_hours_is_refused() {
    let text = format!("{BASE}\n[send_window]\nstart = \"07:00\"\nend = \"17:00\"\n");
    let kind = problem_at(&text, 11, "send_window");
    assert_eq!(
        kind,
        ProblemKind::WindowInQuietHours {
            window: "07:00-17:00".into(),
            quiet: "20:00-08:00".into(),
            allowed: "08:00-20:00".into()
        }
    );
    let text =
        format!("{BASE}\n[kelurahan.\"18.72.01.1005\"]\nsend_window = {{ start = \"09:00\", end = \"21:00\" }}\n");
    let kind = problem_at(&text, 12, "kelurahan \"18.72.01.1005\".send_window");
    assert!(matches!(kind, ProblemKind::WindowInQuietHours { .. }));
}

#[test]
fn an_offset_out_of_range_is_refused() {
    let kind = problem_at(&BASE.replace("-7", "-61"), 7, "rule \"r\".offset_days");
    assert_eq!(
        kind,
        ProblemKind::OffsetOutOfRange {
            value: -61,
            min: -60,
            max: 180
        }
    );
    assert!(parse(&BASE.replace("-7", "180")).is_ok());
    assert!(parse(&BASE.replace("-7", "181")).is_err());
}

#[test]
fn two_rules_with_one_name_are_refused() {
    let second = "\n[[rule]]\nname = \"r\"\noffset_days = 0\nchannels = [\"sms\"]\ntemplate = \"t\"\n";
    let kind = problem_at(&format!("{BASE}{second}"), 12, "rule \"r\".name");
    assert_eq!(
        kind,
        ProblemKind::DuplicateRule {
            name: "r".into(),
            first_line: 5
        }
    );
}

#[test]
fn bad_rule_names_are_refused() {
    let kind = problem_at(&BASE.replace("name = \"r\"", "name = \"H 7\""), 6, "rule \"H 7\".name");
    assert_eq!(kind, ProblemKind::BadRuleName("H 7".into()));
}

#[test]
fn an_unknown_template_is_refused() {
    let kind = problem_at(
        &BASE.replace("template = \"t\"", "template = \"h-7\""),
        9,
        "rule \"r\".template",
    );
    assert_eq!(
        kind,
        ProblemKind::UnknownTemplate {
            name: "h-7".into(),
            defined: "t".into()
        }
    );
}

#[test]
fn an_unknown_variable_in_an_inline_template_is_refused() {
    let kind = problem_at(&BASE.replace("{amount}.", "{bulan}."), 2, "template \"t\"");
    assert_eq!(
        kind,
        ProblemKind::Template {
            template: "t".into(),
            kind: TemplateErrorKind::UnknownVariable("bulan".into())
        }
    );
    // In a multi-line string, the line of the variable itself.
    let text = BASE.replace(
        "text = \"Yth. {name}, iuran {month} {amount}.\"",
        "text = \"\"\"\nYth. {name},\niuran {bulan}.\"\"\"",
    );
    problem_at(&text, 4, "template \"t\"");
    // In the subject.
    let kind = problem_at(
        &BASE.replace("Iuran {month}", "Iuran {bln}"),
        3,
        "template \"t\".subject",
    );
    assert!(matches!(kind, ProblemKind::Template { .. }));
}

#[test]
fn a_template_needs_exactly_one_source() {
    let both = BASE.replace("subject =", "file = \"t.txt\"\nsubject =");
    assert_eq!(
        problem_at(&both, 1, "template \"t\""),
        ProblemKind::TemplateSource("t".into())
    );
    let neither = BASE.replace("text = \"Yth. {name}, iuran {month} {amount}.\"\n", "");
    assert_eq!(
        problem_at(&neither, 1, "template \"t\""),
        ProblemKind::TemplateSource("t".into())
    );
}

#[test]
fn an_sms_template_outside_gsm7_is_refused_unless_allowed() {
    let text = BASE.replace("{amount}.", "{amount} – segera.");
    let kind = problem_at(&text, 2, "template \"t\"");
    assert_eq!(
        kind,
        ProblemKind::NotGsm7 {
            template: "t".into(),
            chars: "'–'".into()
        }
    );
    let allowed = text.replace("subject =", "allow_ucs2 = true\nsubject =");
    let s = parse(&allowed).unwrap();
    assert!(s.warnings().iter().any(|w| w.contains("UCS-2")), "{:?}", s.warnings());
    // An email-only rule may use any characters.
    assert!(parse(&text.replace("[\"sms\"]", "[\"email\"]")).is_ok());
}

#[test]
fn an_email_rule_needs_a_subject() {
    let text = BASE
        .replace("subject = \"Iuran {month}\"\n", "")
        .replace("[\"sms\"]", "[\"sms\", \"email\"]");
    let kind = problem_at(&text, 4, "rule \"r\".channels");
    assert_eq!(kind, ProblemKind::MissingSubject("t".into()));
}

#[test]
fn bad_channels_and_filters_are_refused() {
    let kind = problem_at(
        &BASE.replace("[\"sms\"]", "[\"sms\", \"wa\"]"),
        8,
        "rule \"r\".channels",
    );
    assert!(matches!(kind, ProblemKind::UnknownChoice(_)));
    let kind = problem_at(
        &BASE.replace("[\"sms\"]", "[\"sms\", \"sms\"]"),
        8,
        "rule \"r\".channels",
    );
    assert_eq!(kind, ProblemKind::DuplicateChannel("sms".into()));
    assert_eq!(
        problem_at(&BASE.replace("[\"sms\"]", "[]"), 8, "rule \"r\".channels"),
        ProblemKind::NoChannel
    );
    let kind = problem_at(
        &format!("{BASE}funding = [\"self\", \"gratis\"]\n"),
        10,
        "rule \"r\".funding",
    );
    assert!(matches!(kind, ProblemKind::UnknownChoice(_)));
    let kind = problem_at(&format!("{BASE}funding = []\n"), 10, "rule \"r\".funding");
    assert_eq!(kind, ProblemKind::EmptyFilter);
    let kind = problem_at(&format!("{BASE}kelurahan = [\"18.7\"]\n"), 10, "rule \"r\".kelurahan");
    assert!(matches!(kind, ProblemKind::BadKelurahanPrefix(_)));
    let kind = problem_at(&format!("{BASE}anchor = \"payday\"\n"), 10, "rule \"r\".anchor");
    assert!(matches!(kind, ProblemKind::UnknownChoice(_)));
}

#[test]
fn bad_numbers_are_refused() {
    let kind = problem_at(&format!("{BASE}max_late_days = 61\n"), 10, "rule \"r\".max_late_days");
    assert_eq!(
        kind,
        ProblemKind::OutOfRange {
            value: 61,
            min: 0,
            max: 60
        }
    );
    let kind = problem_at(
        &format!("{BASE}expire_after_hours = 0\n"),
        10,
        "rule \"r\".expire_after_hours",
    );
    assert!(matches!(kind, ProblemKind::OutOfRange { value: 0, .. }));
    let text = format!("{BASE}min_months_in_arrears = 3\nmax_months_in_arrears = 2\n");
    let kind = problem_at(&text, 10, "rule \"r\".min_months_in_arrears");
    assert_eq!(
        kind,
        ProblemKind::ArrearsRange {
            min: "3".into(),
            max: "2".into()
        }
    );
    let text = format!("{BASE}min_months_in_arrears = \"nonactive\"\nmax_months_in_arrears = \"nonactive-1\"\n");
    let kind = problem_at(&text, 10, "rule \"r\".min_months_in_arrears");
    assert_eq!(
        kind,
        ProblemKind::ArrearsRange {
            min: "\"nonactive\"".into(),
            max: "\"nonactive-1\"".into()
        }
    );
    let kind = problem_at(
        &format!("{BASE}min_months_in_arrears = \"nonaktif\"\n"),
        10,
        "rule \"r\".min_months_in_arrears",
    );
    assert!(
        matches!(&kind, ProblemKind::UnknownChoice(reason) if reason.contains("\"nonactive-1\"")),
        "{kind:?}"
    );
    let kind = problem_at(
        &format!("{BASE}max_months_in_arrears = 121\n"),
        10,
        "rule \"r\".max_months_in_arrears",
    );
    assert!(matches!(kind, ProblemKind::OutOfRange { value: 121, .. }));
}

#[test]
fn bad_kelurahan_overrides_are_refused() {
    let kind = problem_at(
        &format!("{BASE}\n[kelurahan.\"18.72.01\"]\ndisabled = true\n"),
        11,
        "kelurahan \"18.72.01\"",
    );
    assert!(matches!(kind, ProblemKind::BadKelurahanCode(_)));
    let text = format!("{BASE}\n[kelurahan.\"18.72.01.1005\"]\nholidays = [\"2025-02-30\"]\n");
    let kind = problem_at(&text, 12, "kelurahan \"18.72.01.1005\".holidays");
    assert_eq!(kind, ProblemKind::BadHoliday("2025-02-30".into()));
    let text =
        format!("{BASE}\n[kelurahan.\"18.72.01.1005\"]\ncoordinators = [{{ name = \"Ratna\", email = \"ratna@\" }}]\n");
    let kind = problem_at(&text, 12, "kelurahan \"18.72.01.1005\".coordinators");
    assert!(matches!(kind, ProblemKind::BadContact(_)));
    let text = format!("{BASE}\n[kelurahan.\"18.72.01.1005\"]\n[kelurahan.\"1872011005\"]\n");
    let kind = problem_at(&text, 12, "kelurahan \"1872011005\"");
    assert!(matches!(kind, ProblemKind::DuplicateKelurahan { first_line: 11, .. }));
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let text = r#"[scan]
cron = ["*/5 * * * *"]
time_zone = "Mars/Olympus"

[quiet_hours]
start = "21:00"
end = "21:00"

[template.t]
text = "Yth. {nama}"

[[rule]]
name = "a"
offset_days = 500
channels = ["sms"]
template = "t"

[[rule]]
name = "a"
offset_days = 0
channels = ["sms"]
template = "nope"
"#;
    let found = problems(text);
    let at: Vec<(Option<usize>, &str)> = found.iter().map(|p| (p.line, p.key.as_str())).collect();
    assert_eq!(
        at,
        [
            (Some(2), "scan.cron[0]"),
            (Some(3), "scan.time_zone"),
            (Some(5), "quiet_hours"),
            (Some(10), "template \"t\""),
            (Some(14), "rule \"a\".offset_days"),
            (Some(19), "rule \"a\".name"),
            (Some(22), "rule \"a\".template"),
        ],
        "{found:#?}"
    );
    let message = parse(text).unwrap_err().to_string();
    assert!(
        message.starts_with("test.toml: 7 problems:\n  test.toml:2: scan.cron[0]: "),
        "{message}"
    );
}
