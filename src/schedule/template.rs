//! Reminder templates.
//!
//! Syntax, parsed once when the schedules load:
//! - `{name}` is replaced by a variable's value (see [`Variable`] for the
//!   list; names are English, lower case with underscores).
//! - `{coordinator|agen Perisai}` uses the text after `|` when the value is
//!   empty (an unknown KPJ, a kelurahan without coordinator). The fallback
//!   may not contain braces or line breaks.
//! - `{{` and `}}` are a literal `{` and `}` (each costs 2 GSM-7 septets).
//! - Anything else between braces is an error naming the template, the
//!   line and the variable; an unknown variable never reaches a participant.
//!
//! In an SMS the values that come from participant data (name, kelurahan,
//! coordinator, KPJ) are transliterated to GSM-7 where a plain equivalent
//! exists: one `’` in a name would switch the whole message to UCS-2, 70
//! characters an SMS instead of 160. Email keeps the values as they are, and HTML
//! escapes them.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use super::encoding::{SmsSize, measure, to_gsm7};
use super::template_syntax::{Piece, names_used, parse_pieces};
pub use super::template_syntax::{TemplateErrorKind, TemplateSyntaxError};
use super::vars::{ReminderVars, Variable};

/// A parsed template text (an SMS/plain body, an email subject or an HTML part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateText {
    /// The text as written (trailing white space removed).
    source: String,
    /// The parsed pieces.
    pieces: Vec<Piece<Variable>>,
}

impl TemplateText {
    /// Parses `source`, collecting every error rather than only the first.
    pub fn parse(source: &str) -> Result<Self, Vec<TemplateSyntaxError>> {
        let source = source.trim_end().to_string();
        let pieces = parse_pieces(&source, Variable::from_name)?;
        Ok(Self { source, pieces })
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variables used, each once.
    pub fn variables(&self) -> BTreeSet<Variable> {
        names_used(&self.pieces)
    }

    /// Renders with `format` turning each (variable, raw value) into text.
    fn render_with(&self, vars: &ReminderVars, format: impl Fn(Variable, String) -> String) -> String {
        let mut out = String::with_capacity(self.source.len() + 32);
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Var { var, fallback } => {
                    let value = vars.value(*var);
                    match fallback {
                        Some(fallback) if value.trim().is_empty() => out.push_str(fallback),
                        _ => out.push_str(&format(*var, value)),
                    }
                }
            }
        }
        out
    }
}

/// Where a template was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateOrigin {
    /// `text = "..."` in the schedules file.
    Inline,
    /// `file = "..."`, resolved against the schedules file's directory.
    File(PathBuf),
}

impl fmt::Display for TemplateOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inline => f.write_str("inline"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// An email rendered for one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// The subject line (empty if the template has none; configuration
    /// refuses email rules whose template has no subject).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML alternative, when the template has one.
    pub html: Option<String>,
}

/// A named reminder template: the message body, and for email a subject and
/// an optional HTML part.
#[derive(Debug, Clone)]
pub struct Template {
    /// The name rules refer to (`[template.NAME]`).
    name: String,
    /// Where it was written.
    origin: TemplateOrigin,
    /// The SMS text, also the plain-text email body.
    text: TemplateText,
    /// The email subject.
    subject: Option<TemplateText>,
    /// The email HTML part.
    html: Option<TemplateText>,
    /// Whether the operator accepts a UCS-2 SMS (three times the cost).
    allow_ucs2: bool,
}

impl Template {
    /// A template from its parts (configuration builds these; tests and
    /// tools may too).
    pub fn new(
        name: impl Into<String>,
        origin: TemplateOrigin,
        text: TemplateText,
        subject: Option<TemplateText>,
        html: Option<TemplateText>,
        allow_ucs2: bool,
    ) -> Self {
        Self {
            name: name.into(),
            origin,
            text,
            subject,
            html,
            allow_ucs2,
        }
    }

