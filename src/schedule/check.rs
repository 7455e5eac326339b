//! The bookkeeping of one validation pass: where each byte of the file is
//! (line numbers from TOML spans) and the problems found so far, so that
//! every problem is reported, not only the first.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::error::{Problem, ProblemKind};

/// Maps byte offsets of a text to 1-based line numbers.
#[derive(Debug, Clone)]
pub(super) struct LineIndex {
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { starts }
    }

    /// The 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset).max(1)
    }

    /// The 1-based column (in characters) of byte `offset` in `text`.
    pub fn column(&self, text: &str, offset: usize) -> usize {
        let start = self.starts[self.line(offset) - 1];
        text.get(start..offset).map_or(1, |s| s.chars().count() + 1)
    }
}

/// Where the template files a schedules file names are read from.
#[derive(Debug, Clone, Copy)]
pub(super) enum TemplateFiles<'a> {
    /// The folder of the schedules file.
    Dir(&'a Path),
    /// The shipped templates carried in the binary.
    Shipped,
}

impl TemplateFiles<'_> {
    /// The path `relative` names, and its text or why it cannot be read.
    pub fn read(&self, relative: &str) -> (PathBuf, Result<String, String>) {
        match self {
            Self::Dir(dir) => {
                let path = dir.join(relative);
                let text = std::fs::read_to_string(&path).map_err(|e| e.to_string());
                (path, text)
            }
            Self::Shipped => {
                let text = crate::shipped::template(relative)
                    .map(str::to_string)
                    .ok_or_else(|| "not a shipped template file".to_string());
                (PathBuf::from(relative), text)
            }
        }
    }
}

/// One validation pass over a schedules file.
pub(super) struct Checker<'a> {
    /// The schedules file, as named in messages.
    pub file: String,
    /// Its text.
    pub text: &'a str,
    /// Line numbers of `text`.
    pub lines: LineIndex,
    /// Where template files are read from.
    pub files: TemplateFiles<'a>,
    /// Problems found so far.
    pub problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    pub fn new(file: &str, text: &'a str, files: TemplateFiles<'a>) -> Self {
        Self {
            file: file.to_string(),
            text,
            lines: LineIndex::new(text),
            files,
            problems: Vec::new(),
        }
    }

    /// The line of a span of the schedules file.
    pub fn line(&self, span: &Range<usize>) -> usize {
        self.lines.line(span.start)
    }

    /// Records a problem at `span` of the schedules file.
    pub fn at(&mut self, span: &Range<usize>, key: impl Into<String>, kind: ProblemKind) {
        let line = self.line(span);
        self.problems.push(Problem {
            file: self.file.clone(),
            line: Some(line),
            key: key.into(),
            kind,
        });
    }

    /// Records a problem in another file (a template file).
    pub fn in_file(&mut self, file: String, line: Option<usize>, key: impl Into<String>, kind: ProblemKind) {
        self.problems.push(Problem {
            file,
            line,
            key: key.into(),
            kind,
        });
    }

    /// The problems, schedules file first, each file in line order.
    pub fn into_problems(self) -> Vec<Problem> {
        let main = self.file;
        let mut problems = self.problems;
        problems.sort_by(|a, b| {
            (a.file != main, &a.file, a.line.unwrap_or(0)).cmp(&(b.file != main, &b.file, b.line.unwrap_or(0)))
        });
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "a = 1\nbé = 2\n\nc = 3";
        let index = LineIndex::new(text);
        assert_eq!(index.line(0), 1);
        assert_eq!(index.line(5), 1);
        assert_eq!(index.line(6), 2);
        assert_eq!(index.line(text.find('c').unwrap()), 4);
        assert_eq!(index.column(text, text.find('=').unwrap()), 3);
        assert_eq!(index.column(text, text.find("= 2").unwrap()), 4);
    }
}
