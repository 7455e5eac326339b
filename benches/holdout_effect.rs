//! How often the effect report's 95% interval contains the true effect:
//! 20 seeded runs of a generated population with a known simulated
//! reminder effect (`pengingat::demo::effect_run`), each on a fresh SQLite
//! database, printing each run and how many of 20 covered the truth (a
//! correct 95% interval covers about 19 of 20).
//!
//! `cargo bench --bench holdout_effect` (or `cargo test --bench
//! holdout_effect`, unoptimised, also fine at this size). Environment:
//! `PENGINGAT_BENCH_PARTICIPANTS` (default 1,000 per run),
//! `PENGINGAT_BENCH_FRACTION` (default 0.1), `PENGINGAT_BENCH_BACKEND`
//! (`sqlite`, default, or `postgres`).

mod support;

use anyhow::Result;
use pengingat::seed::effect::Behaviour;
use support::BenchDb;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: u32 = env_or("PENGINGAT_BENCH_PARTICIPANTS", 1_000);
    let fraction: f64 = env_or("PENGINGAT_BENCH_FRACTION", 0.1);
    let postgres = std::env::var("PENGINGAT_BENCH_BACKEND").is_ok_and(|b| b == "postgres");
    // Paying without a reminder: 45%; a reminder persuades 35% of the rest:
    // an expected effect of 19.25 percentage points.
    let behaviour = Behaviour {
        base_per_mille: 450,
        lift_per_mille: 350,
    };
    println!(
        "holdout effect coverage: 20 runs, {n} participants, {:.0}% held out, {}",
        fraction * 100.0,
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    println!("seed  true_pp  estimate_pp  low_pp   high_pp  reminded  held_out  covered");
    let mut covered = 0;
    for seed in 1..=20u64 {
        let db = if postgres {
            BenchDb::postgres().await?
        } else {
            BenchDb::sqlite().await?
        };
        let run = pengingat::demo::effect_run::run(db.store.as_ref(), seed, n, fraction, behaviour).await;
        db.drop_db().await;
        let run = run?;
        let Some(d) = run.by_due.difference else {
            println!("{seed:>4}  (a group is empty)");
            continue;
        };
        covered += usize::from(run.covered());
        println!(
            "{seed:>4}  {:>7.2}  {:>11.2}  {:>6.2}  {:>7.2}  {:>8}  {:>8}  {}",
            run.true_effect_pp,
            d.estimate_pp,
            d.low_pp,
            d.high_pp,
            run.by_due.reminded.total,
            run.by_due.held_out.total,
            if run.covered() { "ya" } else { "TIDAK" }
        );
    }
    println!("covered: {covered} of 20 (target: at least 19)");
    Ok(())
}
