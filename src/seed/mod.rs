//! Demo and scale populations: synthetic participants that look real,
//! generated deterministically from a seed and written in chunks.
//!
//! [`Population::Metro`] is the Kota Metro pilot (7,446
//! participants: 3,364 PU and 4,082 BPU over 22 kelurahan);
//! [`Population::Region`] spreads any number over the kelurahan/desa of a
//! region, for benchmarks. The same seed and the same contribution month give
//! byte-identical participants on either backend, so re-seeding changes
//! nothing.

pub mod effect;
mod generator;
pub mod identity;
mod name_lists;
pub mod names;
pub mod population;
pub mod random;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use thiserror::Error;

pub use generator::{Generator, Person};

use crate::domain::KelurahanCode;
use crate::domain::nik::PROVINCE_CODES;
use crate::store::{BulkTable, Kelurahan, Participants, Progress, Store, StoreError, UpsertCounts};
use crate::wilayah::{self, METRO_CSV};

/// The Kota Metro pilot's numbers.
pub const METRO_PU: u64 = 3_364;
pub const METRO_BPU: u64 = 4_082;
/// Kota Metro's region code.
pub const METRO_PREFIX: &str = "18.72";

/// How many participants are generated and written at a time: large enough
/// for the stores' batched upserts, small enough to keep memory flat.
pub const CHUNK: usize = 20_000;

/// Which population to generate.
#[derive(Debug, Clone, PartialEq)]
pub enum Population {
    /// The Kota Metro pilot: 7,446 participants over its 22 kelurahan.
    Metro,
    /// `participants` over the kelurahan/desa whose code starts with
    /// `prefix` (`"18"`, `"18.72"`; `""` or `"all"` for the whole country),
    /// of whom a share `pu_share` (0 to 1) are PU and the rest BPU.
    Region {
        prefix: String,
        participants: u64,
        pu_share: f64,
    },
}

/// What to seed.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedOptions {
    /// The population.
    pub population: Population,
    /// The seed: the same seed gives the same participants.
    pub seed: u64,
    /// The instant ages and paid-through months are relative to.
    pub now: DateTime<Utc>,
}

/// What a seed run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Participants generated (and written).
    pub participants: u64,
    /// Of whom BPU.
    pub bpu: u64,
    /// Of whom PU.
    pub pu: u64,
    /// Kelurahan that received at least one participant.
    pub kelurahan: usize,
    /// Kelurahan added to the store from an embedded list first.
    pub kelurahan_loaded: u64,
    /// What the participant upserts did: a re-run of the same seed in the
    /// same month inserts and updates nothing.
    pub written: UpsertCounts,
}

/// Why a population could not be seeded.
#[derive(Debug, Error)]
pub enum SeedError {
    /// The database failed; chunks written before the failure stay (each is
    /// one transaction) and a re-run completes the population.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No kelurahan of the region are in the database and no list ships for
    /// it; the operator has to import one.
    #[error(
        "no kelurahan or desa {0} in the database; import the Kemendagri list first with \
         `pengingat import kelurahan FILE` (indonesia_kelurahan_desa.csv covers every province)"
    )]
    NoKelurahan(String),
    /// The region prefix cannot start a kelurahan code.
    #[error("region prefix {0:?} must be a code prefix such as 18 or 18.72, or \"all\"")]
    InvalidPrefix(String),
    /// The PU share is not a fraction.
    #[error("PU share {0} must be between 0 and 1")]
    InvalidShare(f64),
    /// There are not enough distinct phone numbers for the population.
    #[error("{0} participants is more than a generated population can hold (100,000,000)")]
    TooMany(u64),
    /// A list compiled into the binary does not parse: a build defect.
    #[error("the embedded kelurahan list does not parse: {0}")]
    EmbeddedList(String),
    /// One kecamatan has more people than NIK serials and birth dates allow.
    #[error("kecamatan {0} has no NIK serial left for another participant")]
    SerialsExhausted(String),
    /// A generated value failed its own parser: a defect in the generator.
    #[error("a generated {what} is invalid: {reason}")]
    Generated { what: &'static str, reason: String },
}

impl SeedError {
    /// A generated `what` that did not parse (the value itself is left out,
    /// as it would be personal data were it real).
    pub(crate) fn generated(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::Generated {
            what,
            reason: reason.to_string(),
        }
    }
}

/// What will be generated: the kelurahan and the totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedPlan {
    /// The kelurahan participants are spread over.
    pub kelurahan: Vec<Kelurahan>,
    /// BPU participants in all.
    pub bpu: u64,
    /// PU participants in all.
    pub pu: u64,
    /// Every kelurahan gets at least this many BPU (when there are enough).
    pub min_bpu_per_kelurahan: u64,
    /// Kelurahan added to the store from an embedded list.
    pub kelurahan_loaded: u64,
}

