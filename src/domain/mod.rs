//! Domain rules of BPJS Ketenagakerjaan BPU contributions: pure types and
//! functions, free of I/O, so that every rule can be unit-tested with fixed
//! inputs.
//!
//! Each newtype *parses* its raw form once (at the import or HTTP boundary)
//! and from then on can only hold a valid value ("parse, don't validate").

pub mod calendar;
pub mod contact_check;
pub mod effect;
pub mod email;
pub mod holdout;
pub mod kelurahan;
pub mod money;
pub mod month;
pub mod nik;
pub mod participant;
pub mod payment;
pub mod phone;
pub mod reminder;
pub mod standing;

pub use calendar::DueDateRules;
pub use contact_check::ContactProblem;
pub use email::EmailAddress;
pub use kelurahan::{KelurahanCode, RegionTimeZone};
pub use money::Rupiah;
pub use month::ContributionMonth;
pub use nik::Nik;
pub use participant::{Funding, Kpj, NewParticipant, ParticipantName, PreferredChannel, Segment};
pub use payment::{ExternalRef, NewPayment, Payer, PaymentChannel};
pub use phone::PhoneNumber;
pub use reminder::{Channel, ReminderStatus, SkipReason};
pub use standing::{ArrearsBucket, Standing, StandingRules};
