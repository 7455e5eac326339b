//! The storage contract: what every backend must do, run on both.

use pengingat::domain::Nik;
use pengingat::store::{NoProgress, PaymentBatch, PaymentOutcome, PaymentSource, UpsertCounts};

use crate::helpers::*;

both_backends!(
    migrations_run_twice_are_a_no_op,
    kelurahan_upsert_is_idempotent,
    participant_upsert_counts_and_never_moves_paid_through_back,
    payments_advance_paid_through_once,
    strict_payments_change_nothing_on_any_bad_row,
    histogram_counts_bpu_per_kelurahan_and_month,
    the_deployment_id_is_made_once_per_database,
);

async fn migrations_run_twice_are_a_no_op(db: &TestDb) {
    db.store.migrate().await.expect("second migration run");
    db.store.ping().await.expect("ping");
}

async fn the_deployment_id_is_made_once_per_database(db: &TestDb) {
    let id = db.store.deployment_id().await.unwrap();
    assert!(pengingat::channels::DeploymentId::parse(&id).is_ok(), "{id:?}");
    db.store.migrate().await.unwrap();
    let reopened = pengingat::store::connect(&db.url, &Default::default()).await.unwrap();
    assert_eq!(reopened.deployment_id().await.unwrap(), id, "stable across restarts");
    let other = match db.store.backend() {
        pengingat::store::Backend::Sqlite => sqlite_db().await,
        pengingat::store::Backend::Postgres => postgres_db().await,
    };
    assert_ne!(
        other.store.deployment_id().await.unwrap(),
        id,
        "another database, another id"
    );
    other.cleanup().await;
}

async fn kelurahan_upsert_is_idempotent(db: &TestDb) {
    let rows = [
        kelurahan("18.72.01.1001", "Metro"),
        kelurahan("51.71.01.1001", "Dangin Puri"),
    ];
    let first = db.store.upsert_kelurahan(&rows).await.unwrap();
    assert_eq!(
        first,
        UpsertCounts {
            inserted: 2,
            updated: 0,
            unchanged: 0
        }
    );
    let again = db.store.upsert_kelurahan(&rows).await.unwrap();
    assert_eq!(
        again,
        UpsertCounts {
            inserted: 0,
            updated: 0,
            unchanged: 2
        }
    );
    let renamed = [kelurahan("18.72.01.1001", "Metro Baru")];
    assert_eq!(db.store.upsert_kelurahan(&renamed).await.unwrap().updated, 1);
    let all = db.store.list_kelurahan().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].name, "Metro Baru");
    assert_eq!(all[1].time_zone.iana_name(), "Asia/Makassar");
}

async fn participant_upsert_counts_and_never_moves_paid_through_back(db: &TestDb) {
    load_test_kelurahan(db).await;
    let now = at("2025-07-01T00:00:00Z");
    let rows = vec![participant(1, "2025-06"), participant(2, "2025-05")];
    let counts = db.store.upsert_participants(&rows, now, &NoProgress).await.unwrap();
    assert_eq!(
        counts,
        UpsertCounts {
            inserted: 2,
            updated: 0,
            unchanged: 0
        }
    );
    let again = db.store.upsert_participants(&rows, now, &NoProgress).await.unwrap();
    assert_eq!(
        again,
        UpsertCounts {
            inserted: 0,
            updated: 0,
            unchanged: 2
        }
    );

    // An older file: paid-through earlier than stored, and a new name.
    let mut older = participant(1, "2025-01");
    older.name = pengingat::domain::ParticipantName::parse("Siti Aminah").unwrap();
    let counts = db.store.upsert_participants(&[older], now, &NoProgress).await.unwrap();
    assert_eq!(
        counts,
        UpsertCounts {
            inserted: 0,
            updated: 1,
            unchanged: 0
        }
    );
    let stored = db
        .store
        .participants_by_nik(&[Nik::parse("1872011205900001").unwrap()])
        .await
        .unwrap();
    assert_eq!(stored[0].name, "Siti Aminah");
    assert_eq!(stored[0].paid_through_month(), month("2025-06"));
    assert_eq!(db.store.segment_counts().await.unwrap().bpu, 2);
}

