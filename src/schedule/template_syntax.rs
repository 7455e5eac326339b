//! The syntax every template of the project is written in, parsed once:
//! `{name}` for a value, `{name|fallback}` for a value that may be empty,
//! `{{` and `}}` for literal braces, anything else between braces an error
//! with its line. Reminder templates look names up among the [`Variable`]s,
//! a webhook gateway's request templates among its placeholders.

use std::collections::BTreeSet;

use thiserror::Error;

use super::vars::Variable;

/// What is wrong at one place of a template text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateErrorKind {
    /// The name between braces is well-formed but not a known variable.
    #[error("unknown variable {{{0}}}; known variables: {known}", known = known_variables())]
    UnknownVariable(String),
    /// A `{` with no `}` on the same line.
    #[error("`{{` is not closed by `}}` on the same line (write `{{{{` for a literal brace)")]
    Unclosed,
    /// A `}` that closes nothing.
    #[error("`}}` closes nothing (write `}}}}` for a literal brace)")]
    UnmatchedClose,
    /// `{}` or `{|...}`.
    #[error("empty variable name `{{}}`")]
    EmptyVariable,
    /// A name that cannot be a variable (spaces, capitals, punctuation).
    #[error("{0:?} is not a variable name (lower-case letters, digits and `_`)")]
    InvalidName(String),
}

/// All variable names, for error messages.
fn known_variables() -> String {
    Variable::ALL.map(Variable::name).join(", ")
}

/// One error in a template text, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {kind}")]
pub struct TemplateSyntaxError {
    /// 1-based line within the text.
    pub line: usize,
    /// What is wrong.
    pub kind: TemplateErrorKind,
}

/// One piece of a parsed text; `N` is the kind of name a template may use
/// (a reminder's [`Variable`], a webhook's placeholder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<N> {
    /// Text copied as is.
    Literal(String),
    /// A name, with the text used when its value is empty.
    Var {
        /// Which name.
        var: N,
        /// Used instead of an empty value.
        fallback: Option<String>,
    },
}

/// The names `pieces` use, each once.
pub(crate) fn names_used<N: Ord + Copy>(pieces: &[Piece<N>]) -> BTreeSet<N> {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Var { var, .. } => Some(*var),
            Piece::Literal(_) => None,
        })
        .collect()
}

/// Parses `source` into pieces, looking names up with `lookup`; every
/// error rather than only the first.
pub(crate) fn parse_pieces<N>(
    source: &str,
    lookup: impl Fn(&str) -> Option<N>,
) -> Result<Vec<Piece<N>>, Vec<TemplateSyntaxError>> {
    let mut parser = Parser {
        pieces: Vec::new(),
        literal: String::new(),
        errors: Vec::new(),
        line: 1,
        lookup,
    };
    parser.run(source);
    if parser.errors.is_empty() {
        Ok(parser.pieces)
    } else {
        Err(parser.errors)
    }
}

/// The state of one parse.
struct Parser<N, L> {
    /// Pieces so far.
    pieces: Vec<Piece<N>>,
    /// Literal text not yet pushed as a piece.
    literal: String,
    /// Errors so far.
    errors: Vec<TemplateSyntaxError>,
    /// The current 1-based line.
    line: usize,
    /// The name a text between braces stands for.
    lookup: L,
}

impl<N, L: Fn(&str) -> Option<N>> Parser<N, L> {
    fn run(&mut self, source: &str) {
        self.line = 1;
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    self.literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    self.literal.push('}');
                }
                '}' => self.error(TemplateErrorKind::UnmatchedClose),
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    while let Some(&next) = chars.peek() {
                        if next == '\n' || next == '{' {
                            break;
                        }
                        chars.next();
                        if next == '}' {
                            closed = true;
                            break;
                        }
                        inner.push(next);
                    }
                    if closed {
                        self.variable(&inner);
                    } else {
                        self.error(TemplateErrorKind::Unclosed);
                    }
                }
                '\n' => {
                    self.line += 1;
                    self.literal.push(c);
                }
                _ => self.literal.push(c),
            }
        }
        self.flush();
    }

    fn variable(&mut self, inner: &str) {
        let (name, fallback) = match inner.split_once('|') {
            Some((name, fallback)) => (name, Some(fallback.to_string())),
            None => (inner, None),
        };
        if name.is_empty() {
            return self.error(TemplateErrorKind::EmptyVariable);
        }
        let well_formed = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !well_formed {
            return self.error(TemplateErrorKind::InvalidName(name.to_string()));
        }
        match (self.lookup)(name) {
            Some(var) => {
                self.flush();
                self.pieces.push(Piece::Var { var, fallback });
            }
            None => self.error(TemplateErrorKind::UnknownVariable(name.to_string())),
        }
    }

    fn flush(&mut self) {
        if !self.literal.is_empty() {
            self.pieces.push(Piece::Literal(std::mem::take(&mut self.literal)));
        }
    }

    fn error(&mut self, kind: TemplateErrorKind) {
        self.errors.push(TemplateSyntaxError { line: self.line, kind });
    }
}
