//! The templates of a generic webhook gateway (`[sms.gateway.webhook]`):
//! `{name}` placeholders, `{{` and `}}` for literal braces, in the same
//! syntax and through the same parser as the reminder templates
//! ([`crate::schedule::template`]), without fallbacks. Parsed once when the
//! pool is built, so an unknown placeholder is a configuration error at
//! start, not a failed send at 3 a.m.

use std::collections::BTreeSet;

use crate::schedule::template_syntax::{Piece, TemplateErrorKind, names_used, parse_pieces};

/// The values a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Placeholder {
    /// `{to}`: E.164, `+6281…`.
    To,
    /// `{to_digits}`: E.164 without `+`.
    ToDigits,
    /// `{text}`: the message.
    Text,
    /// `{id}`: our reminder id.
    Id,
    /// `{idempotency_key}`: the reminder's idempotency key.
    IdempotencyKey,
    /// `{sender}`: the configured sender.
    Sender,
    /// `{callback_url}`: where receipts go.
    CallbackUrl,
    /// `{token}`: the receipt token.
    Token,
    /// `{password}`: the gateway's password or API key.
    Password,
}

impl Placeholder {
    /// Every placeholder, in the order the documentation lists them.
    const ALL: [Self; 9] = [
        Self::To,
        Self::ToDigits,
        Self::Text,
        Self::Id,
        Self::IdempotencyKey,
        Self::Sender,
        Self::CallbackUrl,
        Self::Token,
        Self::Password,
    ];

    /// Its name between braces.
    fn name(self) -> &'static str {
        match self {
            Self::To => "to",
            Self::ToDigits => "to_digits",
            Self::Text => "text",
            Self::Id => "id",
            Self::IdempotencyKey => "idempotency_key",
            Self::Sender => "sender",
            Self::CallbackUrl => "callback_url",
            Self::Token => "token",
            Self::Password => "password",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Its pieces in order.
    pieces: Vec<Piece<Placeholder>>,
}

impl Template {
    /// Parses `source`; the error names the first problem.
    pub fn parse(source: &str) -> Result<Self, String> {
        let pieces = parse_pieces(source, Placeholder::parse).map_err(|errors| {
            let known = Placeholder::ALL.map(Placeholder::name).join(", ");
            let unknown = |name: &str| format!("unknown placeholder {{{name}}} in {source:?} (known: {known})");
            match errors.first().map(|e| &e.kind) {
                Some(TemplateErrorKind::Unclosed) => format!("unclosed '{{' in {source:?}"),
                Some(TemplateErrorKind::UnmatchedClose) => {
                    format!("unmatched '}}' in {source:?} (write '}}}}' for a brace)")
                }
                Some(TemplateErrorKind::UnknownVariable(name) | TemplateErrorKind::InvalidName(name)) => unknown(name),
                Some(TemplateErrorKind::EmptyVariable) | None => unknown(""),
            }
        })?;
        // A fallback (`{to|…}`) is the reminder templates' own: a request
        // must never go out with a made-up recipient or text.
        if let Some(name) = pieces.iter().find_map(|p| match p {
            Piece::Var {
                var,
                fallback: Some(fallback),
            } => Some(format!("{}|{fallback}", var.name())),
            _ => None,
        }) {
            return Err(format!(
                "unknown placeholder {{{name}}} in {source:?} (a webhook template has no fallbacks)"
            ));
        }
        Ok(Self { pieces })
    }

    /// The placeholders it uses.
    pub(crate) fn placeholders(&self) -> BTreeSet<Placeholder> {
        names_used(&self.pieces)
    }

    /// The template with every value looked up and passed through `escape`
    /// (literals are kept as written).
    pub fn render(&self, value: impl Fn(Placeholder) -> String, escape: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Var { var, .. } => out.push_str(&escape(&value(*var))),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(p: Placeholder) -> String {
        match p {
            Placeholder::To => "+6281234567890".into(),
            Placeholder::Text => "a b/c".into(),
            _ => "x".into(),
        }
    }

    #[test]
    fn renders_values_escaped_and_literals_as_written() {
        let t = Template::parse("/send/{to}?m={text}&j={{x}}").unwrap();
        let out = t.render(value, |v| v.replace(' ', "%20"));
        assert_eq!(out, "/send/+6281234567890?m=a%20b/c&j={x}");
        assert_eq!(t.placeholders(), [Placeholder::To, Placeholder::Text].into());
    }

    #[test]
    fn unknown_or_broken_placeholders_are_refused() {
        assert!(
            Template::parse("{phone}")
                .unwrap_err()
                .contains("unknown placeholder {phone}")
        );
        assert!(Template::parse("{to").unwrap_err().contains("unclosed"));
        assert!(Template::parse("to}").unwrap_err().contains("unmatched"));
    }

    #[test]
    fn a_fallback_is_refused_and_the_known_names_are_listed() {
        let error = Template::parse("{to|+620000}").unwrap_err();
        assert!(error.contains("unknown placeholder {to|+620000}"), "{error}");
        assert!(error.contains("no fallbacks"), "{error}");
        let error = Template::parse("{phone}").unwrap_err();
        assert!(error.contains("idempotency_key"), "{error}");
    }
}
