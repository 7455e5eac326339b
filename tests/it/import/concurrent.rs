//! Imports that meet another writer: two imports of one file at once, and
//! an import while another connection holds the write lock.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pengingat::import::{ImportError, ImportReport, import_participants, import_payments};
use pengingat::store::{self, ConnectOptions, NoProgress, Store, StoreError};

use super::{file, options, paid, participant_count, upserted};
use crate::helpers::*;

both_backends!(
    two_concurrent_imports_leave_one_complete_result,
    a_held_write_lock_fails_the_import_clearly_with_nothing_written,
);

/// A participants file of `n` rows for Metro.
fn generated_participants(n: u32) -> String {
    let mut csv = String::from("nik,name,phone,kelurahan,segment,monthly_amount,paid_through\n");
    for serial in 1..=n {
        csv.push_str(&format!(
            "187201120590{serial:04},Peserta {serial},0812{serial:08},18.72.01.1001,bpu,16800,2025-06\n"
        ));
    }
    csv
}

#[derive(Clone, Copy)]
enum Kind {
    Participants,
    Payments,
}

type Outcome = Result<ImportReport, ImportError>;

/// Runs the same import through two stores at once, each on its own task.
async fn both(a: &Arc<dyn Store>, b: &Arc<dyn Store>, path: &Path, kind: Kind) -> (Outcome, Outcome) {
    let run = |store: Arc<dyn Store>, path: PathBuf| {
        tokio::spawn(async move {
            match kind {
                Kind::Participants => import_participants(store.as_ref(), &path, &options(), &NoProgress).await,
                Kind::Payments => import_payments(store.as_ref(), &path, &options(), &NoProgress).await,
            }
        })
    };
    let first = run(a.clone(), path.to_path_buf());
    let second = run(b.clone(), path.to_path_buf());
    (first.await.unwrap(), second.await.unwrap())
}

async fn two_concurrent_imports_leave_one_complete_result(db: &TestDb) {
    load_test_kelurahan(db).await;
    let n = 3_000;
    let (_dir, path) = file("bulk.csv", generated_participants(n).as_bytes());
    let other = store::connect(&db.url, &ConnectOptions::default()).await.unwrap();
    let (a, b) = both(&db.store, &other, &path, Kind::Participants).await;
    for result in [&a, &b] {
        assert!(
            matches!(result, Ok(_) | Err(ImportError::Store(StoreError::Busy))),
            "{result:?}"
        );
    }
    assert!(a.is_ok() || b.is_ok());
    assert_eq!(db.store.segment_counts().await.unwrap().bpu, i64::from(n));

    // Payments at the same time are recorded once: paid through July, not August.
    let mut payments = String::from("external_ref,nik,amount,paid_at,channel\n");
    for serial in 1..=n {
        payments.push_str(&format!("TRX-{serial},187201120590{serial:04},16800,2025-07-05,jmo\n"));
    }
    let (_p, path) = file("payments.csv", payments.as_bytes());
    let (a, b) = both(&db.store, &other, &path, Kind::Payments).await;
    let recorded: u64 = [&a, &b]
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| paid(r).recorded)
        .sum();
    assert_eq!(recorded, u64::from(n), "{a:?} {b:?}");
    let histogram = db.store.paid_through_histogram(None).await.unwrap();
    assert_eq!(histogram.len(), 1);
    assert_eq!(
        (histogram[0].paid_through, histogram[0].participants),
        (month("2025-07").index(), i64::from(n))
    );
}

async fn a_held_write_lock_fails_the_import_clearly_with_nothing_written(db: &TestDb) {
    load_test_kelurahan(db).await;
    let (_dir, path) = file("bulk.csv", generated_participants(50).as_bytes());
    let short = ConnectOptions {
        timeout: std::time::Duration::from_millis(200),
        ..ConnectOptions::default()
    };
    let importer = match db.store.backend() {
        store::Backend::Sqlite => {
            let importer = store::connect(&db.url, &short).await.unwrap();
            let holder = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let tx = holder.begin_with("BEGIN IMMEDIATE").await.unwrap();
            let err = import_participants(importer.as_ref(), &path, &options(), &NoProgress)
                .await
                .unwrap_err();
            assert!(matches!(err, ImportError::Store(StoreError::Busy)), "{err}");
            assert!(err.to_string().contains("busy"), "{err}");
            tx.rollback().await.unwrap();
            importer
        }
        store::Backend::Postgres => {
            let url = format!("{}?options[lock_timeout]=200", db.url);
            let importer = store::connect(&url, &short).await.unwrap();
            let holder = sqlx::PgPool::connect(&db.url).await.unwrap();
            let mut tx = holder.begin().await.unwrap();
            sqlx::query("LOCK TABLE participants IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .unwrap();
            let err = import_participants(importer.as_ref(), &path, &options(), &NoProgress)
                .await
                .unwrap_err();
            assert!(matches!(err, ImportError::Store(_)), "{err}");
            assert!(err.to_string().contains("lock timeout"), "{err}");
            tx.rollback().await.unwrap();
            importer
        }
    };
    assert_eq!(participant_count(db).await, 0);
    // Once the lock is gone the same import goes through.
    let report = import_participants(importer.as_ref(), &path, &options(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(upserted(&report).inserted, 50);
}
