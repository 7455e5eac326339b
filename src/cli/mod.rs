//! The command line: argument definitions and the dispatch to each command.

mod commands;
mod daemon;
mod database;
mod demo;
mod operator;
mod preview;
mod progress;
mod report;
mod retention;
mod snapshot;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::domain::ContributionMonth;
use crate::report::OutputFormat;

pub use crate::telemetry::error_report;
pub use commands::run;

/// Contribution reminders for BPJS Ketenagakerjaan BPU participants, per kelurahan.
///
/// pengingat finds BPU participants whose monthly contribution is lapsing, reminds them by
/// SMS and e-mail on operator-edited schedules, and tracks receipts and payments.
/// Configuration: config/pengingat.toml (or --config), overridden by PENGINGAT__SECTION__KEY
/// environment variables.
#[derive(Debug, Parser)]
#[command(name = "pengingat", version, max_term_width = 100)]
pub struct Cli {
    /// The configuration file [default: config/pengingat.toml when it exists, else built-in defaults].
    #[arg(long, global = true, env = "PENGINGAT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Pin the clock at this RFC 3339 instant instead of the system clock (for rehearsals and
    /// tests: "what would happen on 15 July at 09:00?").
    #[arg(long, global = true, env = "PENGINGAT_CLOCK", value_name = "INSTANT", hide = true)]
    pub clock: Option<chrono::DateTime<chrono::Utc>>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations (also done at every start; running it twice is harmless).
    Migrate,

    /// Import kelurahan, participants or payments from a file.
    #[command(subcommand)]
    Import(ImportCommand),

    /// Create a synthetic, realistic population for demos and benchmarks.
    ///
    /// `--population metro` creates the Kota Metro pilot (7,446 participants: 3,364 PU and
    /// 4,082 BPU in 22 kelurahan); `--region 18 --participants 1000000` spreads BPU participants
    /// over every kelurahan/desa whose code starts with 18 (Lampung ships built in; other
    /// regions need `pengingat import kelurahan FILE` first; `--region all` is the whole country).
    Seed(SeedArgs),

    /// Validate the configuration and name the file and key of each problem.
    CheckConfig,

    /// Per kelurahan: BPU participants, active, non-active, and months in arrears.
    Status(StatusArgs),

    /// Per kelurahan and in total: standing, reminders sent/delivered/failed per channel,
    /// conversion, median days to pay and amount paid after reminders; and the same per rule.
    Report(ReportArgs),

    /// Take the monthly standing snapshots (per kelurahan, at the month's end in its own time
    /// zone) that the dashboard's 12-month chart and `report` for past months read.
    ///
    /// The daemon takes each month itself once it has ended, and the months it missed while
    /// stopped; this backfills months before that. A month taken more than three days after
    /// its end is rebuilt from the payment history and shown as "direkonstruksi". A kelurahan
    /// and month that has a snapshot keeps it.
    Snapshot(SnapshotArgs),

    /// Delete reminders of contribution months older than `[retention] months`, with their
    /// receipts and status history, after keeping their monthly totals for `report`; and status
    /// history and receipts older than that. The daemon does this at start and after each
    /// month's end. Payments, participants and standing snapshots are never deleted.
    Retention,

    /// Run the whole loop on the embedded default (SQLite) with demo data, in ./demo.
    Demo(DemoArgs),

    /// Write the shipped configuration, schedules and templates, with their comments, into DIR
    /// for editing. Refuses (and writes nothing) when any of the files already exists.
    ///
    /// Without a schedules file the daemon uses the same schedules and templates, built in.
    Init {
        /// The folder to write into; pengingat.toml there names the schedules.toml beside it.
        #[arg(default_value = "config")]
        dir: PathBuf,
    },

    /// Run the daemon: scans on the schedules' cron times, HTTP health and metrics.
    ///
    /// SIGHUP (systemctl reload) re-reads the schedules file; SIGTERM or SIGINT stops it
    /// gracefully. Under systemd it reports READY, RELOADING, STOPPING and watchdog pings.
    Run,

    /// Run one real scan now: create the reminders that are due.
    Scan {
        /// Scan once and exit (the daemon scans on its own schedule).
        #[arg(long, required = true)]
        once: bool,
    },

    /// Dry run: who would be reminded on a date, per kelurahan and rule, with sample messages.
    /// Writes nothing.
    Preview(PreviewArgs),

    /// Send one test message through the configured SMS gateways or SMTP relay, end to end.
    SendTest(SendTestArgs),

    /// Operator actions on one participant.
    #[command(subcommand)]
    Participant(ParticipantCommand),
}

#[derive(Debug, clap::Args)]
pub struct SendTestArgs {
    /// sms (through the gateways, by priority, with failover) or email (through the SMTP relay).
    #[arg(long, value_enum)]
    pub channel: TestChannel,
    /// The recipient: a mobile number (08…, +62…) or an e-mail address.
    #[arg(long)]
    pub to: String,
    /// The text [default: a short test message in Bahasa Indonesia].
    #[arg(long)]
    pub text: Option<String>,
}

/// A channel to test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestChannel {
    Sms,
    Email,
}

