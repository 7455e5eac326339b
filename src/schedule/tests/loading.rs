//! The shipped file, defaults, template files and the lookups, warnings
//! and diffs built on loaded schedules.

use super::*;

#[test]
fn the_shipped_file_loads_with_every_sms_template_in_one_gsm7_segment() {
    let schedules = Schedules::load(&shipped_path()).unwrap();
    assert!(schedules.warnings().is_empty(), "{:?}", schedules.warnings());
    let names: Vec<&str> = schedules.rules().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["h-7", "h-1", "h0", "h+7", "h+30", "last-chance", "nonaktif"]);
    let sample = ReminderVars::sample();
    for (name, template) in schedules.templates() {
        assert!(matches!(template.origin(), TemplateOrigin::File(_)), "{name}");
        let text = template.render(&sample);
        let size = measure(&text);
        assert_eq!(size.encoding, SmsEncoding::Gsm7, "{name}: {text}");
        assert_eq!(size.segments, 1, "{name}: {} septets: {text}", size.units);
        assert!(text.contains("Rp16.800"), "{name} names the amount: {text}");
        assert!(text.contains("JMO"), "{name} says how to pay: {text}");
    }
    for rule in schedules.rules().iter().filter(|r| r.has_channel(Channel::Email)) {
        let email = schedules.template_for(rule).unwrap().render_email(&sample);
        assert!(!email.subject.is_empty(), "{}", rule.name);
    }
    let h7 = schedules.template("h+7").unwrap().render_email(&sample);
    assert_eq!(h7.subject, "Iuran BPJAMSOSTEK Juli 2025 belum dibayar");
    assert!(h7.html.unwrap().contains("<strong>Rp16.800</strong>"));
}

#[test]
fn the_shipped_rules_mean_what_their_comments_say() {
    let schedules = Schedules::load(&shipped_path()).unwrap();
    let rule = |n: &str| schedules.rule(n).unwrap();
    assert_eq!(rule("h-7").offset_days, -7);
    assert_eq!(rule("h+7").channels, [Channel::Sms, Channel::Email]);
    assert_eq!(rule("last-chance").anchor, Anchor::Nonactive);
    assert_eq!(rule("nonaktif").min_months_in_arrears, Some(ArrearsBound::Nonactive(0)));
    assert_eq!(
        rule("last-chance").max_months_in_arrears,
        Some(ArrearsBound::Nonactive(-1))
    );
    let yosomulyo = code("18.72.01.1005");
    let standing = StandingRules::default();
    assert!(rule("h-7").applies_to(Funding::SelfPaid, &yosomulyo, 0, &standing));
    assert!(!rule("h-7").applies_to(Funding::Budget, &yosomulyo, 0, &standing));
    assert!(!rule("nonaktif").applies_to(Funding::SelfPaid, &yosomulyo, 2, &standing));
    assert!(rule("nonaktif").applies_to(Funding::SelfPaid, &yosomulyo, 3, &standing));
    // With non-active after two months, the notice follows the setting.
    let two = StandingRules {
        nonactive_after_months: 2,
    };
    assert!(rule("nonaktif").applies_to(Funding::SelfPaid, &yosomulyo, 2, &two));
    assert!(rule("last-chance").applies_to(Funding::SelfPaid, &yosomulyo, 1, &two));
    assert!(!rule("last-chance").applies_to(Funding::SelfPaid, &yosomulyo, 2, &two));
    assert_eq!(schedules.send_window_for(&yosomulyo).to_string(), "08:00-20:00");
    assert_eq!(schedules.quiet_hours().to_string(), "20:00-08:00");
    let after: DateTime<Utc> = "2025-07-08T01:07:00Z".parse().unwrap();
    assert_eq!(
        schedules.next_scan_times(after, 2),
        ["2025-07-08T01:15:00Z", "2025-07-08T01:30:00Z"].map(|s| s.parse::<DateTime<Utc>>().unwrap())
    );
}

