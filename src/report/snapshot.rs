//! Taking the monthly standing snapshots: per kelurahan, standing at the end
//! of a month in the kelurahan's own time zone, computed by the same
//! [`tally`] as `status` and `report` (due dates with the kelurahan's own
//! holidays) from the paid-through months at that instant ([`histogram_at`]).
//!
//! [`take_due`] is what the daemon runs: the latest ended month of every
//! kelurahan, and any month missing since its first snapshot (the daemon was
//! not running), all written `ON CONFLICT DO NOTHING` so several instances
//! may run it at once. [`take_months`] is `pengingat snapshot`. A month
//! taken more than [`ON_TIME_SECS`] after its end is marked rebuilt: its
//! figures come from today's participants and the payments since, so
//! participants registered or moved afterwards count as if they had been
//! there.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::rebuild::histogram_at;
pub use super::rebuild::{Basis, month_end};
use super::status::{StatusAt, StatusRow, tally};
use crate::domain::{ContributionMonth, DueDateRules, RegionTimeZone, StandingRules};
use crate::store::{Kelurahan, PaidThroughCount, StandingSnapshot, Store, StoreError};

/// How long after a month's end a snapshot still counts as taken at the
/// end rather than rebuilt: a daemon restarted within this time loses
/// nothing worth a label.
pub const ON_TIME_SECS: i64 = 3 * 24 * 3600;

/// The longest range one `pengingat snapshot` call takes (ten years).
pub const MAX_MONTHS: i32 = 120;

/// Why months cannot be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The month has not ended yet in every time zone.
    #[error("month {month} has not ended yet (it ends {ends} in WIB); only ended months can be taken")]
    NotEnded {
        /// The month asked for.
        month: ContributionMonth,
        /// When it ends in WIB, the last of the three zones.
        ends: DateTime<Utc>,
    },
    /// The range runs backwards.
    #[error("--from {from} is after --to {to}")]
    Backwards {
        /// The first month asked for.
        from: ContributionMonth,
        /// The last.
        to: ContributionMonth,
    },
    /// The range is longer than [`MAX_MONTHS`].
    #[error("{months} months from {from} to {to} is more than the {MAX_MONTHS} one call takes")]
    TooLong {
        /// The first month asked for.
        from: ContributionMonth,
        /// The last.
        to: ContributionMonth,
        /// How many months that is.
        months: i32,
    },
    /// The database failed.
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

/// What one call wrote, per month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotReport {
    /// Per month taken: kelurahan written now, and kelurahan that had a row already.
    pub months: Vec<MonthTaken>,
}

/// One month of a [`SnapshotReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthTaken {
    /// The month.
    pub month: ContributionMonth,
    /// Rows written by this call.
    pub written: u64,
    /// Kelurahan whose row existed already (another instance, or an earlier run).
    pub existing: u64,
    /// Whether the rows written are marked rebuilt.
    pub rebuilt: bool,
}

impl SnapshotReport {
    /// Rows written by this call in all.
    pub fn written(&self) -> u64 {
        self.months.iter().map(|m| m.written).sum()
    }
}

/// The latest month that has ended at `now` in `zone`.
pub fn last_ended_month(now: DateTime<Utc>, zone: RegionTimeZone) -> ContributionMonth {
    ContributionMonth::of_date(now.with_timezone(&zone.tz()).date_naive()).prev()
}

/// The snapshot rows of `kelurahan` for `month`, each at the month's end
/// in its own time zone, taken at `now` (a kelurahan with no participants
/// then gets a row of zeros). Pure.
pub fn rows_for_month(
    kelurahan: &[&Kelurahan],
    basis: &Basis<'_>,
    month: ContributionMonth,
    now: DateTime<Utc>,
) -> Vec<StandingSnapshot> {
    let mut zones: BTreeMap<&str, Vec<Kelurahan>> = BTreeMap::new();
    for k in kelurahan {
        zones.entry(k.time_zone.iana_name()).or_default().push((*k).clone());
    }
    let mut out = Vec::new();
    for group in zones.values() {
        let zone = group[0].time_zone;
        let end = month_end(month, zone);
        let histogram = histogram_at(basis.histogram, basis.payments, end.timestamp());
        let status = tally(
            group,
            &histogram,
            basis.due,
            basis.standing,
            StatusAt::Instant(end),
            None,
        );
        let by_code: HashMap<&str, &StatusRow> = status.kelurahan.iter().map(|r| (r.code.as_str(), r)).collect();
        for k in group {
            let zero = StatusRow::default();
            let r = by_code.get(k.code.as_str()).copied().unwrap_or(&zero);
            out.push(StandingSnapshot {
                kelurahan_code: k.code.to_string(),
                month: month.index(),
                participants: r.bpu,
                active: r.active,
                nonactive: r.nonactive,
                arrears_1: r.arrears_1,
                arrears_2: r.arrears_2,
                arrears_3_plus: r.arrears_3_plus,
                month_end_at: end.timestamp(),
                taken_at: now.timestamp(),
                rebuilt: now.timestamp() - end.timestamp() > ON_TIME_SECS,
            });
        }
    }
    out.sort_by(|a, b| a.kelurahan_code.cmp(&b.kelurahan_code));
    out
}

