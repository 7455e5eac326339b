//! Planner statistics after bulk loads: `seed` and the imports refresh them,
//! so the first scan after a bulk load (the daemon scans as it starts) is
//! planned for the rows really there, not for empty tables.

use std::process::Command;

use pengingat::domain::{DueDateRules, StandingRules};
use pengingat::scan::{PlanMode, plan::plan};
use pengingat::schedule::{Channel, Schedules};
use pengingat::seed::{self, Population, SeedOptions};
use pengingat::store::{ConnectOptions, NoProgress, PgStore};

use crate::helpers::*;

both_backends!(imports_leave_statistics_of_what_they_changed);

/// Tables of the test database that have planner statistics.
async fn analyzed(db: &TestDb) -> Vec<String> {
    if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let exists: Option<(String,)> = sqlx::query_as("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            .fetch_optional(&pool)
            .await
            .unwrap();
        let tables = match exists {
            Some(_) => sqlx::query_as("SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl")
                .fetch_all(&pool)
                .await
                .unwrap(),
            None => Vec::new(),
        };
        pool.close().await;
        tables.into_iter().map(|(t,): (String,)| t).collect()
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT tablename::text FROM pg_stats WHERE schemaname = current_schema() ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        tables.into_iter().map(|(t,)| t).collect()
    }
}

fn import(db: &TestDb, what: &str, file: &std::path::Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_pengingat"))
        .args(["--clock", "2025-07-20T03:00:00Z", "import", what])
        .arg(file)
        .env("PENGINGAT__DATABASE__URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run pengingat");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

async fn imports_leave_statistics_of_what_they_changed(db: &TestDb) {
    load_test_kelurahan(db).await;
    let dir = tempfile::tempdir().unwrap();
    let participants = dir.path().join("participants.csv");
    let mut csv = String::from("nik,name,phone,kelurahan,segment,monthly_amount,paid_through\n");
    for i in 1..=40 {
        csv.push_str(&format!(
            "187201120590{i:04},Peserta {i},0812{i:08},18.72.01.1001,bpu,16800,2025-06\n"
        ));
    }
    std::fs::write(&participants, csv).unwrap();
    import(db, "participants", &participants);
    let after_participants = analyzed(db).await;
    assert!(
        after_participants.contains(&"participants".to_string()),
        "{after_participants:?}"
    );
    assert!(
        !after_participants.contains(&"payments".to_string()),
        "{after_participants:?}"
    );

    let payments = dir.path().join("payments.csv");
    let mut csv = String::from("external_ref,nik,amount,paid_at,channel\n");
    for i in 1..=10 {
        csv.push_str(&format!("TRX-{i},187201120590{i:04},16800,2025-07-10T02:00:00Z,jmo\n"));
    }
    std::fs::write(&payments, csv).unwrap();
    import(db, "payments", &payments);
    let after_payments = analyzed(db).await;
    assert!(after_payments.contains(&"payments".to_string()), "{after_payments:?}");
}

/// After `seed`, the scan's INSERT … SELECT joins the kelurahan occurrences
/// (`UNNEST` of one array element per kelurahan, `occ`) to the participants
/// once. Planned for tables without statistics (200,000 participants are
/// enough), it was a nested loop with the participants outside and the
/// `UNNEST` inside, run again for every participant: 107 s instead of 2 s at
/// 260,000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_seed_the_scan_insert_does_not_rerun_the_kelurahan_unnest_per_participant() {
    let db = postgres_db().await;
    let population = Population::Region {
        prefix: "18".into(),
        participants: 200_000,
        pu_share: 0.0,
    };
    let options = SeedOptions {
        population,
        seed: 7,
        now: at("2025-07-01T03:00:00Z"),
    };
    seed::seed(db.store.as_ref(), &options, &NoProgress).await.unwrap();

    let schedules = Schedules::load(std::path::Path::new("config/schedules.toml")).unwrap();
    let kelurahan = db.store.list_kelurahan().await.unwrap();
    assert!(kelurahan.len() > 2_000, "all of Lampung");
    let (due, standing) = (DueDateRules::default(), StandingRules::default());
    // h-7 of July 2025 (due Tuesday 15 July): Tuesday 8 July, after 09:00 WIB.
    let now = at("2025-07-08T02:05:00Z");
    let planned = plan(&schedules, &kelurahan, &due, &standing, now, None, PlanMode::Scan);
    let batch = planned
        .batches
        .iter()
        .find(|b| b.rule == "h-7" && b.channel == Channel::Sms)
        .expect("h-7 is due");
    assert!(batch.occurrences.len() > 2_000, "one occurrence per kelurahan");

    let pg = PgStore::connect(&db.url, &ConnectOptions::default()).await.unwrap();
    let explained = pg.explain_insert_reminders(batch, now).await.unwrap();
    assert!(explained.contains("Function Scan on occ"), "{explained}");
    for inner in nested_loop_inner_sides(&explained) {
        assert!(
            !inner.contains("Function Scan on occ"),
            "the kelurahan UNNEST is a nested loop's inner side, run once per outer row:\n{explained}"
        );
    }
    db.cleanup().await;
}

