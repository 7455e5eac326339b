//! Validates `[[rule]]` tables and the templates they use.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::str::FromStr;

use toml::Spanned;

use super::build::time;
use super::build_templates::LoadedTemplate;
use super::check::Checker;
use super::encoding::non_gsm7_chars;
use super::error::ProblemKind;
use super::raw::{RawArrears, RawRule};
use super::rules::{
    Anchor, ArrearsBound, Channel, OFFSET_DAYS_RANGE, Rule, is_valid_rule_name, parse_kelurahan_prefix,
};
use super::window::parse_time_of_day;
use crate::domain::Funding;

/// Default local send time.
pub const DEFAULT_SEND_TIME: &str = "09:00";
/// Default catch-up: a reminder up to 3 days late is still sent.
pub const DEFAULT_MAX_LATE_DAYS: u32 = 3;
/// Default expiry: a 09:00 reminder not out by 19:00 is dropped, not sent the next day.
pub const DEFAULT_EXPIRE_AFTER_HOURS: u32 = 10;

const ARREARS_RANGE: RangeInclusive<i64> = 0..=120;
const MAX_LATE_DAYS_RANGE: RangeInclusive<i64> = 0..=60;
const EXPIRE_AFTER_HOURS_RANGE: RangeInclusive<i64> = 1..=168;

/// The rules, and the line of each rule's `[[rule]]` header by name.
pub(super) struct BuiltRules {
    /// Valid rules, in file order.
    pub rules: Vec<Rule>,
    /// Header line of each rule.
    pub lines: BTreeMap<String, usize>,
}

/// Builds every rule and checks it against the templates. `declared` holds
/// every template name in the file, including broken ones (whose problems
/// are already recorded), so that they are not reported again as unknown.
pub(super) fn build_rules(
    ck: &mut Checker<'_>,
    raw: Vec<Spanned<RawRule>>,
    templates: &BTreeMap<String, LoadedTemplate>,
    declared: &BTreeSet<String>,
) -> BuiltRules {
    let mut built = BuiltRules {
        rules: Vec::new(),
        lines: BTreeMap::new(),
    };
    for raw in raw {
        let line = ck.line(&raw.span());
        let raw = raw.into_inner();
        let name = raw.name.get_ref().clone();
        let duplicate = built.lines.get(&name).copied();
        if let Some(rule) = build_one(ck, raw, templates, declared, duplicate) {
            built.lines.insert(rule.name.clone(), line);
            built.rules.push(rule);
        } else {
            built.lines.entry(name).or_insert(line);
        }
    }
    check_template_use(ck, &built.rules, &built.lines, templates);
    built
}

