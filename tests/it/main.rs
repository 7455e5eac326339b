//! Integration tests: one binary (faster to link), one module per capability.
//! Every test that touches a database runs twice, on SQLite and PostgreSQL,
//! through the `both_backends!` macro.

#[macro_use]
mod helpers;

mod app;
mod bad_input;
mod browser;
mod channels;
mod cli;
mod contacts;
mod daemon;
mod dashboard_daemon;
mod dashboard_page;
mod dashboard_regions;
mod delivery;
mod demo;
mod demo_effect;
mod digest;
mod dispatch_store;
mod holdout;
mod import;
mod init;
mod mock_gateway;
mod outcomes;
mod passed_days;
mod payments;
mod prerequisites;
mod receipts;
mod reminder_store;
mod retention;
mod scan;
mod scan_memo;
mod schedule_edits;
mod seed;
mod snapshots;
mod statistics;
mod store_contract;
mod store_errors;
mod tcp_proxy;
