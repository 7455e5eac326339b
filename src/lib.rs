//! pengingat: contribution reminders for BPJS Ketenagakerjaan BPU
//! participants, per kelurahan.
//!
//! The crate is organised by concept: `domain` holds the pure rules,
//! `store` the two database backends behind one trait, `import` and `seed`
//! the ways data comes in, `config` the operator's TOML, and `cli` the
//! commands that wire them together.

pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod dashboard;
pub mod demo;
pub mod digest;
pub mod dispatch;
pub mod domain;
pub mod http;
pub mod import;
pub mod message;
pub mod metrics;
pub mod payments;
pub mod receipts;
pub mod report;
pub mod scan;
pub mod schedule;
pub mod seed;
pub mod shipped;
pub mod store;
pub mod telemetry;
pub mod twilio_signature;
pub mod wilayah;
