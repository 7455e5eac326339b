//! `schedules.toml`: the operator-edited reminder schedules, loaded and
//! validated as a whole.
//!
//! Reload without restart validates first and keeps the old
//! schedules on error, saying why; so loading either yields a complete,
//! consistent [`Schedules`] or a [`ScheduleError`] listing every problem
//! with its file, line and key. Nothing here touches the database.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::build::{build_quiet_hours, build_scan, build_window};
use super::build_rules::build_rules;
use super::build_templates::build_templates;
use super::check::{Checker, LineIndex, TemplateFiles};
use super::cron::ScanSchedule;
use super::digest::{DigestSchedule, build_digest};
use super::encoding::SmsEncoding;
use super::error::{Problem, ProblemKind, ScheduleError};
use super::holdout::{HoldoutSettings, build_holdout};
use super::overrides::{Coordinator, KelurahanOverride, build_overrides};
use super::raw::RawSchedules;
use super::rules::{Channel, Rule};
use super::template::Template;
use super::window::{QuietHours, SendWindow};
use crate::domain::{DueDateRules, KelurahanCode};

/// How the shipped schedules are named in messages.
pub const SHIPPED_NAME: &str = "built-in schedules.toml";

/// The validated reminder schedules.
#[derive(Debug, Clone)]
pub struct Schedules {
    /// The file they were loaded from, as named in messages.
    source: String,
    /// When the scan runs.
    scan: ScanSchedule,
    /// When no message may go out.
    quiet_hours: QuietHours,
    /// The send window of kelurahan without their own.
    send_window: SendWindow,
    /// Rules in file order.
    rules: Vec<Rule>,
    /// The `[[rule]]` header line of each rule.
    rule_lines: BTreeMap<String, usize>,
    /// Templates by name.
    templates: BTreeMap<String, Template>,
    /// Per-kelurahan overrides.
    kelurahan: BTreeMap<KelurahanCode, KelurahanOverride>,
    /// Things that load but deserve the operator's attention.
    warnings: Vec<String>,
    /// When the weekly coordinator digest goes out; `None`: no digest.
    digest: Option<DigestSchedule>,
    /// The holdout group (off by default).
    holdout: HoldoutSettings,
}