#[test]
fn defaults_apply_to_a_minimal_file() {
    let s = parse(BASE).unwrap();
    let r = s.rule("r").unwrap();
    assert!(r.enabled);
    assert_eq!(r.anchor, Anchor::DueDate);
    assert_eq!(r.send_time, NaiveTime::from_hms_opt(9, 0, 0).unwrap());
    assert_eq!((r.max_late_days, r.expire_after_hours), (3, 10));
    assert_eq!(r.funding, None);
    assert!(r.kelurahan.is_empty());
    assert_eq!(s.scan().cron[0].as_str(), "0 */15 * * * *");
    assert_eq!(s.scan().time_zone, chrono_tz::Asia::Jakarta);
    assert_eq!(s.default_send_window().to_string(), "08:00-20:00");
}

#[test]
fn a_missing_file_names_the_file() {
    let err = Schedules::load(Path::new("/nonexistent/schedules.toml")).unwrap_err();
    assert!(matches!(err, ScheduleError::Read { .. }));
    assert!(
        err.to_string().starts_with("/nonexistent/schedules.toml: cannot read"),
        "{err}"
    );
}

#[test]
fn the_built_in_schedules_are_the_shipped_file_and_its_templates() {
    let file = Schedules::load(&shipped_path()).unwrap();
    let built_in = Schedules::shipped();
    assert!(built_in.is_shipped() && !file.is_shipped());
    assert!(built_in.warnings().is_empty(), "{:?}", built_in.warnings());
    let names = |s: &Schedules| s.rules().iter().map(|r| r.name.to_string()).collect::<Vec<_>>();
    assert_eq!(names(&built_in), names(&file));
    let sample = ReminderVars::sample();
    for (name, template) in file.templates() {
        let carried = built_in.template(name).unwrap();
        assert_eq!(carried.render(&sample), template.render(&sample), "{name}");
        assert_eq!(carried.render_email(&sample), template.render_email(&sample), "{name}");
    }
    assert!(crate::schedule::diff(&file, &built_in).is_empty());
}

#[test]
fn only_a_missing_file_falls_back_to_the_built_in_schedules() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Schedules::load_or_shipped(&dir.path().join("schedules.toml")).unwrap();
    assert!(missing.is_shipped());
    let err = Schedules::load_or_shipped(dir.path()).unwrap_err();
    assert!(
        matches!(err, ScheduleError::Read { .. }),
        "a folder is not read as absent: {err}"
    );
    let file = Schedules::load_or_shipped(&shipped_path()).unwrap();
    assert!(!file.is_shipped());
}

#[test]
fn template_files_load_and_their_errors_name_the_template_file_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/ok.txt"),
        "Subject: Iuran {month}\r\n\r\nYth. {name}, iuran {month} {amount}.\r\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("templates/bad.txt"),
        "Subject: Iuran\n\nYth. {name},\niuran {bulan}.\n",
    )
    .unwrap();
    let text = BASE.replace(
        "text = \"Yth. {name}, iuran {month} {amount}.\"\nsubject = \"Iuran {month}\"",
        "file = \"templates/ok.txt\"",
    );
    let path = dir.path().join("schedules.toml");
    std::fs::write(&path, &text).unwrap();
    let s = Schedules::load(&path).unwrap();
    let t = s.template("t").unwrap();
    assert_eq!(t.text().source(), "Yth. {name}, iuran {month} {amount}.");
    assert_eq!(t.subject().unwrap().source(), "Iuran {month}");
    assert_eq!(t.origin(), &TemplateOrigin::File(dir.path().join("templates/ok.txt")));

    std::fs::write(&path, text.replace("ok.txt", "bad.txt")).unwrap();
    let err = Schedules::load(&path).unwrap_err();
    let p = &err.problems()[0];
    let bad = dir.path().join("templates/bad.txt").display().to_string();
    assert_eq!((p.file.as_str(), p.line), (bad.as_str(), Some(4)));
    assert!(
        err.to_string()
            .contains(&format!("{bad}:4: template \"t\": unknown variable {{bulan}}")),
        "{err}"
    );

    std::fs::write(&path, text.replace("ok.txt", "missing.txt")).unwrap();
    let err = Schedules::load(&path).unwrap_err();
    let p = &err.problems()[0];
    assert_eq!((p.line, p.key.as_str()), (Some(2), "template \"t\".file"));
    assert!(matches!(p.kind, ProblemKind::TemplateFile { .. }));
}