/// One rule; `None` after recording its problems.
fn build_one(
    ck: &mut Checker<'_>,
    raw: RawRule,
    templates: &BTreeMap<String, LoadedTemplate>,
    declared: &BTreeSet<String>,
    duplicate_of: Option<usize>,
) -> Option<Rule> {
    let before = ck.problems.len();
    let name = raw.name.get_ref().clone();
    let key = format!("rule {name:?}");
    if !is_valid_rule_name(&name) {
        ck.at(
            &raw.name.span(),
            format!("{key}.name"),
            ProblemKind::BadRuleName(name.clone()),
        );
    } else if let Some(first_line) = duplicate_of {
        let kind = ProblemKind::DuplicateRule {
            name: name.clone(),
            first_line,
        };
        ck.at(&raw.name.span(), format!("{key}.name"), kind);
    }
    let anchor = choice::<Anchor>(ck, raw.anchor.as_ref(), &format!("{key}.anchor")).unwrap_or_default();
    let offset = *raw.offset_days.get_ref();
    let (min, max) = (*OFFSET_DAYS_RANGE.start(), *OFFSET_DAYS_RANGE.end());
    if !(i64::from(min)..=i64::from(max)).contains(&offset) {
        let kind = ProblemKind::OffsetOutOfRange {
            value: offset,
            min,
            max,
        };
        ck.at(&raw.offset_days.span(), format!("{key}.offset_days"), kind);
    }
    let channels = channels(ck, &raw.channels, &format!("{key}.channels"));
    let template = raw.template.get_ref().clone();
    if !declared.contains(&template) {
        let kind = ProblemKind::UnknownTemplate {
            name: template.clone(),
            defined: declared.iter().cloned().collect::<Vec<_>>().join(", "),
        };
        ck.at(&raw.template.span(), format!("{key}.template"), kind);
    }
    let send_time = match &raw.send_time {
        Some(t) => time(ck, t, &format!("{key}.send_time")),
        None => parse_time_of_day(DEFAULT_SEND_TIME).ok(),
    };
    let funding = raw.funding.as_ref().map(|list| {
        filter_list(ck, list, &format!("{key}.funding"), |s| {
            Funding::from_str(s).map_err(|e| e.to_string())
        })
    });
    let kelurahan = raw
        .kelurahan
        .as_ref()
        .map(|list| filter_list(ck, list, &format!("{key}.kelurahan"), parse_kelurahan_prefix));
    let min_arrears = arrears_bound(ck, raw.min_months_in_arrears.as_ref(), &key, "min_months_in_arrears");
    let max_arrears = arrears_bound(ck, raw.max_months_in_arrears.as_ref(), &key, "max_months_in_arrears");
    if let (Some(min), Some(max), Some(span)) = (min_arrears, max_arrears, raw.min_months_in_arrears.as_ref())
        && min.always_exceeds(max)
    {
        let kind = ProblemKind::ArrearsRange {
            min: min.to_string(),
            max: max.to_string(),
        };
        ck.at(&span.span(), format!("{key}.min_months_in_arrears"), kind);
    }
    let max_late_days = bounded(
        ck,
        raw.max_late_days.as_ref(),
        &key,
        "max_late_days",
        MAX_LATE_DAYS_RANGE,
    );
    let expire_after_hours = bounded(
        ck,
        raw.expire_after_hours.as_ref(),
        &key,
        "expire_after_hours",
        EXPIRE_AFTER_HOURS_RANGE,
    );
    if ck.problems.len() > before || !templates.contains_key(&template) {
        return None;
    }
    Some(Rule {
        name,
        enabled: raw.enabled.unwrap_or(true),
        anchor,
        offset_days: i32::try_from(offset).ok()?,
        channels,
        template,
        send_time: send_time?,
        funding: funding.flatten(),
        kelurahan: kelurahan.flatten().unwrap_or_default(),
        min_months_in_arrears: min_arrears,
        max_months_in_arrears: max_arrears,
        max_late_days: max_late_days.unwrap_or(DEFAULT_MAX_LATE_DAYS),
        expire_after_hours: expire_after_hours.unwrap_or(DEFAULT_EXPIRE_AFTER_HOURS),
    })
}

/// A word from a fixed set (`anchor`); `None` when absent or wrong.
fn choice<T: FromStr<Err = String>>(ck: &mut Checker<'_>, raw: Option<&Spanned<String>>, key: &str) -> Option<T> {
    let raw = raw?;
    match raw.get_ref().parse::<T>() {
        Ok(value) => Some(value),
        Err(reason) => {
            ck.at(&raw.span(), key, ProblemKind::UnknownChoice(reason));
            None
        }
    }
}

/// The channel list: not empty, known, each once.
fn channels(ck: &mut Checker<'_>, raw: &Spanned<Vec<Spanned<String>>>, key: &str) -> Vec<Channel> {
    if raw.get_ref().is_empty() {
        ck.at(&raw.span(), key, ProblemKind::NoChannel);
    }
    let mut channels = Vec::new();
    for item in raw.get_ref() {
        match item.get_ref().parse::<Channel>() {
            Ok(c) if channels.contains(&c) => {
                ck.at(&item.span(), key, ProblemKind::DuplicateChannel(c.to_string()));
            }
            Ok(c) => channels.push(c),
            Err(reason) => ck.at(&item.span(), key, ProblemKind::UnknownChoice(reason)),
        }
    }
    channels
}

