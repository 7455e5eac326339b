//! Delivery receipts and opt-out in SQLite. Every write is one `BEGIN
//! IMMEDIATE` transaction: SQLite has one writer, so a receipt, the
//! dispatcher's "record sent", `apply_waiting_receipts` and a payment's
//! attribution never interleave, and a receipt that found no send is always
//! seen by the matching that follows the send's record.

crate::store::receipt_sql::receipt_queries!(sqlx::Sqlite);