impl Schedules {
    /// Reads and validates the schedules file at `path`; template files are
    /// resolved against its directory.
    pub fn load(path: &Path) -> Result<Self, ScheduleError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScheduleError::Read {
            file: file.clone(),
            source,
        })?;
        let base_dir = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base_dir, &file)
    }

    /// Reads and validates the schedules file at `path`, or, when there is
    /// no file there, takes the shipped schedules carried in the binary
    /// ([`Schedules::is_shipped`] tells which). Any other read error is an
    /// error: an unreadable file is never silently replaced.
    pub fn load_or_shipped(path: &Path) -> Result<Self, ScheduleError> {
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::shipped()),
            _ => Self::load(path),
        }
    }

    /// The shipped `schedules.toml` and its templates, carried in the binary.
    pub fn shipped() -> Self {
        match Self::parse_with(crate::shipped::SCHEDULES, TemplateFiles::Shipped, SHIPPED_NAME) {
            Ok(schedules) => schedules,
            // The shipped file is validated by the tests of every build.
            Err(e) => unreachable!("the shipped schedules do not load: {e}"),
        }
    }

    /// The shipped schedules with `extra` TOML appended (tables the shipped
    /// file leaves commented out, such as `[holdout]`), for simulations.
    pub fn shipped_with(extra: &str) -> Result<Self, ScheduleError> {
        let text = format!("{}\n{extra}", crate::shipped::SCHEDULES);
        Self::parse_with(&text, TemplateFiles::Shipped, SHIPPED_NAME)
    }

    /// Whether these are the shipped schedules carried in the binary.
    pub fn is_shipped(&self) -> bool {
        self.source == SHIPPED_NAME
    }

    /// Validates schedules from `text`; `base_dir` resolves template files
    /// and `source_name` names the file in messages.
    pub fn parse(text: &str, base_dir: &Path, source_name: &str) -> Result<Self, ScheduleError> {
        Self::parse_with(text, TemplateFiles::Dir(base_dir), source_name)
    }

    fn parse_with(text: &str, files: TemplateFiles<'_>, source_name: &str) -> Result<Self, ScheduleError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let raw: RawSchedules = toml::from_str(text).map_err(|e| toml_error(source_name, text, &e))?;
        let mut ck = Checker::new(source_name, text, files);
        let scan = build_scan(&mut ck, raw.scan);
        let quiet_hours = build_quiet_hours(&mut ck, raw.quiet_hours);
        let send_window = raw
            .send_window
            .as_ref()
            .and_then(|w| build_window(&mut ck, w, "send_window", &quiet_hours))
            .unwrap_or_else(|| quiet_hours.allowed());
        let declared: BTreeSet<String> = raw.templates.keys().map(|k| k.get_ref().clone()).collect();
        let loaded = build_templates(&mut ck, raw.templates);
        let built = build_rules(&mut ck, raw.rules, &loaded, &declared);
        let kelurahan = build_overrides(&mut ck, raw.kelurahan, &quiet_hours);
        let digest = build_digest(&mut ck, raw.digest);
        let holdout = build_holdout(&mut ck, raw.holdout, &built.rules);
        if !ck.problems.is_empty() {
            return Err(ScheduleError::Invalid {
                file: source_name.to_string(),
                problems: ck.into_problems(),
            });
        }
        let mut schedules = Self {
            source: source_name.to_string(),
            scan,
            quiet_hours,
            send_window,
            rules: built.rules,
            rule_lines: built.lines,
            templates: loaded.into_iter().map(|(name, l)| (name, l.template)).collect(),
            kelurahan,
            warnings: Vec::new(),
            digest,
            holdout,
        };
        schedules.warnings = schedules.find_warnings();
        Ok(schedules)
    }

    /// The file the schedules came from.
    pub fn source_name(&self) -> &str {
        &self.source
    }

    /// When the scan runs.
    pub fn scan(&self) -> &ScanSchedule {
        &self.scan
    }

    /// The next `n` scan times after `after` (for `check-config`).
    pub fn next_scan_times(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        self.scan.next_times(after, n)
    }

    /// The scan occurrence due in `(after, until]`, if any.
    pub fn scan_due_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.scan.latest_between(after, until)
    }

    /// These schedules with another holdout group (a simulation that
    /// measures the reminders whatever the file says).
    pub fn with_holdout(mut self, holdout: HoldoutSettings) -> Self {
        self.holdout = holdout;
        self
    }

    /// The holdout group's settings (`fraction = 0`, off, without `[holdout]`).
    pub fn holdout(&self) -> &HoldoutSettings {
        &self.holdout
    }

    /// When the weekly coordinator digest goes out; `None` without `[digest]`.
    pub fn digest(&self) -> Option<&DigestSchedule> {
        self.digest.as_ref()
    }

    /// Quiet hours.
    pub fn quiet_hours(&self) -> QuietHours {
        self.quiet_hours
    }

    /// The send window of kelurahan without an override.
    pub fn default_send_window(&self) -> SendWindow {
        self.send_window
    }

    /// Every rule, enabled or not, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule called `name`.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Every template by name.
    pub fn templates(&self) -> &BTreeMap<String, Template> {
        &self.templates
    }

    /// The template called `name`.
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.get(name)
    }

    /// The template a rule uses (always present for the schedules' own rules).
    pub fn template_for(&self, rule: &Rule) -> Option<&Template> {
        self.templates.get(&rule.template)
    }

    /// Every kelurahan override by code.
    pub fn kelurahan_overrides(&self) -> &BTreeMap<KelurahanCode, KelurahanOverride> {
        &self.kelurahan
    }

    /// The override of one kelurahan, if it has one.
    pub fn kelurahan_override(&self, code: &KelurahanCode) -> Option<&KelurahanOverride> {
        self.kelurahan.get(code)
    }

    /// Whether reminders are switched off for a kelurahan.
    pub fn is_disabled(&self, code: &KelurahanCode) -> bool {
        self.kelurahan_override(code).is_some_and(|o| o.disabled)
    }

    /// The enabled rules whose kelurahan filter admits `code`; none for a
    /// disabled kelurahan. Funding and arrears filters remain for
    /// [`Rule::applies_to`] per participant.
    pub fn rules_for_kelurahan(&self, code: &KelurahanCode) -> Vec<&Rule> {
        if self.is_disabled(code) {
            return Vec::new();
        }
        self.rules
            .iter()
            .filter(|r| r.enabled && r.matches_kelurahan(code))
            .collect()
    }

    /// The send window of a kelurahan: its own, else the default.
    pub fn send_window_for(&self, code: &KelurahanCode) -> SendWindow {
        self.kelurahan_override(code)
            .and_then(|o| o.send_window)
            .unwrap_or(self.send_window)
    }

    /// `base` carrying every kelurahan's own holidays, so that
    /// [`DueDateRules::for_kelurahan`] applies them wherever standing is
    /// computed.
    pub fn with_kelurahan_holidays(&self, base: &DueDateRules) -> DueDateRules {
        let mut rules = base.clone();
        for (code, o) in &self.kelurahan {
            if !o.holidays.is_empty() {
                rules
                    .kelurahan_holidays
                    .entry(code.to_string())
                    .or_default()
                    .extend(o.holidays.iter().copied());
            }
        }
        rules
    }

    /// `base` with the kelurahan's extra holidays added.
    pub fn due_date_rules_for(&self, code: &KelurahanCode, base: &DueDateRules) -> DueDateRules {
        match self.kelurahan_override(code) {
            Some(o) if !o.holidays.is_empty() => base.with_extra_holidays(o.holidays.iter().copied()),
            _ => base.clone(),
        }
    }

    /// The coordinators of a kelurahan (empty when none are configured).
    pub fn coordinators_for(&self, code: &KelurahanCode) -> &[Coordinator] {
        self.kelurahan_override(code).map_or(&[], |o| o.coordinators.as_slice())
    }

    /// Things that load but deserve attention: unused templates, SMS
    /// templates longer than one segment (or UCS-2) for the sample
    /// participant, send times outside the default window, rules firing on
    /// the same day on the same channel, no enabled rule.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The problems of overrides and rule filters naming kelurahan codes
    /// that `known` (the store's kelurahan list, dotted codes) does not
    /// have, one message each naming the file, line and key.
    pub fn validate_kelurahan(&self, known: &dyn Fn(&str) -> bool) -> Vec<String> {
        let mut problems = Vec::new();
        for (code, over) in &self.kelurahan {
            if !known(code.as_str()) {
                problems.push(self.problem(Some(over.line), format!("kelurahan {:?}", code.as_str()), code));
            }
        }
        for rule in &self.rules {
            for prefix in &rule.kelurahan {
                let Ok(code) = KelurahanCode::parse(prefix) else {
                    continue; // a prefix, not a full code: nothing to look up
                };
                if !known(code.as_str()) {
                    let line = self.rule_lines.get(&rule.name).copied();
                    problems.push(self.problem(line, format!("rule {:?}.kelurahan", rule.name), &code));
                }
            }
        }
        problems
    }

    fn problem(&self, line: Option<usize>, key: String, code: &KelurahanCode) -> String {
        Problem {
            file: self.source.clone(),
            line,
            key,
            kind: ProblemKind::UnknownKelurahan(code.to_string()),
        }
        .to_string()
    }

    fn find_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let used: BTreeSet<&str> = self.rules.iter().map(|r| r.template.as_str()).collect();
        for name in self.templates.keys() {
            if !used.contains(name.as_str()) {
                warnings.push(format!("template {name:?} is not used by any rule"));
            }
        }
        let sms_templates: BTreeSet<&str> = self
            .rules
            .iter()
            .filter(|r| r.has_channel(Channel::Sms))
            .map(|r| r.template.as_str())
            .collect();
        for name in sms_templates {
            let Some(template) = self.templates.get(name) else {
                continue;
            };
            let size = template.sample_size();
            if !size.is_single() || size.encoding == SmsEncoding::Ucs2 {
                warnings.push(format!("template {name:?} for the sample participant: {size}"));
            }
        }
        for rule in self.rules.iter().filter(|r| !self.send_window.contains(r.send_time)) {
            warnings.push(format!(
                "rule {:?}: send_time {} is outside the default send window {}; its reminders wait for the \
                 window's next opening",
                rule.name,
                rule.send_time.format("%H:%M"),
                self.send_window
            ));
        }
        warnings.extend(same_day_collisions(&self.rules));
        if !self.rules.iter().any(|r| r.enabled) {
            warnings.push("no enabled rule: no reminder will be created".to_string());
        }
        warnings
    }
}

/// Enabled rules with the same anchor and offset sharing a channel: a
/// participant matching both would be due two messages on one day, and
/// gets at most one.
fn same_day_collisions(rules: &[Rule]) -> Vec<String> {
    let enabled: Vec<&Rule> = rules.iter().filter(|r| r.enabled).collect();
    let mut warnings = Vec::new();
    for (i, a) in enabled.iter().enumerate() {
        for b in &enabled[i + 1..] {
            let same_day = a.anchor == b.anchor && a.offset_days == b.offset_days;
            if let Some(channel) = a.channels.iter().find(|c| b.channels.contains(c))
                && same_day
            {
                warnings.push(format!(
                    "rules {:?} and {:?} fall on the same day on {channel}; a participant matching both \
                     gets only one message that day",
                    a.name, b.name
                ));
            }
        }
    }
    warnings
}

/// A TOML error with its line and column.
fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> ScheduleError {
    let offset = e.span().map_or(0, |s| s.start);
    let lines = LineIndex::new(text);
    ScheduleError::Toml {
        file: file.to_string(),
        line: lines.line(offset),
        column: lines.column(text, offset),
        message: e.message().to_string(),
    }
}
