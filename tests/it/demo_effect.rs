//! The demo's story on both backends, through its library entry point with
//! a small population and a few weeks: the holdout group gets only the late
//! reminders, and the effect table recovers what the simulated payers were
//! drawn to do: a visible effect when reminders persuade, none when they
//! do not.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use pengingat::demo::story::MonthEffect;
use pengingat::demo::{Demo, DemoOptions, demo_holdout, simulate};
use pengingat::schedule::HoldoutSettings;
use pengingat::seed::Population;
use pengingat::seed::effect::Behaviour;

use crate::helpers::*;

both_backends!(
    demo_holdout_gets_only_late_reminders_and_the_effect_is_recovered,
    demo_without_a_reminder_effect_shows_none,
);

/// The early rules the holdout group does not get.
const EARLY: [&str; 3] = ["h-7", "h-1", "h0"];

/// Simulates 6 to 23 October 2026 (October's h-7 to a day past its h+7)
/// for 2,000 BPU participants of Kota Metro with 20% held out.
async fn run(db: &TestDb, behaviour: Behaviour) -> (Demo, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        dir: dir.path().to_path_buf(),
        seed: 3,
        first_day: NaiveDate::from_ymd_opt(2026, 10, 6).unwrap(),
        days: 18,
        bind: "127.0.0.1:0".into(),
        population: Population::Region {
            prefix: "18.72".into(),
            participants: 2_000,
            pu_share: 0.0,
        },
        database_url: Some(db.url.clone()),
        behaviour,
        holdout: HoldoutSettings {
            fraction: 0.2,
            ..demo_holdout(3)
        },
    };
    let demo = simulate(&options, &mut |_| {}).await.expect("the demo runs");
    (demo, dir)
}

/// October's total line, judged at the due date.
async fn october_effect(demo: &Demo) -> MonthEffect {
    let effect = demo.effect().await.expect("effect report");
    effect
        .months
        .into_iter()
        .find(|m| m.month == "2026-10")
        .expect("October's total line")
}

async fn stop(demo: Demo) {
    demo.daemon.stop().await;
    demo.mocks.cancel.cancel();
}

async fn demo_holdout_gets_only_late_reminders_and_the_effect_is_recovered(db: &TestDb) {
    let behaviour = Behaviour {
        base_per_mille: 300,
        lift_per_mille: 500,
    };
    let (demo, _dir) = run(db, behaviour).await;
    let rows = demo.daemon.store().list_reminders(None, 100_000).await.unwrap();
    let october = month("2026-10").index();
    let held: BTreeSet<i64> = rows
        .iter()
        .filter(|r| r.contribution_month == october && r.reason.as_deref() == Some("holdout"))
        .map(|r| r.participant_id)
        .collect();
    assert!(held.len() > 100, "{} held out", held.len());
    let reached = ["sent", "delivered", "undelivered", "failed", "unknown"];
    for r in rows.iter().filter(|r| held.contains(&r.participant_id)) {
        if EARLY.contains(&r.rule.as_str()) && r.contribution_month == october {
            // Held out, or passed before a payment made October their first unpaid month.
            assert_eq!(r.status, "skipped", "held out of the early rules: {r:?}");
        }
    }
    let late: BTreeSet<i64> = rows
        .iter()
        .filter(|r| held.contains(&r.participant_id) && reached.contains(&r.status.as_str()))
        .inspect(|r| assert!(!EARLY.contains(&r.rule.as_str()), "an early reminder went out: {r:?}"))
        .map(|r| r.participant_id)
        .collect();
    assert!(
        !late.is_empty(),
        "the late h+7 reaches the held-out participants who did not pay"
    );

    let m = october_effect(&demo).await;
    let by_due = m.by_due.expect("October's due date has passed");
    let d = by_due.difference.expect("both groups");
    let truth = m.true_by_due_pp.expect("a true effect");
    // Expected about (1 − 0.3) × 0.5 × 90% delivered ≈ 32 points.
    assert!(truth > 20.0, "true effect {truth}");
    assert!(d.low_pp <= truth && truth <= d.high_pp, "true {truth} in {d:?}");
    assert!(d.low_pp > 0.0, "the effect is visible: {d:?}");
    // Held-out payers pay only when drawn to pay anyway (the late h+7
    // comes after the due date), about the base share.
    let held_share = by_due.held_out.paid as f64 / by_due.held_out.total as f64;
    assert!((0.15..0.45).contains(&held_share), "{by_due:?}");
    stop(demo).await;
}

async fn demo_without_a_reminder_effect_shows_none(db: &TestDb) {
    let behaviour = Behaviour {
        base_per_mille: 300,
        lift_per_mille: 0,
    };
    let (demo, _dir) = run(db, behaviour).await;
    let m = october_effect(&demo).await;
    let d = m.by_due.and_then(|c| c.difference).expect("both groups");
    assert_eq!(m.true_by_due_pp, Some(0.0), "{m:?}");
    assert!(d.low_pp <= 0.0 && 0.0 <= d.high_pp, "no effect, none measured: {d:?}");
    stop(demo).await;
}