/// The months each kelurahan still needs at `now`: its latest ended month,
/// and every month since its first snapshot that has none. Kelurahan are
/// those with BPU participants today or with snapshots. Pure.
pub fn months_due<'k>(
    kelurahan: &'k [Kelurahan],
    with_participants: &HashSet<&str>,
    present: &HashSet<(String, i32)>,
    now: DateTime<Utc>,
) -> BTreeMap<ContributionMonth, Vec<&'k Kelurahan>> {
    let mut first: HashMap<&str, i32> = HashMap::new();
    for (code, month) in present {
        let e = first.entry(code.as_str()).or_insert(*month);
        *e = (*e).min(*month);
    }
    let mut due: BTreeMap<ContributionMonth, Vec<&Kelurahan>> = BTreeMap::new();
    for k in kelurahan {
        let code = k.code.as_str();
        let last = last_ended_month(now, k.time_zone).index();
        let Some(start) = first
            .get(code)
            .copied()
            .or(with_participants.contains(code).then_some(last))
        else {
            continue;
        };
        for m in start.min(last)..=last {
            if !present.contains(&(code.to_string(), m)) {
                due.entry(ContributionMonth::from_index(m)).or_default().push(k);
            }
        }
    }
    due
}

/// Takes what [`months_due`] finds at `now`: the daemon's call, safe to run
/// on several instances at once.
pub async fn take_due(
    store: &dyn Store,
    (due, standing): (&DueDateRules, &StandingRules),
    now: DateTime<Utc>,
) -> Result<SnapshotReport, StoreError> {
    let kelurahan = store.list_kelurahan().await?;
    let histogram = store.paid_through_histogram(None).await?;
    let present: HashSet<(String, i32)> = store
        .snapshot_keys()
        .await?
        .into_iter()
        .map(|k| (k.kelurahan_code, k.month))
        .collect();
    let with_participants: HashSet<&str> = histogram.iter().map(|b| b.kelurahan_code.as_str()).collect();
    let wanted = months_due(&kelurahan, &with_participants, &present, now);
    write_months(store, &histogram, wanted, (due, standing), now).await
}

/// Takes `from..=to` for every kelurahan with BPU participants today:
/// `pengingat snapshot`. Months that have a row keep it.
pub async fn take_months(
    store: &dyn Store,
    (due, standing): (&DueDateRules, &StandingRules),
    (from, to): (ContributionMonth, ContributionMonth),
    now: DateTime<Utc>,
) -> Result<SnapshotReport, SnapshotError> {
    check_range(from, to, now)?;
    let kelurahan = store.list_kelurahan().await?;
    let histogram = store.paid_through_histogram(None).await?;
    let with_participants: HashSet<&str> = histogram.iter().map(|b| b.kelurahan_code.as_str()).collect();
    let chosen: Vec<&Kelurahan> = kelurahan
        .iter()
        .filter(|k| with_participants.contains(k.code.as_str()))
        .collect();
    let wanted = (from.index()..=to.index())
        .map(|m| (ContributionMonth::from_index(m), chosen.clone()))
        .collect();
    Ok(write_months(store, &histogram, wanted, (due, standing), now).await?)
}

/// Refuses a range that runs backwards, is too long, or has not ended in WIB at `now`.
pub fn check_range(from: ContributionMonth, to: ContributionMonth, now: DateTime<Utc>) -> Result<(), SnapshotError> {
    if from > to {
        return Err(SnapshotError::Backwards { from, to });
    }
    let months = to.months_since(from) + 1;
    if months > MAX_MONTHS {
        return Err(SnapshotError::TooLong { from, to, months });
    }
    let ends = month_end(to, RegionTimeZone::Wib);
    if ends > now {
        return Err(SnapshotError::NotEnded { month: to, ends });
    }
    Ok(())
}

