//! Tests of `Schedules::parse` and `Schedules::load`: the shipped file,
//! every kind of bad input (each naming the file and the line or key), and
//! the per-kelurahan lookups the scan relies on.

mod bad_input;
mod digest;
mod loading;

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::domain::{DueDateRules, Funding, KelurahanCode, StandingRules};
use crate::schedule::cron::CronExprError;
use crate::schedule::encoding::{SmsEncoding, measure};
use crate::schedule::error::{Problem, ProblemKind, ScheduleError};
use crate::schedule::rules::{Anchor, ArrearsBound, Channel};
use crate::schedule::template::{TemplateErrorKind, TemplateOrigin};
use crate::schedule::vars::ReminderVars;
use crate::schedule::window::SendWindow;
use crate::schedule::{Schedules, diff};

const FILE: &str = "test.toml";

/// A small valid file: one inline template, one rule.
const BASE: &str = r#"[template.t]
text = "Yth. {name}, iuran {month} {amount}."
subject = "Iuran {month}"

[[rule]]
name = "r"
offset_days = -7
channels = ["sms"]
template = "t"
"#;

fn parse(text: &str) -> Result<Schedules, ScheduleError> {
    Schedules::parse(text, Path::new("/nonexistent"), FILE)
}

fn problems(text: &str) -> Vec<Problem> {
    match parse(text) {
        Err(ScheduleError::Invalid { file, problems }) => {
            assert_eq!(file, FILE);
            problems
        }
        other => panic!("expected validation problems, got {other:?}"),
    }
}

/// The only problem of `text`, checked to name the file, `line` and `key`.
fn problem_at(text: &str, line: usize, key: &str) -> ProblemKind {
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    let p = found.into_iter().next().unwrap();
    assert_eq!(
        (p.file.as_str(), p.line, p.key.as_str()),
        (FILE, Some(line), key),
        "{p}"
    );
    assert!(p.to_string().starts_with(&format!("{FILE}:{line}: {key}: ")), "{p}");
    p.kind
}

fn toml_error(text: &str) -> (usize, String) {
    match parse(text) {
        Err(ScheduleError::Toml {
            file, line, message, ..
        }) => {
            assert_eq!(file, FILE);
            (line, message)
        }
        other => panic!("expected a TOML error, got {other:?}"),
    }
}

fn code(s: &str) -> KelurahanCode {
    KelurahanCode::parse(s).unwrap()
}

fn shipped_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/schedules.toml")
}
