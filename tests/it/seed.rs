//! The demo and scale population generator against both backends: the Kota
//! Metro pilot's numbers, determinism, idempotent re-seeding, regions and a
//! plausible standing mix.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use pengingat::domain::{DueDateRules, KelurahanCode, Nik, RegionTimeZone, StandingRules};
use pengingat::seed::{self, Generator, Population, SeedError, SeedOptions};
use pengingat::store::{Backend, NoProgress, ParticipantRecord, Store};
use pengingat::wilayah::{METRO_CSV, parse_kelurahan_csv};

use crate::helpers::{TestDb, at, postgres_db, sqlite_db};

both_backends!(
    metro_has_the_pilot_numbers,
    reseeding_the_same_seed_changes_nothing,
    the_same_seed_gives_the_same_rows_and_another_seed_others,
    a_region_under_kota_metro_stays_there,
    a_region_of_lampung_loads_the_province_and_spreads_over_it,
    the_standing_mix_is_plausible,
    a_region_without_a_list_asks_for_an_import,
);

fn now() -> DateTime<Utc> {
    at("2025-07-20T03:00:00Z")
}

fn options(population: Population, seed: u64) -> SeedOptions {
    SeedOptions {
        population,
        seed,
        now: now(),
    }
}

fn region(prefix: &str, participants: u64) -> Population {
    Population::Region {
        prefix: prefix.to_string(),
        participants,
        pu_share: 0.0,
    }
}

/// The NIKs the generator gives `population` with `seed`, in order.
async fn generated_niks(store: &dyn Store, population: &Population, seed: u64) -> Vec<Nik> {
    let plan = seed::plan(store, population).await.unwrap();
    Generator::new(&plan, seed, now())
        .unwrap()
        .map(|p| p.unwrap().nik)
        .collect()
}

/// Every stored participant of `niks`, without the database's own id, by NIK.
async fn rows(store: &dyn Store, niks: &[Nik]) -> BTreeMap<String, ParticipantRecord> {
    store
        .participants_by_nik(niks)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.nik.clone(), ParticipantRecord { id: 0, ..r }))
        .collect()
}

/// A second fresh database on the same backend as `db`.
async fn another_db(db: &TestDb) -> TestDb {
    match db.store.backend() {
        Backend::Sqlite => sqlite_db().await,
        Backend::Postgres => postgres_db().await,
    }
}

async fn metro_has_the_pilot_numbers(db: &TestDb) {
    let report = seed::seed(&*db.store, &options(Population::Metro, 1), &NoProgress)
        .await
        .unwrap();
    assert_eq!((report.participants, report.bpu, report.pu), (7_446, 4_082, 3_364));
    assert_eq!(report.kelurahan, 22);
    assert_eq!(report.kelurahan_loaded, 22, "the Metro list is loaded first");
    assert_eq!(report.written.inserted, 7_446);
    assert_eq!(db.store.list_kelurahan().await.unwrap().len(), 22);

    let segments = db.store.segment_counts().await.unwrap();
    assert_eq!((segments.bpu, segments.pu), (4_082, 3_364));
    let histogram = db.store.paid_through_histogram(None).await.unwrap();
    let mut per_kelurahan: BTreeMap<&str, i64> = BTreeMap::new();
    for row in &histogram {
        *per_kelurahan.entry(row.kelurahan_code.as_str()).or_default() += row.participants;
    }
    assert_eq!(per_kelurahan.len(), 22, "every kelurahan has BPU");
    assert_eq!(per_kelurahan.values().sum::<i64>(), 4_082);
    let (min, max) = (
        per_kelurahan.values().min().unwrap(),
        per_kelurahan.values().max().unwrap(),
    );
    assert!(*max > 2 * *min, "spread unevenly: {min}..{max}");

    let niks = generated_niks(&*db.store, &Population::Metro, 1).await;
    let stored = rows(&*db.store, &niks).await;
    assert_eq!(stored.len(), 7_446);
    for row in stored.values() {
        let code = KelurahanCode::parse(&row.kelurahan_code).unwrap();
        let nik = Nik::parse(&row.nik).unwrap();
        assert_eq!(nik.region_code(), code.kecamatan_code(), "NIK of its kecamatan");
        assert!(row.phone.as_deref().unwrap().starts_with("+628"));
    }
}

async fn reseeding_the_same_seed_changes_nothing(db: &TestDb) {
    let first = seed::seed(&*db.store, &options(Population::Metro, 5), &NoProgress)
        .await
        .unwrap();
    assert_eq!(first.written.inserted, 7_446);
    let again = seed::seed(&*db.store, &options(Population::Metro, 5), &NoProgress)
        .await
        .unwrap();
    assert_eq!(again.kelurahan_loaded, 0);
    assert_eq!(again.written.inserted, 0);
    assert_eq!(again.written.updated, 0);
    assert_eq!(again.written.unchanged, 7_446);
    let segments = db.store.segment_counts().await.unwrap();
    assert_eq!(segments.bpu + segments.pu, 7_446);
}

async fn the_same_seed_gives_the_same_rows_and_another_seed_others(db: &TestDb) {
    let twin = another_db(db).await;
    let other = another_db(db).await;
    for (target, seed) in [(db, 7), (&twin, 7), (&other, 8)] {
        seed::seed(&*target.store, &options(Population::Metro, seed), &NoProgress)
            .await
            .unwrap();
    }
    let niks = generated_niks(&*db.store, &Population::Metro, 7).await;
    let a = rows(&*db.store, &niks).await;
    let b = rows(&*twin.store, &niks).await;
    assert_eq!(a.len(), 7_446);
    assert_eq!(a, b);
    let c = rows(&*other.store, &niks).await;
    let shared = c.iter().filter(|(nik, row)| a.get(*nik) == Some(row)).count();
    assert_eq!(shared, 0, "another seed, another population");
    twin.cleanup().await;
    other.cleanup().await;
}

