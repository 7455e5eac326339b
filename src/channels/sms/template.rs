//! The templates of a generic webhook gateway (`[sms.gateway.webhook]`):
//! `{name}` placeholders, `{{` and `}}` for literal braces. Parsed once when
//! the pool is built, so an unknown placeholder is a configuration error at
//! start, not a failed send at 3 a.m.

use std::collections::BTreeSet;

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
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "to" => Self::To,
            "to_digits" => Self::ToDigits,
            "text" => Self::Text,
            "id" => Self::Id,
            "idempotency_key" => Self::IdempotencyKey,
            "sender" => Self::Sender,
            "callback_url" => Self::CallbackUrl,
            "token" => Self::Token,
            "password" => Self::Password,
            _ => return None,
        })
    }
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text as written.
    Literal(String),
    /// A value.
    Value(Placeholder),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Its pieces in order.
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `source`; the error names the problem.
    pub fn parse(source: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(format!("unclosed '{{' in {source:?}")),
                        }
                    }
                    let value = Placeholder::parse(&name).ok_or_else(|| {
                        format!(
                            "unknown placeholder {{{name}}} in {source:?} (known: to, to_digits, text, id, sender, callback_url, token, password)"
                        )
                    })?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Value(value));
                }
                '}' => return Err(format!("unmatched '}}' in {source:?} (write '}}}}' for a brace)")),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Self { pieces })
    }

    /// The placeholders it uses.
    pub fn placeholders(&self) -> BTreeSet<Placeholder> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Value(v) => Some(*v),
                Piece::Literal(_) => None,
            })
            .collect()
    }

    /// The template with every value looked up and passed through `escape`
    /// (literals are kept as written).
    pub fn render(&self, value: impl Fn(Placeholder) -> String, escape: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Value(v) => out.push_str(&escape(&value(*v))),
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
}
