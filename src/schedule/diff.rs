//! What a reload changes, for the log line that says so (operators
//! must see what a schedule change does).

use std::collections::BTreeSet;
use std::fmt;

use super::config::Schedules;
use super::overrides::KelurahanOverride;

/// The difference between two loaded schedules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleDiff {
    /// Rules only in the new schedules.
    pub added: Vec<String>,
    /// Rules only in the old schedules.
    pub removed: Vec<String>,
    /// Rules in both whose definition or template content differs.
    pub changed: Vec<String>,
    /// Other sections that differ: `scan`, `quiet_hours`, `send_window`,
    /// `template "NAME"`, `kelurahan 18.72.01.1005`.
    pub settings: Vec<String>,
}

impl ScheduleDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty() && self.settings.is_empty()
    }
}

impl fmt::Display for ScheduleDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no change");
        }
        let parts: Vec<String> = [
            ("rules added", &self.added),
            ("rules removed", &self.removed),
            ("rules changed", &self.changed),
            ("settings changed", &self.settings),
        ]
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(label, names)| format!("{label}: {}", names.join(", ")))
        .collect();
        f.write_str(&parts.join("; "))
    }
}

/// What changes from `old` to `new`.
pub fn diff(old: &Schedules, new: &Schedules) -> ScheduleDiff {
    let mut d = ScheduleDiff::default();
    for rule in new.rules() {
        match old.rule(&rule.name) {
            None => d.added.push(rule.name.clone()),
            Some(before) => {
                let template_changed = match (old.template_for(before), new.template_for(rule)) {
                    (Some(a), Some(b)) => !a.same_content(b),
                    _ => true,
                };
                if before != rule || template_changed {
                    d.changed.push(rule.name.clone());
                }
            }
        }
    }
    for rule in old.rules() {
        if new.rule(&rule.name).is_none() {
            d.removed.push(rule.name.clone());
        }
    }
    if old.scan() != new.scan() {
        d.settings.push("scan".into());
    }
    if old.quiet_hours() != new.quiet_hours() {
        d.settings.push("quiet_hours".into());
    }
    if old.default_send_window() != new.default_send_window() {
        d.settings.push("send_window".into());
    }
    let names: BTreeSet<&String> = old.templates().keys().chain(new.templates().keys()).collect();
    for name in names {
        let same = match (old.template(name), new.template(name)) {
            (Some(a), Some(b)) => a.same_content(b),
            _ => false,
        };
        if !same {
            d.settings.push(format!("template {name:?}"));
        }
    }
    let codes: BTreeSet<_> = old
        .kelurahan_overrides()
        .keys()
        .chain(new.kelurahan_overrides().keys())
        .collect();
    for code in codes {
        let same = match (old.kelurahan_override(code), new.kelurahan_override(code)) {
            (Some(a), Some(b)) => same_override(a, b),
            _ => false,
        };
        if !same {
            d.settings.push(format!("kelurahan {code}"));
        }
    }
    d
}

/// Equal apart from where in the file they are written.
fn same_override(a: &KelurahanOverride, b: &KelurahanOverride) -> bool {
    a.send_window == b.send_window
        && a.holidays == b.holidays
        && a.coordinators == b.coordinators
        && a.disabled == b.disabled
}
