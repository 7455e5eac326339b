//! Delivery receipts and opt-out in PostgreSQL. A receipt locks its
//! reminder (`FOR UPDATE`) before deciding, so concurrent receipts and the
//! dispatcher's writes to the same reminder serialise.
//!
//! A receipt that finds no send yet and the matching that follows the send's
//! record must not pass each other unseen (READ COMMITTED: each would miss
//! the other's uncommitted row and the receipt would wait forever). Both take
//! a transaction-scoped advisory lock on (gateway, message id) first, always
//! before the row lock, so one of them sees the other's work.

crate::store::receipt_sql::receipt_queries!(sqlx::Postgres);