    /// An inline template with only a text.
    pub fn from_text(name: &str, text: &str) -> Result<Self, Vec<TemplateSyntaxError>> {
        Ok(Self::new(
            name,
            TemplateOrigin::Inline,
            TemplateText::parse(text)?,
            None,
            None,
            false,
        ))
    }

    /// The template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it was written.
    pub fn origin(&self) -> &TemplateOrigin {
        &self.origin
    }

    /// The SMS / plain-text body.
    pub fn text(&self) -> &TemplateText {
        &self.text
    }

    /// The email subject, if any.
    pub fn subject(&self) -> Option<&TemplateText> {
        self.subject.as_ref()
    }

    /// The HTML part, if any.
    pub fn html(&self) -> Option<&TemplateText> {
        self.html.as_ref()
    }

    /// Whether the operator accepted a UCS-2 SMS for this template.
    pub fn allows_ucs2(&self) -> bool {
        self.allow_ucs2
    }

    /// Every variable used in the text, subject and HTML.
    pub fn variables(&self) -> BTreeSet<Variable> {
        let mut all = self.text.variables();
        for part in [&self.subject, &self.html].into_iter().flatten() {
            all.extend(part.variables());
        }
        all
    }

    /// The SMS text for one participant: values from participant data are
    /// transliterated to GSM-7 where possible.
    pub fn render(&self, vars: &ReminderVars) -> String {
        self.text.render_with(vars, |var, value| {
            if var.is_free_text() {
                to_gsm7(&value).into_owned()
            } else {
                value
            }
        })
    }

    /// The email for one participant: values kept as they are, HTML-escaped
    /// in the HTML part. Subject line breaks become spaces.
    pub fn render_email(&self, vars: &ReminderVars) -> RenderedEmail {
        let verbatim = |_: Variable, value: String| value;
        let subject = self
            .subject
            .as_ref()
            .map(|s| s.render_with(vars, verbatim).replace(['\r', '\n'], " "))
            .unwrap_or_default();
        RenderedEmail {
            subject,
            text: self.text.render_with(vars, verbatim),
            html: self
                .html
                .as_ref()
                .map(|h| h.render_with(vars, |_, value| escape_html(&value))),
        }
    }

    /// The sample participant used to check templates.
    pub fn sample() -> ReminderVars {
        ReminderVars::sample()
    }

    /// The SMS size of this template rendered for the sample participant.
    pub fn sample_size(&self) -> SmsSize {
        measure(&self.render(&Self::sample()))
    }

    /// Whether two templates would send the same messages (where they were
    /// written does not matter).
    pub fn same_content(&self, other: &Template) -> bool {
        self.text == other.text
            && self.subject == other.subject
            && self.html == other.html
            && self.allow_ucs2 == other.allow_ucs2
    }
}

