//! Why a schedules file was refused, and where.
//!
//! Bad TOML, cron expressions and templates get a clear
//! error naming what and where, and change nothing else; the daemon keeps
//! its previous schedules on a failed reload. Every problem names the file,
//! the line when known, and the key.

use std::fmt;

use thiserror::Error;

use super::cron::CronExprError;
use super::template::TemplateErrorKind;

/// A schedules file that cannot be used.
#[derive(Debug, Error)]
pub enum ScheduleError {
    /// The schedules file could not be read (missing, unreadable, not UTF-8).
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key or value does not fit the
    /// schedules shape (unknown keys, wrong types, missing keys).
    #[error("{file}:{line}:{column}: {message}")]
    Toml {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The parser's explanation.
        message: String,
    },
    /// The TOML is well-formed but breaks the rules; every problem found is
    /// listed, not only the first.
    #[error("{file}: {count} problem{s}:\n{list}", count = problems.len(), s = if problems.len() == 1 { "" } else { "s" }, list = list(problems))]
    Invalid {
        /// The schedules file.
        file: String,
        /// What is wrong, in file order.
        problems: Vec<Problem>,
    },
}

impl ScheduleError {
    /// The problems of an [`ScheduleError::Invalid`]; empty otherwise.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
}

/// One problem at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file the problem is in (the schedules file or a template file).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key, as a path: `rule "h-7".offset_days`, `scan.cron[1]`.
    pub key: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}: {}", self.file, self.key, self.kind),
            None => write!(f, "{}: {}: {}", self.file, self.key, self.kind),
        }
    }
}

