//! pengingat: contribution reminders for BPJS Ketenagakerjaan BPU
//! participants, per kelurahan.
//!
//! A scan finds, kelurahan by kelurahan, the participants whose monthly
//! contribution is lapsing and plans reminders from the operator's
//! schedules; the dispatcher sends them through SMS gateways and e-mail;
//! receipts and payments come back over HTTP, the inbox folder or imports;
//! reports, the dashboard and the coordinator digest say what it achieved.
//!
//! # Tests
//!
//! A file's unit tests sit at its end in `#[cfg(test)] mod tests`. Where
//! they would take the file past about 500 lines they move next to it: a
//! leaf `x.rs` gets `x_tests.rs` (loaded with `#[path]`), a folder module
//! gets `tests.rs` or, for many, a `tests/` folder. Everything that needs a
//! database, a port or a second process is an integration test under
//! `tests/it/`, run on SQLite and on PostgreSQL.
//!
//! # Layout
//!
//! Every module sits on a layer and uses only modules of its own layer or
//! below, without circles; `scripts/check-layers` checks this table against
//! the code.
//!
//! | module | layer | what it is | uses |
//! |---|---|---|---|
//! | `domain` | 0 | pure rules: NIK, phone, e-mail, kelurahan code, month, Rupiah, due dates, standing; no I/O | — |
//! | `clock` | 0 | the injected clock | — |
//! | `shipped` | 0 | the configuration files carried in the binary | — |
//! | `html` | 0 | HTML escaping, for templates and operators' e-mail | — |
//! | `store` | 1 | the database: one trait, a SQLite and a PostgreSQL backend | domain |
//! | `wilayah` | 1 | the Kemendagri kelurahan lists built in; the code's levels (province → kelurahan) and their names | domain, store |
//! | `report` | 2 | `status` and `report`: standing, outcomes, monthly snapshots, history, the holdout effect, tables; grouped per kecamatan, kabupaten/kota or province | domain, store, schedule (holidays, `[holdout]`), wilayah (levels) |
//! | `import` | 2 | CSV/JSON import of participants, payments, kelurahan | domain, store, wilayah, report (spreadsheet escaping) |
//! | `seed` | 2 | deterministic demo and scale populations | domain, store, wilayah |
//! | `schedule` | 2 | schedules.toml: rules, templates, send windows, SMS encoding | domain, shipped |
//! | `channels` | 3 | SMS gateways and SMTP: their settings, send, rate limits, breakers, retries; one provider per gateway (`channels::sms::providers`) | domain, schedule, store (receipt states) |
//! | `config` | 4 | pengingat.toml: settings, defaults, validation | domain, store, import, channels (their settings) |
//! | `telemetry` | 4 | logging with personal data masked; error reports | config |
//! | `scan` | 5 | which reminders are due, planned per kelurahan | domain, schedule, store |
//! | `message` | 5 | a participant's template values | domain, schedule, store |
//! | `receipts` | 5 | the gateways receipts and inbound SMS are accepted from; opt-out keywords | channels, config, schedule, store, clock |
//! | `dispatch` | 5 | claim, re-check, send and record each reminder once | channels, receipts, message, metrics, store, … |
//! | `digest` | 5 | the weekly coordinator digest, with the contact-verification list | channels, schedule, store, domain, clock, report (the contact list) |
//! | `payments` | 5 | the watched payments inbox folder | import, store |
//! | `dashboard` | 5 | the dashboard page from its figures (pure rendering); regions from province to kelurahan, search | domain, report, schedule, wilayah (levels) |
//! | `metrics` | 5 | Prometheus counters | — |
//! | `retention` | 5 | deleting reminders and history past `[retention] months`, keeping their report totals | domain, report (the effect's judgement), schedule, store |
//! | `http` | 6 | every HTTP handler, who may call it, `ApiError` | the layers below |
//! | `daemon` | 6 | `pengingat run`: scan (and monthly snapshots), dispatch, digest, inbox and HTTP loops | the layers below |
//! | `demo` | 7 | `pengingat demo`: two simulated months on SQLite, with the bundled mock gateway (the `mock-sms-gateway` crate), a holdout group, simulated payers and the effect they show | daemon, seed, report, … |
//! | `cli` | 7 | the commands: parse arguments, call the library, print | everything below |

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
pub mod html;
pub mod http;
pub mod import;
pub mod message;
pub mod metrics;
pub mod payments;
pub mod receipts;
pub mod report;
pub mod retention;
pub mod scan;
pub mod schedule;
pub mod seed;
pub mod shipped;
pub mod store;
pub mod telemetry;
pub mod wilayah;