/// Computes and writes the rows of `wanted`, month by month.
async fn write_months(
    store: &dyn Store,
    histogram: &[PaidThroughCount],
    wanted: BTreeMap<ContributionMonth, Vec<&Kelurahan>>,
    (due, standing): (&DueDateRules, &StandingRules),
    now: DateTime<Utc>,
) -> Result<SnapshotReport, StoreError> {
    let mut report = SnapshotReport::default();
    let Some(oldest) = wanted.keys().next() else {
        return Ok(report);
    };
    // The earliest end of the oldest month is in WIT, UTC+9.
    let since = month_end(*oldest, RegionTimeZone::Wit).timestamp();
    let payments = store.bpu_payments_since(since).await?;
    let basis = Basis {
        histogram,
        payments: &payments,
        due,
        standing,
    };
    for (month, kelurahan) in wanted {
        let rows = rows_for_month(&kelurahan, &basis, month, now);
        let written = store.insert_snapshots(&rows).await?;
        report.months.push(MonthTaken {
            month,
            written,
            existing: rows.len() as u64 - written,
            rebuilt: rows.iter().any(|r| r.rebuilt),
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::KelurahanCode;
    use crate::store::PaymentSince;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn month(y: i32, m: u32) -> ContributionMonth {
        ContributionMonth::new(y, m).unwrap()
    }

    fn kel(code: &str, zone: RegionTimeZone) -> Kelurahan {
        Kelurahan {
            code: KelurahanCode::parse(code).unwrap(),
            name: code.into(),
            kecamatan: String::new(),
            kabupaten_kota: String::new(),
            provinsi: String::new(),
            time_zone: zone,
        }
    }

    #[test]
    fn a_month_ends_at_local_midnight_of_the_next_first() {
        assert_eq!(
            month_end(month(2026, 6), RegionTimeZone::Wib),
            at("2026-06-30T17:00:00Z")
        );
        assert_eq!(
            month_end(month(2026, 6), RegionTimeZone::Wit),
            at("2026-06-30T15:00:00Z")
        );
        // 16:00 UTC on 30 June: July already in WIT and WITA, still June in WIB.
        let now = at("2026-06-30T16:00:00Z");
        assert_eq!(last_ended_month(now, RegionTimeZone::Wit), month(2026, 6));
        assert_eq!(last_ended_month(now, RegionTimeZone::Wib), month(2026, 5));
    }

    #[test]
    fn due_months_fill_gaps_after_the_first_snapshot_only() {
        let ks = [
            kel("18.72.01.1001", RegionTimeZone::Wib),
            kel("18.72.01.1002", RegionTimeZone::Wib),
            kel("18.72.01.1003", RegionTimeZone::Wib),
        ];
        let with: HashSet<&str> = ["18.72.01.1001", "18.72.01.1002"].into();
        let present: HashSet<(String, i32)> = [("18.72.01.1001".to_string(), month(2026, 2).index())].into();
        let due = months_due(&ks, &with, &present, at("2026-06-02T00:00:00Z"));
        let codes = |m: ContributionMonth| -> Vec<&str> { due[&m].iter().map(|k| k.code.as_str()).collect() };
        // 1001: March to May (after its first snapshot); 1002: only May; 1003: no participants.
        assert_eq!(
            due.keys().copied().collect::<Vec<_>>(),
            vec![month(2026, 3), month(2026, 4), month(2026, 5)]
        );
        assert_eq!(codes(month(2026, 3)), vec!["18.72.01.1001"]);
        assert_eq!(codes(month(2026, 5)), vec!["18.72.01.1001", "18.72.01.1002"]);
    }

    #[test]
    fn ranges_that_cannot_be_taken_are_refused() {
        let now = at("2026-07-01T03:00:00Z");
        assert!(check_range(month(2026, 6), month(2026, 6), now).is_ok());
        assert!(matches!(
            check_range(month(2026, 7), month(2026, 7), now),
            Err(SnapshotError::NotEnded { .. })
        ));
        assert!(matches!(
            check_range(month(2026, 5), month(2026, 4), now),
            Err(SnapshotError::Backwards { .. })
        ));
        assert!(matches!(
            check_range(month(2010, 1), month(2026, 4), now),
            Err(SnapshotError::TooLong { .. })
        ));
    }

    #[test]
    fn rows_are_taken_at_each_zones_month_end_and_late_ones_are_rebuilt() {
        let wib = kel("18.72.01.1001", RegionTimeZone::Wib);
        let wit = kel("91.71.01.1001", RegionTimeZone::Wit);
        let histogram = [
            PaidThroughCount {
                kelurahan_code: wib.code.to_string(),
                paid_through: month(2026, 6).index(),
                participants: 2,
            },
            PaidThroughCount {
                kelurahan_code: wit.code.to_string(),
                paid_through: month(2026, 2).index(),
                participants: 1,
            },
        ];
        // One WIB participant paid June on 3 July: paid through May at June's end.
        let payments = [PaymentSince {
            participant_id: 1,
            kelurahan_code: wib.code.to_string(),
            paid_through: month(2026, 6).index(),
            months: 1,
            paid_at: at("2026-07-03T03:00:00Z").timestamp(),
        }];
        let basis = Basis {
            histogram: &histogram,
            payments: &payments,
            due: &DueDateRules::default(),
            standing: &StandingRules::default(),
        };
        let rows = rows_for_month(&[&wib, &wit], &basis, month(2026, 6), at("2026-07-03T12:00:00Z"));
        assert_eq!(rows.len(), 2);
        let (a, b) = (&rows[0], &rows[1]);
        // June fell due on 15 June: the one who paid it in July was a month behind.
        assert_eq!((a.participants, a.active, a.arrears_1), (2, 2, 1));
        assert_eq!(a.month_end_at, at("2026-06-30T17:00:00Z").timestamp());
        assert!(!a.rebuilt);
        // Paid through February at the end of June: March to June past due.
        assert_eq!((b.participants, b.nonactive, b.arrears_3_plus), (1, 1, 1));
        assert_eq!(b.month_end_at, at("2026-06-30T15:00:00Z").timestamp());
        let late = rows_for_month(&[&wib], &basis, month(2026, 6), at("2026-07-10T00:00:00Z"));
        assert!(late[0].rebuilt);
    }

    /// A small deterministic generator (a linear congruential one).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn month_totals_add_up_what_the_rows_of_the_month_do() {
        use super::super::rebuild::{KelurahanBuckets, month_totals};
        use crate::domain::KelurahanCode;
        use chrono::NaiveDate;
        let zones = [
            ("18.72.01", RegionTimeZone::Wib),
            ("51.71.01", RegionTimeZone::Wita),
            ("91.71.01", RegionTimeZone::Wit),
        ];
        let kelurahan: Vec<Kelurahan> = (0..30)
            .map(|i| {
                let (prefix, zone) = zones[i % 3];
                Kelurahan {
                    code: KelurahanCode::parse(&format!("{prefix}.{}", 1001 + i)).unwrap(),
                    name: format!("K{i}"),
                    kecamatan: String::new(),
                    kabupaten_kota: String::new(),
                    provinsi: String::new(),
                    time_zone: zone,
                }
            })
            .collect();
        // Due on the month's last day; some kelurahan have their own
        // holidays on it, which moves their due date past the month's end.
        let mut due = DueDateRules {
            day: 31,
            ..DueDateRules::default()
        };
        for k in kelurahan.iter().step_by(4) {
            let days = (1..=12).filter_map(|m| NaiveDate::from_ymd_opt(2026, m + 1, 1)?.pred_opt());
            due.kelurahan_holidays.insert(k.code.to_string(), days.collect());
        }
        let standing = StandingRules::default();
        let june = ContributionMonth::new(2026, 6).unwrap().index();
        let mut rng = Lcg(7);
        let mut histogram = Vec::new();
        let mut payments = Vec::new();
        for (i, k) in kelurahan.iter().enumerate().skip(1) {
            for paid_through in (june - 8)..=(june + 1) {
                if rng.below(3) == 0 {
                    continue;
                }
                let n = 1 + rng.below(5) as i64;
                histogram.push(PaidThroughCount {
                    kelurahan_code: k.code.to_string(),
                    paid_through,
                    participants: n,
                });
                for p in 0..rng.below(n as u64 + 1) as i64 {
                    let participant_id = (i as i64) * 1_000 + i64::from(paid_through - june + 10) * 10 + p;
                    for _ in 0..=rng.below(2) {
                        payments.push(PaymentSince {
                            participant_id,
                            kelurahan_code: k.code.to_string(),
                            paid_through,
                            months: 1 + rng.below(3) as i32,
                            paid_at: 1_754_000_000 + rng.below(330 * 86_400) as i64,
                        });
                    }
                }
            }
        }
        let basis = Basis {
            histogram: &histogram,
            payments: &payments,
            due: &due,
            standing: &standing,
        };
        let buckets = KelurahanBuckets::of(&histogram);
        let refs: Vec<&Kelurahan> = kelurahan.iter().collect();
        let now = "2026-07-10T00:00:00Z".parse().unwrap();
        let mut differed_from_today = false;
        for m in (june - 11)..=june {
            let month = ContributionMonth::from_index(m);
            let mut expected = StatusRow::default();
            for row in rows_for_month(&refs, &basis, month, now) {
                expected.bpu += row.participants;
                expected.active += row.active;
                expected.nonactive += row.nonactive;
                expected.arrears_1 += row.arrears_1;
                expected.arrears_2 += row.arrears_2;
                expected.arrears_3_plus += row.arrears_3_plus;
            }
            let got = month_totals(&refs, &buckets, &basis, month);
            assert_eq!(got, expected, "month {month}");
            let no_payments = Basis {
                payments: &[],
                ..basis.clone()
            };
            differed_from_today |= month_totals(&refs, &buckets, &no_payments, month) != got;
        }
        // The payments moved someone in some month: the take-back was exercised.
        assert!(differed_from_today);
    }
}