/// A filter list: every item parses, and the list is not empty. `None`
/// after recording a problem.
fn filter_list<T: PartialEq>(
    ck: &mut Checker<'_>,
    raw: &Spanned<Vec<Spanned<String>>>,
    key: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<Vec<T>> {
    if raw.get_ref().is_empty() {
        ck.at(&raw.span(), key, ProblemKind::EmptyFilter);
        return None;
    }
    let mut items = Vec::new();
    let mut ok = true;
    for item in raw.get_ref() {
        match parse(item.get_ref()) {
            Ok(value) if items.contains(&value) => {}
            Ok(value) => items.push(value),
            Err(reason) => {
                let kind = if key.ends_with(".kelurahan") {
                    ProblemKind::BadKelurahanPrefix(reason)
                } else {
                    ProblemKind::UnknownChoice(reason)
                };
                ck.at(&item.span(), key, kind);
                ok = false;
            }
        }
    }
    ok.then_some(items)
}

/// An optional months-in-arrears bound: a whole number within
/// [`ARREARS_RANGE`], or `"nonactive"` with an optional shift.
fn arrears_bound(
    ck: &mut Checker<'_>,
    raw: Option<&Spanned<RawArrears>>,
    key: &str,
    field: &str,
) -> Option<ArrearsBound> {
    let raw = raw?;
    let bound = match raw.get_ref() {
        RawArrears::Months(value) if ARREARS_RANGE.contains(value) => u32::try_from(*value)
            .map(ArrearsBound::Months)
            .map_err(|_| months_out_of_range(*value)),
        RawArrears::Months(value) => Err(months_out_of_range(*value)),
        RawArrears::Word(word) => word.parse::<ArrearsBound>().map_err(ProblemKind::UnknownChoice),
    };
    match bound {
        Ok(bound) => Some(bound),
        Err(kind) => {
            ck.at(&raw.span(), format!("{key}.{field}"), kind);
            None
        }
    }
}

/// A number of months in arrears outside [`ARREARS_RANGE`].
fn months_out_of_range(value: i64) -> ProblemKind {
    ProblemKind::OutOfRange {
        value,
        min: *ARREARS_RANGE.start(),
        max: *ARREARS_RANGE.end(),
    }
}

/// An optional whole number within `range`.
fn bounded(
    ck: &mut Checker<'_>,
    raw: Option<&Spanned<i64>>,
    key: &str,
    field: &str,
    range: RangeInclusive<i64>,
) -> Option<u32> {
    let raw = raw?;
    let value = *raw.get_ref();
    if !range.contains(&value) {
        let kind = ProblemKind::OutOfRange {
            value,
            min: *range.start(),
            max: *range.end(),
        };
        ck.at(&raw.span(), format!("{key}.{field}"), kind);
        return None;
    }
    u32::try_from(value).ok()
}

/// SMS templates must stay GSM-7 (unless the operator accepts UCS-2) and
/// email templates need a subject.
fn check_template_use(
    ck: &mut Checker<'_>,
    rules: &[Rule],
    lines: &BTreeMap<String, usize>,
    templates: &BTreeMap<String, LoadedTemplate>,
) {
    let mut gsm_checked = BTreeSet::new();
    for rule in rules {
        let Some(loaded) = templates.get(&rule.template) else {
            continue;
        };
        let template = &loaded.template;
        if rule.has_channel(Channel::Sms) && !template.allows_ucs2() && gsm_checked.insert(rule.template.clone()) {
            let chars = non_gsm7_chars(template.text().source());
            if !chars.is_empty() {
                let kind = ProblemKind::NotGsm7 {
                    template: rule.template.clone(),
                    chars: chars.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(" "),
                };
                let at = &loaded.text_at;
                ck.in_file(
                    at.file.clone(),
                    Some(at.first_line),
                    format!("template {:?}", rule.template),
                    kind,
                );
            }
        }
        if rule.has_channel(Channel::Email) && template.subject().is_none() {
            let kind = ProblemKind::MissingSubject(rule.template.clone());
            let line = lines.get(&rule.name).copied();
            ck.in_file(ck.file.clone(), line, format!("rule {:?}.channels", rule.name), kind);
        }
    }
}
