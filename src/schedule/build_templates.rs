//! Loads `[template.NAME]` tables: inline texts and files under the
//! schedules file's directory, each parsed once, with errors that point at
//! the template file's own line when the text lives in a file.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

use super::check::Checker;
use super::error::ProblemKind;
use super::raw::RawTemplate;
use super::rules::is_valid_rule_name;
use super::template::{Template, TemplateOrigin, TemplateText};

/// Where a template text starts, for error lines.
#[derive(Debug, Clone)]
pub(super) struct TextLocation {
    /// The file the text is in.
    pub file: String,
    /// The line of the text's first line in that file.
    pub first_line: usize,
}

/// A template and where it was defined.
#[derive(Debug, Clone)]
pub(super) struct LoadedTemplate {
    /// The parsed template.
    pub template: Template,
    /// Where its body text starts.
    pub text_at: TextLocation,
}

/// Builds every template; broken ones are left out after their problems
/// are recorded.
pub(super) fn build_templates(
    ck: &mut Checker<'_>,
    raw: BTreeMap<Spanned<String>, Spanned<RawTemplate>>,
) -> BTreeMap<String, LoadedTemplate> {
    let mut built = BTreeMap::new();
    for (name, table) in raw {
        let (name_span, name) = (name.span(), name.into_inner());
        let key = format!("template {name:?}");
        if !is_valid_rule_name(&name) {
            ck.at(&name_span, &key, ProblemKind::BadTemplateName(name.clone()));
            continue;
        }
        let table_span = table.span();
        if let Some(loaded) = build_one(ck, &name, &key, &table_span, table.into_inner()) {
            built.insert(name, loaded);
        }
    }
    built
}

fn build_one(
    ck: &mut Checker<'_>,
    name: &str,
    key: &str,
    table_span: &Range<usize>,
    raw: RawTemplate,
) -> Option<LoadedTemplate> {
    let (body, file_subject, origin, text_at) = match (raw.text, raw.file) {
        (Some(text), None) => {
            let at = inline_location(ck, &text.span());
            (text.into_inner(), None, TemplateOrigin::Inline, at)
        }
        (None, Some(file)) => {
            let (path, content) = read(ck, file.get_ref(), &file.span(), &format!("{key}.file"));
            let content = content?;
            let split = split_subject(&content);
            let file_name = path.display().to_string();
            let subject = split.subject.map(|s| {
                (
                    s,
                    TextLocation {
                        file: file_name.clone(),
                        first_line: 1,
                    },
                )
            });
            let at = TextLocation {
                file: file_name,
                first_line: split.body_line,
            };
            (split.body, subject, TemplateOrigin::File(path), at)
        }
        _ => {
            ck.at(table_span, key, ProblemKind::TemplateSource(name.to_string()));
            return None;
        }
    };
    let subject_source = match (raw.subject, file_subject) {
        (Some(_), Some(_)) => {
            ck.at(table_span, key, ProblemKind::SubjectTwice(name.to_string()));
            None
        }
        (Some(subject), None) => {
            let at = inline_location(ck, &subject.span());
            Some((subject.into_inner(), at))
        }
        (None, file_subject) => file_subject,
    };
    let html_source = match (raw.html, raw.html_file) {
        (Some(_), Some(_)) => {
            ck.at(table_span, key, ProblemKind::HtmlSource(name.to_string()));
            None
        }
        (Some(html), None) => {
            let at = inline_location(ck, &html.span());
            Some((html.into_inner(), at))
        }
        (None, Some(file)) => {
            let (path, content) = read(ck, file.get_ref(), &file.span(), &format!("{key}.html_file"));
            let content = content?;
            let at = TextLocation {
                file: path.display().to_string(),
                first_line: 1,
            };
            Some((content, at))
        }
        (None, None) => None,
    };

    if body.trim().is_empty() {
        ck.in_file(
            text_at.file.clone(),
            Some(text_at.first_line),
            key,
            ProblemKind::EmptyTemplate(name.to_string()),
        );
        return None;
    }
    let text = parse_part(ck, name, key, &body, &text_at);
    let subject = subject_source.and_then(|(s, at)| parse_part(ck, name, &format!("{key}.subject"), &s, &at));
    let html = html_source.and_then(|(h, at)| parse_part(ck, name, &format!("{key}.html"), &h, &at));
    let template = Template::new(name, origin, text?, subject, html, raw.allow_ucs2.unwrap_or(false));
    Some(LoadedTemplate { template, text_at })
}

