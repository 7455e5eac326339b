//! Reports for operators and city leadership. Labels are in Bahasa
//! Indonesia; JSON keys stay English for machines.

pub mod contacts;
pub mod effect;
pub mod grouping;
pub mod history;
pub mod outcomes;
pub mod past_standing;
pub mod rebuild;
pub mod render_effect;
pub mod render_outcomes;
pub mod snapshot;
pub mod status;
pub mod table;

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for a terminal.
    Table,
    /// Comma-separated values for a spreadsheet.
    Csv,
    /// JSON for other programs.
    Json,
}
