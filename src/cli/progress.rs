//! A progress bar on a terminal, nothing elsewhere (journald, pipes, CI).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::store::Progress;

/// Rows written so far, shown as a bar when stderr is a terminal.
pub struct TerminalProgress {
    /// Hidden when stderr is not a terminal.
    bar: ProgressBar,
}

impl TerminalProgress {
    /// A bar for `total` rows labelled `what`.
    pub fn new(total: u64, what: &str) -> Self {
        let bar = if std::io::stderr().is_terminal() { ProgressBar::new(total) } else { ProgressBar::hidden() };
        if let Ok(style) = ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} ({per_sec}, {eta})") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        Self { bar }
    }

    /// Sets the total once it is known.
    pub fn set_total(&self, total: u64) {
        self.bar.set_length(total);
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