#[derive(Debug, Subcommand)]
pub enum ParticipantCommand {
    /// Stop reminding this participant; their pending reminders are cancelled ("opted out").
    OptOut {
        /// The participant's NIK.
        nik: String,
    },
    /// Remind this participant again.
    OptIn {
        /// The participant's NIK.
        nik: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// The day to preview (YYYY-MM-DD) [default: today].
    #[arg(long)]
    pub date: Option<chrono::NaiveDate>,
    /// Only this kelurahan (code) or code prefix.
    #[arg(long, value_name = "CODE")]
    pub kelurahan: Option<String>,
    /// Rendered sample messages per rule and channel.
    #[arg(long, default_value_t = 2)]
    pub samples: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PreviewFormat::Table)]
    pub format: PreviewFormat,
}

/// How the preview is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PreviewFormat {
    /// Aligned columns and the sample messages, for a terminal.
    Table,
    /// JSON for other programs: the counts per kelurahan, rule and channel, and the samples.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Kelurahan/desa list in the Kemendagri CSV format (kode,nama,kecamatan,kabupaten_kota,provinsi).
    Kelurahan {
        /// The CSV file.
        file: PathBuf,
    },
    /// Participants from CSV or JSON (columns in the README). Upserts by NIK.
    Participants(ImportFileArgs),
    /// Payments from CSV or JSON (columns in the README). Idempotent by external reference.
    Payments(ImportFileArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportFileArgs {
    /// The CSV or JSON file.
    pub file: PathBuf,
    /// Import the valid rows and write the rejected ones, with reasons, to FILE.rejected.csv.
    /// Without it, a file with any bad row changes nothing.
    #[arg(long)]
    pub skip_invalid: bool,
    /// The file's format [default: from its extension].
    #[arg(long, value_enum)]
    pub format: Option<FileFormatArg>,
}

/// An input file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormatArg {
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["population", "region"])))]
pub struct SeedArgs {
    /// A named population: `metro` (the Kota Metro pilot).
    #[arg(long, value_enum)]
    pub population: Option<NamedPopulation>,
    /// A kelurahan code prefix (`18`, `18.72`) or `all`.
    #[arg(long, value_name = "PREFIX")]
    pub region: Option<String>,
    /// How many participants to create with --region.
    #[arg(long, default_value_t = 10_000)]
    pub participants: u64,
    /// Share of PU (wage) participants with --region; scale populations are BPU.
    #[arg(long, default_value_t = 0.0)]
    pub pu_share: f64,
    /// The random seed: the same seed gives the same population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// A built-in population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NamedPopulation {
    /// Kota Metro, Lampung: 7,446 participants (3,364 PU, 4,082 BPU) in 22 kelurahan.
    Metro,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Standing at the start of this date (YYYY-MM-DD, each kelurahan's local time) or at an
    /// RFC 3339 instant [default: now].
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// Only this kelurahan (code, dotted or not) or code prefix.
    #[arg(long, value_name = "CODE")]
    pub kelurahan: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// First day of the period (YYYY-MM-DD, WIB); reminders count by the day they were sent.
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day of the period, included (YYYY-MM-DD, WIB); standing is taken at its end.
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// Only this kelurahan (code, dotted or not, e.g. 18.72.01.1001) or code prefix.
    #[arg(long, value_name = "CODE")]
    pub kelurahan: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// The contact-verification list instead: participants whose last two SMS failed for a
    /// reason about the number, whose e-mail the relay refused for the address, or who have no
    /// contact data, per kelurahan (--from and --to do not apply).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub contacts: bool,
    /// The reminders' effect instead: reminded vs the holdout group, per
    /// kelurahan and contribution month, with 95% intervals (needs [holdout]).
    #[arg(long, conflicts_with_all = ["from", "to", "contacts"])]
    pub effect: bool,
    /// A row per kecamatan, kabupaten/kota or province instead of per kelurahan: counts summed,
    /// ratios and medians computed afresh for each region; regions go by code, with their names.
    #[arg(long, value_enum, value_name = "LEVEL", conflicts_with_all = ["contacts", "effect"])]
    pub group_by: Option<report::GroupBy>,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("months").required(true).args(["month", "from"])))]
pub struct SnapshotArgs {
    /// One ended month (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM", value_parser = ContributionMonth::parse, conflicts_with_all = ["from", "to"])]
    pub month: Option<ContributionMonth>,
    /// The first month of a range (YYYY-MM), with --to.
    #[arg(long, value_name = "YYYY-MM", value_parser = ContributionMonth::parse, requires = "to")]
    pub from: Option<ContributionMonth>,
    /// The last month of a range (YYYY-MM), included; it must have ended.
    #[arg(long, value_name = "YYYY-MM", value_parser = ContributionMonth::parse, requires = "from")]
    pub to: Option<ContributionMonth>,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the demo database and files go.
    #[arg(long, default_value = "demo")]
    pub dir: PathBuf,
    /// The random seed of the demo population and of who pays.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many days to simulate (about two monthly contribution cycles by default).
    #[arg(long, default_value_t = 61)]
    pub days: u32,
    /// Where the daemon serves the dashboard (another free port when taken).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Exit after the report instead of serving the dashboard until Ctrl-C.
    #[arg(long)]
    pub no_serve: bool,
}