/// What is wrong with one value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProblemKind {
    /// A scan cron expression that is malformed or never fires.
    #[error("{0}")]
    InvalidCron(CronExprError),
    /// `scan.cron` is an empty list: no scan would ever run.
    #[error("no cron expression: the scan would never run")]
    NoScanCron,
    /// `digest.cron` is an empty list: remove `[digest]` to send no digest.
    #[error("no cron expression: no digest would ever be sent (remove [digest] to send none)")]
    NoDigestCron,
    /// Not an IANA time zone name.
    #[error("{0:?} is not a time zone (use an IANA name such as \"Asia/Jakarta\")")]
    BadTimeZone(String),
    /// Not an `HH:MM` time.
    #[error("{0}")]
    BadTime(String),
    /// Quiet hours whose start equals their end would forbid every minute.
    #[error("quiet hours {0}-{0} cover the whole day: no message could ever be sent")]
    QuietHoursWholeDay(String),
    /// A send window whose start equals its end.
    #[error("send window {0}-{0} is empty or the whole day; give different start and end times")]
    EmptySendWindow(String),
    /// A send window that reaches into quiet hours (no message may be sent then).
    #[error("send window {window} reaches into quiet hours {quiet}; keep it within {allowed}")]
    WindowInQuietHours {
        /// The window as configured.
        window: String,
        /// The quiet hours.
        quiet: String,
        /// The hours quiet hours leave open.
        allowed: String,
    },
    /// A rule name outside `[a-z0-9+_-]{1,64}`; names are stored with every reminder.
    #[error("rule name {0:?} must be 1-64 characters of a-z, 0-9, +, _ and -")]
    BadRuleName(String),
    /// Two rules with one name would share their reminders' identity.
    #[error("rule name {name:?} is already used at line {first_line}")]
    DuplicateRule {
        /// The name.
        name: String,
        /// Where it was first defined.
        first_line: usize,
    },
    /// `offset_days` outside the allowed range.
    #[error("offset_days {value} is outside {min}..={max}")]
    OffsetOutOfRange {
        /// The configured offset.
        value: i64,
        /// Lowest allowed.
        min: i32,
        /// Highest allowed.
        max: i32,
    },
    /// A number outside its allowed range.
    #[error("{value} is outside {min}..={max}")]
    OutOfRange {
        /// The configured value.
        value: i64,
        /// Lowest allowed.
        min: i64,
        /// Highest allowed.
        max: i64,
    },
    /// `min_months_in_arrears` greater than `max_months_in_arrears`: the rule matches no one.
    #[error("min_months_in_arrears {min} is greater than max_months_in_arrears {max}: the rule matches no one")]
    ArrearsRange {
        /// The minimum, as written (`3`, `"nonactive"`).
        min: String,
        /// The maximum, as written.
        max: String,
    },
    /// A value that is not one of the accepted words.
    #[error("{0}")]
    UnknownChoice(String),
    /// An empty filter list would match no one; leave the key out to match everyone.
    #[error("empty list matches no one; remove the key to match everyone")]
    EmptyFilter,
    /// A rule with no channel would never send.
    #[error("no channel: give \"sms\", \"email\" or both")]
    NoChannel,
    /// The same channel twice in one rule.
    #[error("channel {0:?} is listed twice")]
    DuplicateChannel(String),
    /// A rule naming a template that is not defined.
    #[error("unknown template {name:?}; defined templates: {defined}")]
    UnknownTemplate {
        /// The name used.
        name: String,
        /// The names defined, comma-separated.
        defined: String,
    },
    /// A template name outside `[a-z0-9+_-]`.
    #[error("template name {0:?} must be 1-64 characters of a-z, 0-9, +, _ and -")]
    BadTemplateName(String),
    /// An email rule whose template has no subject.
    #[error("rule sends email but template {0:?} has no subject (add `subject = \"...\"` or a `Subject:` first line)")]
    MissingSubject(String),
    /// A template error (unknown variable, unbalanced braces).
    #[error("{kind}")]
    Template {
        /// The template's name.
        template: String,
        /// What is wrong.
        kind: TemplateErrorKind,
    },
    /// An SMS template whose own text leaves GSM-7.
    #[error(
        "sent by SMS but contains {chars}, outside GSM-7: each SMS would cost about three times as much \
         (replace them, or set allow_ucs2 = true)"
    )]
    NotGsm7 {
        /// The template's name.
        template: String,
        /// The offending characters, quoted.
        chars: String,
    },
    /// A template with both or neither of `text` and `file`.
    #[error("needs exactly one of `text` and `file`")]
    TemplateSource(String),
    /// Both `html` and `html_file`.
    #[error("has both `html` and `html_file`; keep one")]
    HtmlSource(String),
    /// An empty template text.
    #[error("the template text is empty")]
    EmptyTemplate(String),
    /// A subject given both as `subject` and as a file's `Subject:` line.
    #[error("has a subject both as `subject` and as its file's `Subject:` line; keep one")]
    SubjectTwice(String),
    /// A template file that cannot be read.
    #[error("cannot read template file {path}: {reason}")]
    TemplateFile {
        /// The resolved path.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// Not a kelurahan code prefix.
    #[error("{0}")]
    BadKelurahanPrefix(String),
    /// Not a full kelurahan code.
    #[error("{0}")]
    BadKelurahanCode(String),
    /// Two overrides for one kelurahan (the code written twice, dotted and undotted).
    #[error("kelurahan {code} already has an override at line {first_line}")]
    DuplicateKelurahan {
        /// The code.
        code: String,
        /// Where the first override is.
        first_line: usize,
    },
    /// A kelurahan code the kelurahan list does not have.
    #[error("kelurahan {0} is not in the kelurahan list")]
    UnknownKelurahan(String),
    /// Not a `YYYY-MM-DD` date.
    #[error("holiday {0:?} must be a date written YYYY-MM-DD")]
    BadHoliday(String),
    /// A coordinator's e-mail address or phone number that does not parse.
    #[error("{0}")]
    BadContact(String),
    /// A `[holdout]` value out of its range or naming a rule it may not hold out.
    #[error("{0}")]
    BadHoldout(String),
}