#[test]
fn a_subject_in_both_places_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.txt"), "Subject: Iuran\nYth. {name}\n").unwrap();
    let text = BASE.replace("text = \"Yth. {name}, iuran {month} {amount}.\"", "file = \"t.txt\"");
    let err = Schedules::parse(&text, dir.path(), FILE).unwrap_err();
    assert_eq!(err.problems()[0].kind, ProblemKind::SubjectTwice("t".into()));
    assert_eq!(err.problems()[0].line, Some(1));
}

#[test]
fn kelurahan_overrides_drive_the_lookups() {
    let text = format!(
        r#"{BASE}kelurahan = ["18.72"]

[[rule]]
name = "lampung"
offset_days = 0
channels = ["sms"]
template = "t"
enabled = true

[[rule]]
name = "off"
enabled = false
offset_days = 1
channels = ["sms"]
template = "t"

[kelurahan."18.72.01.1005"]
send_window = {{ start = "09:00", end = "17:00" }}
holidays = [2025-07-15, "2025-07-16"]
coordinators = [{{ name = "Ratna  Dewi", email = "ratna.dewi@example.org", phone = "0812-3456-7890" }}]

[kelurahan."1872011001"]
disabled = true
"#
    );
    let s = parse(&text).unwrap();
    let yosomulyo = code("18.72.01.1005");
    let names = |c: &KelurahanCode| {
        s.rules_for_kelurahan(c)
            .iter()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&yosomulyo), ["r", "lampung"]);
    assert_eq!(names(&code("18.01.01.2001")), ["lampung"]);
    assert!(names(&code("18.72.01.1001")).is_empty(), "disabled kelurahan");
    assert!(s.is_disabled(&code("18.72.01.1001")));

    let nine_to_five = SendWindow::new(
        NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
    )
    .unwrap();
    assert_eq!(s.send_window_for(&yosomulyo), nine_to_five);
    assert_eq!(s.send_window_for(&code("18.72.01.1002")), s.default_send_window());

    // July 2025 is due Tuesday the 15th; with the 15th and 16th as local holidays, the 17th.
    let due = s.due_date_rules_for(&yosomulyo, &DueDateRules::default());
    let july = crate::domain::ContributionMonth::new(2025, 7).unwrap();
    assert_eq!(due.due_date(july), NaiveDate::from_ymd_opt(2025, 7, 17).unwrap());
    assert_eq!(
        DueDateRules::default().due_date(july),
        NaiveDate::from_ymd_opt(2025, 7, 15).unwrap()
    );

    let coordinators = s.coordinators_for(&yosomulyo);
    assert_eq!(coordinators.len(), 1);
    assert_eq!(coordinators[0].name, "Ratna Dewi");
    assert_eq!(coordinators[0].phone.as_ref().unwrap().as_str(), "+6281234567890");
    assert!(s.coordinators_for(&code("18.72.01.1002")).is_empty());
}