/// Parses one text, recording its errors at their lines.
fn parse_part(ck: &mut Checker<'_>, name: &str, key: &str, source: &str, at: &TextLocation) -> Option<TemplateText> {
    match TemplateText::parse(source) {
        Ok(text) => Some(text),
        Err(errors) => {
            for error in errors {
                ck.in_file(
                    at.file.clone(),
                    Some(at.first_line + error.line - 1),
                    key,
                    ProblemKind::Template {
                        template: name.to_string(),
                        kind: error.kind,
                    },
                );
            }
            None
        }
    }
}

/// Where an inline string's content starts: a multi-line string's first
/// line break right after the opening quotes is not part of its content.
fn inline_location(ck: &Checker<'_>, span: &Range<usize>) -> TextLocation {
    let raw = ck.text.get(span.start..).unwrap_or("");
    let opens_multiline = ["\"\"\"\n", "'''\n", "\"\"\"\r\n", "'''\r\n"]
        .iter()
        .any(|p| raw.starts_with(p));
    TextLocation {
        file: ck.file.clone(),
        first_line: ck.line(span) + usize::from(opens_multiline),
    }
}

/// Reads the template file `relative` names, recording a problem at the key
/// naming it.
fn read(ck: &mut Checker<'_>, relative: &str, span: &Range<usize>, key: &str) -> (PathBuf, Option<String>) {
    let (path, read) = ck.files.read(relative);
    match read {
        Ok(content) => {
            let content = content.strip_prefix('\u{feff}').unwrap_or(&content);
            (path, Some(content.replace("\r\n", "\n")))
        }
        Err(reason) => {
            ck.at(
                span,
                key,
                ProblemKind::TemplateFile {
                    path: path.display().to_string(),
                    reason,
                },
            );
            (path, None)
        }
    }
}

/// A template file split into its optional `Subject:` line and its body.
#[derive(Debug, PartialEq, Eq)]
struct SplitFile {
    /// The subject, without `Subject:`.
    subject: Option<String>,
    /// The body text.
    body: String,
    /// The line of the file the body starts on.
    body_line: usize,
}

/// Splits an optional first line `Subject: ...` (and one blank line after
/// it) from the body.
fn split_subject(content: &str) -> SplitFile {
    let (first, rest) = content.split_once('\n').unwrap_or((content, ""));
    let subject = first
        .get(..8)
        .filter(|head| head.eq_ignore_ascii_case("subject:"))
        .map(|_| first[8..].trim().to_string());
    match subject {
        None => SplitFile {
            subject: None,
            body: content.to_string(),
            body_line: 1,
        },
        Some(subject) => match rest.split_once('\n') {
            Some((blank, body)) if blank.trim().is_empty() => SplitFile {
                subject: Some(subject),
                body: body.to_string(),
                body_line: 3,
            },
            _ => SplitFile {
                subject: Some(subject),
                body: rest.to_string(),
                body_line: 2,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_subject_line() {
        assert_eq!(
            split_subject("Subject: Iuran {month}\n\nYth. {name}\n"),
            SplitFile {
                subject: Some("Iuran {month}".into()),
                body: "Yth. {name}\n".into(),
                body_line: 3
            }
        );
        assert_eq!(
            split_subject("subject:Iuran\nYth."),
            SplitFile {
                subject: Some("Iuran".into()),
                body: "Yth.".into(),
                body_line: 2
            }
        );
        assert_eq!(
            split_subject("Yth. {name}"),
            SplitFile {
                subject: None,
                body: "Yth. {name}".into(),
                body_line: 1
            }
        );
        // A multi-byte first line shorter than the prefix does not panic.
        assert_eq!(split_subject("Ééé").subject, None);
    }
}