/// A plan node's line of an `EXPLAIN` text: the column its name starts at
/// and the name ("->  Name" below the root, the root's name at column 0).
fn node(line: &str) -> Option<(usize, &str)> {
    match line.find("->  ") {
        Some(arrow) => Some((arrow + 4, &line[arrow + 4..])),
        None if !line.starts_with(' ') && !line.is_empty() => Some((0, line)),
        None => None,
    }
}

/// The inner (second) child of each `Nested Loop` of an `EXPLAIN` text,
/// with everything under it.
fn nested_loop_inner_sides(plan: &str) -> Vec<String> {
    let lines: Vec<&str> = plan.lines().collect();
    let below = |from: usize, column: usize| {
        lines[from..]
            .iter()
            .take_while(move |l| node(l).is_none_or(|(c, _)| c > column))
            .count()
    };
    let mut inner_sides = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((column, name)) = node(line) else { continue };
        if !name.starts_with("Nested Loop") {
            continue;
        }
        let children: Vec<usize> = (i + 1..i + 1 + below(i + 1, column))
            .filter(|&j| node(lines[j]).is_some_and(|(c, _)| c == column + 6))
            .collect();
        if let Some(&inner) = children.get(1) {
            let inner_column = column + 6;
            let end = inner + 1 + below(inner + 1, inner_column);
            inner_sides.push(lines[inner..end].join("\n"));
        }
    }
    inner_sides
}

#[test]
fn the_inner_side_of_a_nested_loop_is_found() {
    let plan = "Insert on reminders  (cost=1..2 rows=0 width=0)
  ->  Nested Loop  (cost=1..2 rows=1 width=426)
        Join Filter: (occ.k = p.kelurahan_code)
        ->  Bitmap Heap Scan on participants p  (cost=1..2 rows=1 width=44)
              ->  Bitmap Index Scan on participants_kelurahan_scan  (cost=0..1 rows=599 width=0)
        ->  Function Scan on occ  (cost=0.02..26.53 rows=2651 width=92)";
    assert_eq!(
        nested_loop_inner_sides(plan),
        ["        ->  Function Scan on occ  (cost=0.02..26.53 rows=2651 width=92)"]
    );
    let good = "Insert on reminders
  ->  Nested Loop
        ->  Function Scan on occ
        ->  Index Scan using participants_kelurahan_scan on participants p
              Index Cond: (segment = 'bpu'::text)";
    let inner = nested_loop_inner_sides(good);
    assert_eq!(inner.len(), 1);
    assert!(
        inner[0].contains("Index Scan") && !inner[0].contains("occ"),
        "{inner:?}"
    );
}
