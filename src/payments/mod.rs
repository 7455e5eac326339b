//! Payments coming in from outside: the watched inbox folder here, and the
//! authenticated HTTP API (`POST /api/v1/payments`, in [`crate::http`]).
//! Both go through the same path as `pengingat import payments`
//! ([`crate::import::apply_payment_table`] and the store's
//! `record_payments`), so a payment advances the paid-through month, cancels
//! the reminders it covers and credits the reminder that led to it the same
//! way whichever way it came.

pub mod inbox;