async fn payments_advance_paid_through_once(db: &TestDb) {
    load_test_kelurahan(db).await;
    let now = at("2025-07-20T00:00:00Z");
    db.store
        .upsert_participants(&[participant(1, "2025-06")], now, &NoProgress)
        .await
        .unwrap();
    let rows = [
        payment("TRX-1", 1, 16_800, "2025-07-18T03:00:00Z"),
        payment("TRX-2", 1, 50_400, "2025-07-19T03:00:00Z"),
    ];
    let outcomes = db
        .store
        .record_payments(&rows, &batch(now, true), &NoProgress)
        .await
        .unwrap();
    assert!(
        matches!(outcomes[0], PaymentOutcome::Recorded { first_month, last_month, .. }
        if first_month == month("2025-07") && last_month == month("2025-07"))
    );
    assert!(
        matches!(outcomes[1], PaymentOutcome::Recorded { first_month, last_month, .. }
        if first_month == month("2025-08") && last_month == month("2025-10"))
    );

    // The same payments again change nothing.
    let again = db
        .store
        .record_payments(&rows, &batch(now, true), &NoProgress)
        .await
        .unwrap();
    assert_eq!(again, vec![PaymentOutcome::Duplicate, PaymentOutcome::Duplicate]);
    let stored = db
        .store
        .participants_by_nik(&[Nik::parse("1872011205900001").unwrap()])
        .await
        .unwrap();
    assert_eq!(stored[0].paid_through_month(), month("2025-10"));
    let refs = [rows[0].external_ref.clone(), rows[1].external_ref.clone()];
    assert_eq!(db.store.payments_by_ref(&refs).await.unwrap().len(), 2);
}

async fn strict_payments_change_nothing_on_any_bad_row(db: &TestDb) {
    load_test_kelurahan(db).await;
    let now = at("2025-07-20T00:00:00Z");
    db.store
        .upsert_participants(&[participant(1, "2025-06")], now, &NoProgress)
        .await
        .unwrap();
    let rows = [
        payment("TRX-1", 1, 16_800, "2025-07-18T03:00:00Z"),
        payment("TRX-2", 9, 16_800, "2025-07-18T03:00:00Z"),
    ];
    let err = db
        .store
        .record_payments(&rows, &batch(now, true), &NoProgress)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    let stored = db
        .store
        .participants_by_nik(&[Nik::parse("1872011205900001").unwrap()])
        .await
        .unwrap();
    assert_eq!(stored[0].paid_through_month(), month("2025-06"));
    assert!(
        db.store
            .payments_by_ref(&[rows[0].external_ref.clone()])
            .await
            .unwrap()
            .is_empty()
    );

    // Lenient: the good one is recorded, the bad one reported.
    let outcomes = db
        .store
        .record_payments(&rows, &batch(now, false), &NoProgress)
        .await
        .unwrap();
    assert!(outcomes[0].is_ok());
    assert_eq!(outcomes[1], PaymentOutcome::UnknownParticipant);
}

async fn histogram_counts_bpu_per_kelurahan_and_month(db: &TestDb) {
    load_test_kelurahan(db).await;
    let now = at("2025-07-20T00:00:00Z");
    let mut rows = vec![
        participant(1, "2025-06"),
        participant(2, "2025-06"),
        participant(3, "2025-04"),
    ];
    let mut pu = participant(4, "2025-06");
    pu.segment = pengingat::domain::Segment::Pu;
    rows.push(pu);
    let mut wita = participant(5, "2025-06");
    wita.kelurahan = pengingat::domain::KelurahanCode::parse("51.71.01.1001").unwrap();
    rows.push(wita);
    db.store.upsert_participants(&rows, now, &NoProgress).await.unwrap();
    let all = db.store.paid_through_histogram(None).await.unwrap();
    let as_tuples: Vec<(String, String, i64)> = all
        .iter()
        .map(|h| {
            (
                h.kelurahan_code.clone(),
                pengingat::domain::ContributionMonth::from_index(h.paid_through).to_string(),
                h.participants,
            )
        })
        .collect();
    assert_eq!(
        as_tuples,
        vec![
            ("18.72.01.1001".into(), "2025-04".into(), 1),
            ("18.72.01.1001".into(), "2025-06".into(), 2),
            ("51.71.01.1001".into(), "2025-06".into(), 1),
        ]
    );
    assert_eq!(db.store.paid_through_histogram(Some("18.72")).await.unwrap().len(), 2);
}

both_backends!(a_file_never_undoes_an_opt_out);

async fn a_file_never_undoes_an_opt_out(db: &TestDb) {
    load_test_kelurahan(db).await;
    let now = at("2025-07-01T00:00:00Z");
    db.store
        .upsert_participants(&[participant(1, "2025-06")], now, &NoProgress)
        .await
        .unwrap();
    let nik = Nik::parse("1872011205900001").unwrap();
    db.store.set_opt_out_by_nik(&nik, true, now).await.unwrap();
    // The same file again (opted_out false in it): the opt-out stays.
    let counts = db
        .store
        .upsert_participants(&[participant(1, "2025-06")], now, &NoProgress)
        .await
        .unwrap();
    assert_eq!(counts.unchanged, 1);
    assert!(db.store.participants_by_nik(std::slice::from_ref(&nik)).await.unwrap()[0].opted_out);
    db.store.set_opt_out_by_nik(&nik, false, now).await.unwrap();
    assert!(!db.store.participants_by_nik(&[nik]).await.unwrap()[0].opted_out);
}

/// Payments recorded as an import at `now`, with the default window.
fn batch(now: chrono::DateTime<chrono::Utc>, strict: bool) -> PaymentBatch {
    PaymentBatch {
        source: PaymentSource::Import,
        now,
        strict,
        attribution_secs: 14 * 86_400,
    }
}