async fn a_region_under_kota_metro_stays_there(db: &TestDb) {
    let report = seed::seed(&*db.store, &options(region("18.72", 3_000), 3), &NoProgress)
        .await
        .unwrap();
    assert_eq!((report.participants, report.bpu, report.pu), (3_000, 3_000, 0));
    assert_eq!(report.kelurahan_loaded, 22, "from the embedded Lampung list");
    let histogram = db.store.paid_through_histogram(None).await.unwrap();
    assert!(histogram.iter().all(|r| r.kelurahan_code.starts_with("18.72.")));
    assert_eq!(histogram.iter().map(|r| r.participants).sum::<i64>(), 3_000);
    let codes: BTreeSet<&str> = histogram.iter().map(|r| r.kelurahan_code.as_str()).collect();
    assert_eq!(codes.len(), 22);
}

async fn a_region_of_lampung_loads_the_province_and_spreads_over_it(db: &TestDb) {
    // Kota Metro is already there: only the rest of the province is added.
    let metro = parse_kelurahan_csv(METRO_CSV).unwrap();
    db.store.upsert_kelurahan(&metro).await.unwrap();
    let population = Population::Region {
        prefix: "18".to_string(),
        participants: 6_000,
        pu_share: 0.25,
    };
    let report = seed::seed(&*db.store, &options(population.clone(), 4), &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.kelurahan_loaded, 2_651 - 22);
    assert_eq!((report.bpu, report.pu), (4_500, 1_500));
    assert_eq!(db.store.list_kelurahan().await.unwrap().len(), 2_651);
    let histogram = db.store.paid_through_histogram(None).await.unwrap();
    assert!(histogram.iter().all(|r| r.kelurahan_code.starts_with("18.")));
    let codes: BTreeSet<&str> = histogram.iter().map(|r| r.kelurahan_code.as_str()).collect();
    assert!(codes.len() > 1_000, "spread over {} kelurahan", codes.len());
    let regencies: BTreeSet<&str> = codes.iter().map(|c| &c[..5]).collect();
    assert_eq!(regencies.len(), 15, "every kabupaten/kota of Lampung");

    let niks = generated_niks(&*db.store, &population, 4).await;
    let stored = rows(&*db.store, &niks).await;
    assert_eq!(stored.len(), 6_000);
    for row in stored.values() {
        let code = KelurahanCode::parse(&row.kelurahan_code).unwrap();
        assert_eq!(Nik::parse(&row.nik).unwrap().region_code(), code.kecamatan_code());
    }
}

async fn the_standing_mix_is_plausible(db: &TestDb) {
    seed::seed(&*db.store, &options(Population::Metro, 6), &NoProgress)
        .await
        .unwrap();
    let last = DueDateRules::default().last_month_past_due(now(), RegionTimeZone::Wib.tz());
    let rules = StandingRules::default();
    let (mut ahead, mut current, mut behind, mut nonactive, mut all) = (0, 0, 0, 0, 0);
    for row in db.store.paid_through_histogram(None).await.unwrap() {
        let standing = rules.standing(pengingat::domain::ContributionMonth::from_index(row.paid_through), last);
        all += row.participants;
        match standing.months_in_arrears {
            _ if !standing.active => nonactive += row.participants,
            0 if row.paid_through > last.index() => ahead += row.participants,
            0 => current += row.participants,
            _ => behind += row.participants,
        }
    }
    assert_eq!(all, 4_082);
    let share = |n: i64| n * 100 / all;
    assert!((5..30).contains(&share(nonactive)), "non-active {}%", share(nonactive));
    assert!((5..20).contains(&share(ahead)), "ahead {}%", share(ahead));
    assert!((40..60).contains(&share(current)), "current {}%", share(current));
    assert!(
        (15..32).contains(&share(behind)),
        "1-2 months behind {}%",
        share(behind)
    );
}

async fn a_region_without_a_list_asks_for_an_import(db: &TestDb) {
    let err = seed::seed(&*db.store, &options(region("32.73", 100), 1), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, SeedError::NoKelurahan(_)), "{err}");
    assert!(err.to_string().contains("pengingat import kelurahan FILE"), "{err}");
    assert!(err.to_string().contains("32.73"), "{err}");
    let bad_share = Population::Region {
        prefix: "18".into(),
        participants: 10,
        pu_share: 1.5,
    };
    let err = seed::seed(&*db.store, &options(bad_share, 1), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, SeedError::InvalidShare(_)), "{err}");
    assert!(db.store.list_kelurahan().await.unwrap().is_empty(), "nothing loaded");
}

/// The same seed on SQLite and PostgreSQL gives the same participants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_hold_the_same_population() {
    let (lite, pg) = (sqlite_db().await, postgres_db().await);
    for db in [&lite, &pg] {
        seed::seed(&*db.store, &options(Population::Metro, 11), &NoProgress)
            .await
            .unwrap();
    }
    let niks = generated_niks(&*lite.store, &Population::Metro, 11).await;
    let a = rows(&*lite.store, &niks).await;
    assert_eq!(a.len(), 7_446);
    assert_eq!(a, rows(&*pg.store, &niks).await);
    pg.cleanup().await;
    lite.cleanup().await;
}
