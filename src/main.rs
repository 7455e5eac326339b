//! The `pengingat` binary: parse the command line and hand over to the
//! library. Everything else lives in `pengingat::cli`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // One rustls crypto provider for the whole process (reqwest, sqlx and
    // lettre all use aws-lc-rs); installing it explicitly avoids rustls'
    // "cannot determine the process-level CryptoProvider" panic.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = pengingat::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(pengingat::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", pengingat::cli::error_report(&e));
            ExitCode::FAILURE
        }
    }
}