/// Escapes a value for HTML text and attribute context, as the compiled
/// templates do.
pub(crate) fn escape_html(value: &str) -> String {
    crate::html::escape(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::encoding::SmsEncoding;

    fn render(text: &str) -> String {
        Template::from_text("t", text).unwrap().render(&ReminderVars::sample())
    }

    fn errors(text: &str) -> Vec<TemplateSyntaxError> {
        TemplateText::parse(text).unwrap_err()
    }

    #[test]
    fn substitutes_every_variable() {
        let all: Vec<String> = Variable::ALL.iter().map(|v| format!("{v}={{{v}}}")).collect();
        let out = render(&all.join(" "));
        assert_eq!(
            out,
            "name=SITI AMINAH kpj=19012345678 month=Juli 2025 amount=Rp16.800 due_date=15 Juli 2025 \
             kelurahan=Yosomulyo months_in_arrears=1 amount_due=Rp16.800 first_unpaid_month=Juli 2025 \
             paid_through_month=Juni 2025 coordinator=Ratna Dewi nonactive_date=16 September 2025"
        );
    }

    #[test]
    fn doubled_braces_are_literal() {
        assert_eq!(render("{{name}} is {name}, }}{{"), "{name} is SITI AMINAH, }{");
    }

    #[test]
    fn fallback_is_used_for_empty_values_only() {
        let template = Template::from_text("t", "Hubungi {coordinator|agen Perisai}.").unwrap();
        let mut vars = ReminderVars::sample();
        assert_eq!(template.render(&vars), "Hubungi Ratna Dewi.");
        vars.coordinator = None;
        assert_eq!(template.render(&vars), "Hubungi agen Perisai.");
        vars.coordinator = Some("  ".into());
        assert_eq!(template.render(&vars), "Hubungi agen Perisai.");
    }

    #[test]
    fn unknown_variables_are_named_with_their_line() {
        let errs = errors("Yth. {nama},\niuran {bulan} {amount}");
        assert_eq!(
            errs,
            vec![
                TemplateSyntaxError {
                    line: 1,
                    kind: TemplateErrorKind::UnknownVariable("nama".into())
                },
                TemplateSyntaxError {
                    line: 2,
                    kind: TemplateErrorKind::UnknownVariable("bulan".into())
                },
            ]
        );
        assert!(errs[0].to_string().contains("unknown variable {nama}"), "{}", errs[0]);
        assert!(errs[0].to_string().contains("due_date"), "{}", errs[0]);
    }

    #[test]
    fn malformed_braces_are_errors() {
        let kinds = |t: &str| errors(t).into_iter().map(|e| e.kind).collect::<Vec<_>>();
        assert_eq!(kinds("a {name"), vec![TemplateErrorKind::Unclosed]);
        assert_eq!(
            kinds("a {name\n}"),
            vec![TemplateErrorKind::Unclosed, TemplateErrorKind::UnmatchedClose]
        );
        assert_eq!(kinds("a } b"), vec![TemplateErrorKind::UnmatchedClose]);
        assert_eq!(kinds("a {} b"), vec![TemplateErrorKind::EmptyVariable]);
        assert_eq!(kinds("{ name }"), vec![TemplateErrorKind::InvalidName(" name ".into())]);
        assert_eq!(kinds("{Name}"), vec![TemplateErrorKind::InvalidName("Name".into())]);
        assert_eq!(kinds("{{name}"), vec![TemplateErrorKind::UnmatchedClose]);
    }

    #[test]
    fn names_are_transliterated_in_sms_but_not_in_email() {
        let template = Template::new(
            "t",
            TemplateOrigin::Inline,
            TemplateText::parse("Yth. {name}").unwrap(),
            Some(TemplateText::parse("Iuran {name}").unwrap()),
            Some(TemplateText::parse("<p>Yth. {name}</p>").unwrap()),
            false,
        );
        let mut vars = ReminderVars::sample();
        vars.name = "Ma’ruf <Ángel>".into();
        let sms = template.render(&vars);
        assert_eq!(sms, "Yth. Ma'ruf <Angel>");
        assert_eq!(measure(&sms).encoding, SmsEncoding::Gsm7);
        let email = template.render_email(&vars);
        assert_eq!(email.subject, "Iuran Ma’ruf <Ángel>");
        assert_eq!(email.text, "Yth. Ma’ruf <Ángel>");
        assert_eq!(email.html.as_deref(), Some("<p>Yth. Ma’ruf &lt;Ángel&gt;</p>"));
    }

    #[test]
    fn lists_its_variables() {
        let t = Template::from_text("t", "{name} {amount} {name} {{kpj}}").unwrap();
        assert_eq!(t.variables(), [Variable::Name, Variable::Amount].into_iter().collect());
    }

    #[test]
    fn trailing_white_space_is_dropped() {
        assert_eq!(render("Halo {name}\n\n"), "Halo SITI AMINAH");
    }

    #[test]
    fn sample_size_measures_the_rendered_text() {
        let t = Template::from_text("t", "Yth. {name}, iuran {month} {amount}.").unwrap();
        let size = t.sample_size();
        assert_eq!(size.encoding, SmsEncoding::Gsm7);
        assert_eq!(size.units, "Yth. SITI AMINAH, iuran Juli 2025 Rp16.800.".len());
    }
}
