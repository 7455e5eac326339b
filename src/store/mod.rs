//! Storage: the [`Store`] trait, made of one role trait per part of the
//! service ([`Participants`], [`Payments`], [`Reminders`], [`Delivery`],
//! [`Reports`], [`Digests`], [`Snapshots`], [`Maintenance`]), and one small implementation
//! per backend (SQLite for the embedded default, PostgreSQL for large
//! deployments and several daemons on one database), each with its own
//! migrations folder.
//!
//! SQL that means the same on both backends is written once (`common`, with
//! the dialect seam, and the query sets beside their SQL: [`outcomes`],
//! [`reminders`], `receipt_sql`, `payment_sql`, …); each backend keeps its
//! own where the two differ in meaning: claiming and leasing, bulk writes and
//! upserts, binding lists of rows. What both
//! share that is pure Rust is in [`shared`].

mod backend_roles;
mod common;
pub mod contacts;
mod delegate;
pub mod delivery_state;
mod digest_sql;
pub mod digests;
pub mod dispatch;
mod error;
pub mod holdout;
mod import_tx;
mod occurrence_sql;
pub mod outcomes;
mod payment_sql;
mod pool;
mod postgres;
mod receipt_sql;
pub mod reminders;
pub mod replan;
pub mod retention;
mod roles;
pub mod shared;
pub mod snapshots;
mod sqlite;

use std::sync::Arc;

pub use contacts::ContactCheckRow;
pub use delivery_state::{IgnoredBecause, NewReceipt, OptOutChange, ReceiptOutcome, ReceiptState};
pub use digests::{BehindParticipant, DigestClaim, DigestOutcome, DigestRecord};
pub use dispatch::{AttemptOutcome, ClaimedReminder};
pub use error::StoreError;
pub use outcomes::{AttributedPayment, InboxFileRecord, OutcomeCounts, OutcomeFilter, PaymentSince};
pub use postgres::PgStore;
pub use reminders::{
    InsertedReminders, Occurrence, PreviewCount, ReminderRecord, RuleOccurrences, ScanTotals, WriteMark,
    WrittenParticipant,
};
pub use replan::{FundingCancel, GroupChange, PlanTiming, Replan, ReplanCounts, UnsentGroup};
pub use retention::Retention;
pub use roles::{Delivery, Digests, ImportTx, Maintenance, Participants, Payments, Reminders, Reports, Store};
pub use shared::{Attribution, PaymentBatch, PaymentOutcome, StoredPayment};
pub use snapshots::{SnapshotKey, Snapshots, StandingSnapshot};
pub use sqlite::SqliteStore;

use crate::domain::{ContributionMonth, KelurahanCode, RegionTimeZone};

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// How many writes of disjoint rows are worth running at once: SQLite
    /// has a single writer (a second write only waits for its lock), while
    /// PostgreSQL writes them side by side.
    pub fn parallel_writes(self) -> usize {
        match self {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
        }
    }
}

/// A kelurahan or desa with its names and time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kelurahan {
    pub code: KelurahanCode,
    pub name: String,
    pub kecamatan: String,
    pub kabupaten_kota: String,
    pub provinsi: String,
    /// Follows the province code.
    pub time_zone: RegionTimeZone,
}

/// A participant as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct ParticipantRecord {
    pub id: i64,
    pub nik: String,
    pub kpj: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub kelurahan_code: String,
    pub segment: String,
    pub funding: String,
    pub monthly_amount: i64,
    pub start_month: i32,
    pub paid_through: i32,
    pub preferred_channel: String,
    pub opted_out: bool,
}

impl ParticipantRecord {
    pub fn paid_through_month(&self) -> ContributionMonth {
        ContributionMonth::from_index(self.paid_through)
    }
}

/// How many BPU participants of one kelurahan are paid through one month:
/// the histogram that standing reports are computed from.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct PaidThroughCount {
    pub kelurahan_code: String,
    pub paid_through: i32,
    pub participants: i64,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl std::ops::AddAssign for UpsertCounts {
    fn add_assign(&mut self, rhs: Self) {
        self.inserted += rhs.inserted;
        self.updated += rhs.updated;
        self.unchanged += rhs.unchanged;
    }
}

/// Participants counted by segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentCounts {
    pub bpu: i64,
    pub pu: i64,
}

/// Told how many rows have been written, for a progress bar.
pub trait Progress: Send + Sync {
    fn advance(&self, rows: u64);
}

/// Progress that nobody watches.
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _rows: u64) {}
}

/// Where the payments of one call came from, stored with each payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentSource {
    Import,
    Http,
    Inbox,
}

impl PaymentSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Import => "import",
            Self::Http => "http",
            Self::Inbox => "inbox",
        }
    }
}

/// A table bulk loads write, whose planner statistics they refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkTable {
    Kelurahan,
    Participants,
    Payments,
}

impl BulkTable {
    /// The table's name in SQL.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kelurahan => "kelurahan",
            Self::Participants => "participants",
            Self::Payments => "payments",
        }
    }
}

/// Connects to the database named by `url`: `postgres://…` or
/// `postgresql://…` selects PostgreSQL, anything else (`sqlite://path`,
/// `sqlite:path` or a plain path) SQLite.
pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url, options).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(url, options).await?))
    }
}

/// Pool settings shared by both backends.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long to wait for a connection (PostgreSQL) or a lock (SQLite busy timeout).
    pub timeout: std::time::Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            timeout: std::time::Duration::from_secs(5),
        }
    }
}

/// `url` with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/p"),
            "postgres://app:***@db:5432/p"
        );
        assert_eq!(redact_url("postgres://app@db/p"), "postgres://app@db/p");
        assert_eq!(redact_url("sqlite://data/p.db"), "sqlite://data/p.db");
    }
}
