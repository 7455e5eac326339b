//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds
//! the files of `migrations/` when the crate is compiled, and on stable Rust
//! Cargo sees edits to those files but not a new one (sqlx's documentation
//! of `migrate!` asks for this line).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