#[test]
fn validate_kelurahan_names_unknown_codes_with_their_line() {
    let text = format!(
        "{BASE}kelurahan = [\"18.72.01\", \"18.72.01.1099\"]\n\n[kelurahan.\"18.72.01.1005\"]\ndisabled = true\n\n[kelurahan.\"18.72.01.1098\"]\ndisabled = true\n"
    );
    let s = parse(&text).unwrap();
    let known = |c: &str| c == "18.72.01.1005";
    let found = s.validate_kelurahan(&known);
    assert_eq!(
        found,
        [
            "test.toml:15: kelurahan \"18.72.01.1098\": kelurahan 18.72.01.1098 is not in the kelurahan list",
            "test.toml:5: rule \"r\".kelurahan: kelurahan 18.72.01.1099 is not in the kelurahan list",
        ]
    );
    assert!(s.validate_kelurahan(&|_| true).is_empty());
}

#[test]
fn warnings_point_at_questionable_but_valid_settings() {
    let long = "a".repeat(170);
    let text = format!(
        "{}\n[template.unused]\ntext = \"x\"\n\n[[rule]]\nname = \"r2\"\noffset_days = -7\nchannels = [\"sms\"]\ntemplate = \"t\"\n",
        BASE.replace("{amount}.", &format!("{{amount}}. {long}"))
    );
    let s = parse(&text).unwrap();
    let w = s.warnings().join("\n");
    assert!(w.contains("template \"unused\" is not used"), "{w}");
    assert!(w.contains("template \"t\" for the sample participant: GSM-7"), "{w}");
    assert!(w.contains("2 segments"), "{w}");
    assert!(w.contains("rules \"r\" and \"r2\" fall on the same day on sms"), "{w}");
    let late = parse(&format!("{BASE}send_time = \"21:30\"\n")).unwrap();
    assert_eq!(
        late.warnings(),
        [
            "rule \"r\": send_time 21:30 is outside the default send window 08:00-20:00; its reminders wait for \
          the window's next opening"
        ]
    );
    let disabled = parse(&BASE.replace("template = \"t\"", "template = \"t\"\nenabled = false")).unwrap();
    assert_eq!(disabled.warnings(), ["no enabled rule: no reminder will be created"]);
}

#[test]
fn diff_names_added_removed_and_changed_rules() {
    let old = parse(BASE).unwrap();
    assert!(diff(&old, &old).is_empty());
    assert_eq!(diff(&old, &old).to_string(), "no change");
    let added = format!("{BASE}\n[[rule]]\nname = \"h0\"\noffset_days = 0\nchannels = [\"sms\"]\ntemplate = \"t\"\n");
    let new = parse(&added).unwrap();
    let d = diff(&old, &new);
    assert_eq!(
        (d.added.as_slice(), d.removed.len(), d.changed.len()),
        (&["h0".to_string()][..], 0, 0)
    );
    let d = diff(&new, &old);
    assert_eq!(d.removed, ["h0"]);
    // A changed offset, and a changed template text, both change the rule.
    let d = diff(&old, &parse(&BASE.replace("-7", "-3")).unwrap());
    assert_eq!(d.changed, ["r"]);
    let d = diff(&old, &parse(&BASE.replace("iuran", "Iuran")).unwrap());
    assert_eq!(
        (d.changed.as_slice(), d.settings.as_slice()),
        (&["r".to_string()][..], &["template \"t\"".to_string()][..])
    );
    let quiet = parse(&format!("{BASE}\n[quiet_hours]\nstart = \"21:00\"\nend = \"07:00\"\n")).unwrap();
    let d = diff(&old, &quiet);
    // The default send window follows quiet hours when not configured.
    assert_eq!(d.settings, ["quiet_hours", "send_window"]);
    assert_eq!(d.to_string(), "settings changed: quiet_hours, send_window");
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
    let text = format!("\u{feff}{}", BASE.replace('\n', "\r\n"));
    assert!(parse(&text).is_ok());
    let kind = problem_at(
        &format!("\u{feff}{}", BASE.replace("-7", "-99").replace('\n', "\r\n")),
        7,
        "rule \"r\".offset_days",
    );
    assert!(matches!(kind, ProblemKind::OffsetOutOfRange { .. }));
}

#[test]
fn schedules_can_be_shared_across_threads_for_reload() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Schedules>();
}