/// Resolves `population` against the store: makes sure its kelurahan are
/// there (adding those of an embedded list that are missing, never
/// overwriting what an operator imported) and returns what to generate.
pub async fn plan(store: &dyn Participants, population: &Population) -> Result<SeedPlan, SeedError> {
    match population {
        Population::Metro => {
            let metro = parse_embedded(METRO_CSV)?;
            let kelurahan_loaded = load_missing(store, &metro).await?;
            Ok(SeedPlan {
                kelurahan: metro,
                bpu: METRO_BPU,
                pu: METRO_PU,
                min_bpu_per_kelurahan: 1,
                kelurahan_loaded,
            })
        }
        Population::Region {
            prefix,
            participants,
            pu_share,
        } => {
            let prefix = normalise_prefix(prefix)?;
            if !(0.0..=1.0).contains(pu_share) {
                return Err(SeedError::InvalidShare(*pu_share));
            }
            if *participants > identity::MAX_POPULATION {
                return Err(SeedError::TooMany(*participants));
            }
            let mut kelurahan_loaded = 0;
            if let Some(csv) = wilayah::embedded_for_prefix(&prefix) {
                let mut embedded = parse_embedded(csv)?;
                embedded.retain(|k| k.code.has_prefix(&prefix));
                kelurahan_loaded = load_missing(store, &embedded).await?;
            }
            let mut kelurahan = store.list_kelurahan().await?;
            kelurahan.retain(|k| k.code.has_prefix(&prefix));
            if kelurahan.is_empty() {
                let place = if prefix.is_empty() {
                    "at all".to_string()
                } else {
                    format!("under {prefix}")
                };
                return Err(SeedError::NoKelurahan(place));
            }
            // Rounded once, in one place: the float never reaches a draw.
            let pu = ((*participants as f64) * pu_share).round() as u64;
            let pu = pu.min(*participants);
            Ok(SeedPlan {
                kelurahan,
                bpu: participants - pu,
                pu,
                min_bpu_per_kelurahan: 0,
                kelurahan_loaded,
            })
        }
    }
}

/// Generates `options.population` and upserts it in chunks of [`CHUNK`],
/// telling `progress` as rows are written.
pub async fn seed(store: &dyn Store, options: &SeedOptions, progress: &dyn Progress) -> Result<SeedReport, SeedError> {
    let plan = plan(store, &options.population).await?;
    let mut generator = Generator::new(&plan, options.seed, options.now)?;
    let mut report = SeedReport {
        participants: plan.bpu + plan.pu,
        bpu: plan.bpu,
        pu: plan.pu,
        kelurahan: generator.kelurahan_with_participants(),
        kelurahan_loaded: plan.kelurahan_loaded,
        written: UpsertCounts::default(),
    };
    let mut chunk = Vec::with_capacity(CHUNK.min(report.participants as usize));
    loop {
        chunk.clear();
        for participant in generator.by_ref().take(CHUNK) {
            chunk.push(participant?);
        }
        if chunk.is_empty() {
            break;
        }
        // The store advances `progress` per batch it writes.
        report.written += store.upsert_participants(&chunk, options.now, progress).await?;
    }
    // The first scan after a seed plans with these statistics; the rows are in even when they
    // cannot be refreshed.
    if let Err(e) = store.analyze(&[BulkTable::Kelurahan, BulkTable::Participants]).await {
        tracing::warn!(error = %e, "cannot refresh the planner statistics (ANALYZE)");
    }
    tracing::info!(
        participants = report.participants,
        bpu = report.bpu,
        pu = report.pu,
        kelurahan = report.kelurahan,
        inserted = report.written.inserted,
        updated = report.written.updated,
        unchanged = report.written.unchanged,
        seed = options.seed,
        "seeded population"
    );
    Ok(report)
}

/// `"all"` and `""` mean the whole country; otherwise a code prefix of
/// digits and dots that could start a kelurahan code.
fn normalise_prefix(prefix: &str) -> Result<String, SeedError> {
    let prefix = prefix.trim();
    if prefix.is_empty() || prefix.eq_ignore_ascii_case("all") {
        return Ok(String::new());
    }
    let digits: String = prefix.chars().filter(|c| *c != '.').collect();
    let shape_ok = prefix.chars().all(|c| c.is_ascii_digit() || c == '.') && (1..=10).contains(&digits.len());
    // Some province code must start with the prefix.
    let province_ok = PROVINCE_CODES
        .iter()
        .any(|p| format!("{p:02}").starts_with(&digits) || digits.starts_with(&format!("{p:02}")));
    if !shape_ok || !province_ok {
        return Err(SeedError::InvalidPrefix(prefix.to_string()));
    }
    Ok(prefix.to_string())
}

fn parse_embedded(csv: &str) -> Result<Vec<Kelurahan>, SeedError> {
    wilayah::parse_kelurahan_csv(csv).map_err(|errors| {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        SeedError::EmbeddedList(first)
    })
}

/// Adds the kelurahan of `list` the store does not have yet; returns how many.
async fn load_missing(store: &dyn Participants, list: &[Kelurahan]) -> Result<u64, SeedError> {
    let stored: HashSet<KelurahanCode> = store.list_kelurahan().await?.into_iter().map(|k| k.code).collect();
    let missing: Vec<Kelurahan> = list.iter().filter(|k| !stored.contains(&k.code)).cloned().collect();
    if missing.is_empty() {
        return Ok(0);
    }
    Ok(store.upsert_kelurahan(&missing).await?.inserted)
}

#[cfg(test)]
mod tests;
