//! The dispatcher: claims due reminders, re-checks each at send time,
//! renders its message and sends it, then records every outcome.

pub mod recheck;
// CHANNELS_PENDING mod worker;

pub use recheck::{SendContext, Verdict, recheck};
// CHANNELS_PENDING pub use worker::{BatchReport, Dispatcher, worker_name};
