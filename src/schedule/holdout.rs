//! `[holdout]`: the share of BPU participants who do not get the early
//! reminders, so that their effect can be measured (see
//! `domain::holdout` for who, and `report::effect` for the measurement).
//!
//! Off by default (`fraction = 0`). Only rules anchored on the due date may
//! be held out: the rules anchored on the non-active day (`last-chance`,
//! `nonaktif` in the shipped file) always reach everyone, so nobody loses
//! their cover for the sake of a measurement.

use super::check::Checker;
use super::error::ProblemKind;
use super::raw::RawHoldout;
use super::rules::{Anchor, Rule};
use crate::domain::holdout::MAX_FRACTION;

/// The rules held out when `rules` is not given: the early ones.
pub const DEFAULT_RULES: [&str; 3] = ["h-7", "h-1", "h0"];

/// The widest 95% interval (percentage points) shown as a figure when
/// `max_interval_pp` is not given; wider ones read "belum cukup data".
pub const DEFAULT_MAX_INTERVAL_PP: f64 = 20.0;

/// The holdout group's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldoutSettings {
    /// Share of each kelurahan's BPU participants held out (0: off).
    pub fraction: f64,
    /// Mixed into each NIK's hash; a new salt draws a new group.
    pub salt: String,
    /// The rules the group does not get.
    pub rules: Vec<String>,
    /// The widest 95% interval, in percentage points, the effect report
    /// shows a difference for.
    pub max_interval_pp: f64,
}

impl Default for HoldoutSettings {
    fn default() -> Self {
        Self {
            fraction: 0.0,
            salt: String::new(),
            rules: DEFAULT_RULES.iter().map(|r| r.to_string()).collect(),
            max_interval_pp: DEFAULT_MAX_INTERVAL_PP,
        }
    }
}

impl HoldoutSettings {
    /// Whether anyone is held out.
    pub fn enabled(&self) -> bool {
        self.fraction > 0.0
    }

    /// Whether the holdout group does not get `rule`'s reminders.
    pub fn holds_out(&self, rule: &str) -> bool {
        self.enabled() && self.rules.iter().any(|r| r == rule)
    }
}

/// `[holdout]`: every value checked against its range and the rules;
/// problems name the key and the value.
pub(super) fn build_holdout(
    ck: &mut Checker<'_>,
    raw: Option<toml::Spanned<RawHoldout>>,
    rules: &[Rule],
) -> HoldoutSettings {
    let mut settings = HoldoutSettings::default();
    let Some(raw) = raw else { return settings };
    let table_span = raw.span();
    let raw = raw.into_inner();
    if let Some(f) = raw.fraction {
        let v = *f.get_ref();
        if v.is_finite() && (0.0..=MAX_FRACTION).contains(&v) {
            settings.fraction = v;
        } else {
            let msg = format!("fraction = {v} is out of range: give 0 (off) to {MAX_FRACTION}");
            ck.at(&f.span(), "holdout.fraction", ProblemKind::BadHoldout(msg));
        }
    }
    if let Some(s) = raw.salt {
        settings.salt = s.get_ref().trim().to_string();
    }
    if settings.enabled() && settings.salt.is_empty() {
        let msg = format!(
            "salt is missing or empty while fraction = {}: give a salt (any text kept the same, \
             e.g. \"kota-metro-2026\")",
            settings.fraction
        );
        ck.at(&table_span, "holdout.salt", ProblemKind::BadHoldout(msg));
    }
    if let Some(v) = raw.max_interval_pp {
        let w = *v.get_ref();
        if w.is_finite() && w > 0.0 && w <= 200.0 {
            settings.max_interval_pp = w;
        } else {
            let msg = format!("max_interval_pp = {w} is out of range: give more than 0 and at most 200");
            ck.at(&v.span(), "holdout.max_interval_pp", ProblemKind::BadHoldout(msg));
        }
    }
    if let Some(list) = raw.rules {
        settings.rules = Vec::new();
        for (i, name) in list.into_inner().into_iter().enumerate() {
            let key = format!("holdout.rules[{i}]");
            match rules.iter().find(|r| r.name == *name.get_ref()) {
                None => {
                    let msg = format!("rules[{i}] = {:?} is not a rule of this file", name.get_ref());
                    ck.at(&name.span(), key, ProblemKind::BadHoldout(msg));
                }
                Some(rule) if rule.anchor == Anchor::Nonactive => {
                    let msg = format!(
                        "rules[{i}] = {:?} is anchored on the non-active day: such reminders always reach \
                         everyone, so nobody loses cover for a measurement",
                        rule.name
                    );
                    ck.at(&name.span(), key, ProblemKind::BadHoldout(msg));
                }
                Some(rule) => settings.rules.push(rule.name.clone()),
            }
        }
    } else {
        settings.rules.retain(|r| rules.iter().any(|x| x.name == *r));
    }
    settings
}

#[cfg(test)]
mod tests {
    use crate::schedule::Schedules;

    fn problems(extra: &str) -> Vec<String> {
        match Schedules::shipped_with(extra) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn off_by_default_and_on_with_the_early_rules() {
        let shipped = Schedules::shipped();
        assert!(!shipped.holdout().enabled());
        let on = Schedules::shipped_with("[holdout]\nfraction = 0.1\nsalt = \"s\"\n").unwrap();
        assert_eq!(on.holdout().rules, ["h-7", "h-1", "h0"]);
        assert!(on.holdout().holds_out("h0"));
        assert!(!on.holdout().holds_out("last-chance"));
        assert_eq!(on.holdout().max_interval_pp, 20.0);
    }

    #[test]
    fn errors_name_key_and_value() {
        let p = problems("[holdout]\nfraction = 0.3\nsalt = \"s\"\n");
        assert!(
            p.len() == 1 && p[0].contains("holdout.fraction") && p[0].contains("0.3"),
            "{p:?}"
        );
        let p = problems("[holdout]\nfraction = 0.1\n");
        assert!(p.len() == 1 && p[0].contains("holdout.salt"), "{p:?}");
        let p = problems("[holdout]\nfraction = 0.1\nsalt = \"s\"\nrules = [\"h0\", \"nonaktif\", \"h-99\"]\n");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("holdout.rules[1]") && p[0].contains("nonaktif"), "{p:?}");
        assert!(p[1].contains("holdout.rules[2]") && p[1].contains("h-99"), "{p:?}");
        let p = problems("[holdout]\nmax_interval_pp = 0\n");
        assert!(
            p.len() == 1 && p[0].contains("holdout.max_interval_pp") && p[0].contains("= 0 "),
            "{p:?}"
        );
    }
}
