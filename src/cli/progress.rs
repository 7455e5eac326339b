//! A progress bar on a terminal, nothing elsewhere (journald, pipes, CI).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::store::Progress;

/// Rows written so far, shown when stderr is a terminal.
pub struct TerminalProgress {
    /// Hidden when stderr is not a terminal.
    bar: ProgressBar,
}

impl TerminalProgress {
    /// A bar for `total` rows labelled `what`, or a running count when the
    /// total is not known in advance.
    pub fn new(total: Option<u64>, what: &str) -> Self {
        let bar = match (std::io::stderr().is_terminal(), total) {
            (false, _) => ProgressBar::hidden(),
            (true, Some(total)) => ProgressBar::new(total),
            (true, None) => ProgressBar::no_length(),
        };
        let template = match total {
            Some(_) => "{msg:12} [{bar:40}] {pos}/{len} ({per_sec}, {eta})",
            None => "{msg:12} {pos} rows ({per_sec})",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        Self { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for TerminalProgress {
    fn advance(&self, rows: u64) {
        self.bar.inc(rows);
    }
}
