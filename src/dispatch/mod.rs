//! The dispatcher: claims due reminders, re-checks each at send time,
//! renders its message and sends it, then records every outcome promptly.

pub mod recheck;
mod recorder;
mod runner;
mod worker;

pub use recheck::{SendContext, Verdict, recheck};
pub use worker::{BatchReport, Dispatcher, worker_name};
