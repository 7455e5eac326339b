//! The view model of the dashboard: plain figures, computed elsewhere, that
//! the renderer only formats and draws.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardData {
    /// What the figures cover, e.g. "Kota Metro" or "Semua wilayah".
    pub title: String,
    /// When the figures were computed.
    pub generated_at: DateTime<Utc>,
    /// The time zone `generated_at` is shown in.
    pub time_zone: Tz,
    /// Reminders are counted in this period (inclusive); `None` means all time.
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// One row per kelurahan.
    pub kelurahan: Vec<KelurahanRow>,
    /// The sum of all kelurahan: code "" and name "Total".
    pub total: KelurahanRow,
    /// One entry per reminder rule, in schedule order.
    pub funnel: Vec<RuleFunnel>,
    /// The active ratio at the end of each of the last 12 months, oldest first.
    pub history: Vec<MonthRatio>,
    /// BPU participants on the contact-verification list (see
    /// [`crate::report::contacts`]).
    pub contacts_to_verify: i64,
    /// Reminded vs the holdout group; `None` while the holdout is off.
    pub effect: Option<crate::report::effect::EffectReport>,
}

impl DashboardData {
    /// How the BPU participants of the total are spread over arrears buckets.
    pub fn arrears_distribution(&self) -> ArrearsDistribution {
        self.total.arrears_distribution()
    }
}

/// The figures of one kelurahan (or the total).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KelurahanRow {
    /// Kemendagri kelurahan code; empty for the total.
    pub code: String,
    /// Kelurahan name, or "Total".
    pub name: String,
    /// BPU participants.
    pub bpu: i64,
    /// Active participants.
    pub active: i64,
    /// Non-active participants.
    pub nonactive: i64,
    /// Participants exactly one month in arrears.
    pub arrears_1: i64,
    /// Participants exactly two months in arrears.
    pub arrears_2: i64,
    /// Participants three or more months in arrears.
    pub arrears_3_plus: i64,
    /// Reminders sent in the period: SMS sent and e-mails accepted by the relay.
    pub sent: i64,
    /// SMS sent.
    pub sms_sent: i64,
    /// SMS confirmed delivered by a delivery receipt.
    pub sms_delivered: i64,
    /// E-mails accepted by the SMTP relay (e-mail has no delivery receipts).
    pub email_accepted: i64,
    /// E-mails that failed (refused by the relay, given up, expired).
    pub email_failed: i64,
    /// Reminders that failed, both channels.
    pub failed: i64,
    /// Reminders followed by a payment.
    pub converted: i64,
    /// Rupiah paid after reminders.
    pub amount_paid: i64,
}

impl KelurahanRow {
    /// The sum of `rows`, with code "" and name "Total".
    pub fn total(rows: &[KelurahanRow]) -> KelurahanRow {
        let mut total = KelurahanRow {
            name: "Total".to_string(),
            ..KelurahanRow::default()
        };
        for row in rows {
            total.add(row);
        }
        total
    }

    /// Adds the counts of `other` to this row.
    pub fn add(&mut self, other: &KelurahanRow) {
        self.bpu += other.bpu;
        self.active += other.active;
        self.nonactive += other.nonactive;
        self.arrears_1 += other.arrears_1;
        self.arrears_2 += other.arrears_2;
        self.arrears_3_plus += other.arrears_3_plus;
        self.sent += other.sent;
        self.sms_sent += other.sms_sent;
        self.sms_delivered += other.sms_delivered;
        self.email_accepted += other.email_accepted;
        self.email_failed += other.email_failed;
        self.failed += other.failed;
        self.converted += other.converted;
        self.amount_paid += other.amount_paid;
    }

    /// Active participants over BPU participants; `None` without participants.
    pub fn active_ratio(&self) -> Option<f64> {
        ratio(self.active, self.bpu)
    }

    /// Delivered SMS over sent SMS; `None` when none were sent. E-mail is
    /// never part of it: it has no delivery receipts.
    pub fn sms_delivery_rate(&self) -> Option<f64> {
        ratio(self.sms_delivered, self.sms_sent)
    }

    /// E-mails accepted by the relay over e-mails tried; `None` when none were.
    pub fn email_relay_rate(&self) -> Option<f64> {
        ratio(self.email_accepted, self.email_accepted + self.email_failed)
    }

    /// Reminders followed by a payment over sent reminders; `None` when none
    /// were sent.
    pub fn conversion_rate(&self) -> Option<f64> {
        ratio(self.converted, self.sent)
    }

    /// Participants with no month in arrears (never below zero).
    pub fn current(&self) -> i64 {
        (self.bpu - self.arrears_1 - self.arrears_2 - self.arrears_3_plus).max(0)
    }

    /// How this row's participants are spread over arrears buckets.
    pub fn arrears_distribution(&self) -> ArrearsDistribution {
        ArrearsDistribution {
            current: self.current(),
            one: self.arrears_1,
            two: self.arrears_2,
            three_plus: self.arrears_3_plus,
        }
    }
}

/// Participants per arrears bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArrearsDistribution {
    /// No month in arrears ("lancar").
    pub current: i64,
    /// One month in arrears.
    pub one: i64,
    /// Two months in arrears.
    pub two: i64,
    /// Three or more months in arrears.
    pub three_plus: i64,
}

impl ArrearsDistribution {
    /// The buckets with their Indonesian labels, from current to most behind.
    pub fn buckets(&self) -> [(&'static str, i64); 4] {
        [
            ("Lancar", self.current),
            ("1 bulan", self.one),
            ("2 bulan", self.two),
            ("≥3 bulan", self.three_plus),
        ]
    }

    /// All participants in the buckets.
    pub fn sum(&self) -> i64 {
        self.current + self.one + self.two + self.three_plus
    }
}

/// How far the reminders of one rule got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleFunnel {
    /// The rule's name from the schedule.
    pub rule: String,
    /// Reminders sent (SMS sent and e-mails accepted by the relay).
    pub sent: i64,
    /// SMS among them: the share delivered is of these.
    pub sms_sent: i64,
    /// SMS confirmed delivered (e-mail has no delivery receipts).
    pub delivered: i64,
    /// Reminders followed by a payment.
    pub paid: i64,
}

/// The standing at the end of one month: the chart draws its active ratio
/// ([`MonthRatio::ratio`]).
pub use crate::report::history::MonthStanding as MonthRatio;

/// The dashboard's reading of a month's standing.
impl MonthRatio {
    /// Active over BPU participants; `None` without participants.
    pub fn ratio(&self) -> Option<f64> {
        ratio(self.active, self.bpu)
    }

    /// Whether the month is rebuilt rather than recorded at its end.
    pub fn rebuilt(&self) -> bool {
        self.source == MonthSource::Rebuilt
    }
}

pub use crate::report::history::MonthSource;

/// The label of months rebuilt from the payment history.
pub const REBUILT: &str = "direkonstruksi";

/// The runs of consecutive rebuilt months: `(first index, length)`.
pub fn rebuilt_runs(history: &[MonthRatio]) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, _) in history.iter().enumerate().filter(|(_, m)| m.rebuilt()) {
        match runs.last_mut() {
            Some((start, len)) if *start + *len == i => *len += 1,
            _ => runs.push((i, 1)),
        }
    }
    runs
}

pub use crate::report::outcomes::ratio;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilt_months_run_together() {
        let m = |source| MonthRatio {
            source,
            ..MonthRatio::default()
        };
        let (r, s) = (MonthSource::Rebuilt, MonthSource::Snapshot);
        assert_eq!(rebuilt_runs(&[m(r), m(r), m(s), m(r), m(s)]), [(0, 2), (3, 1)]);
        assert!(rebuilt_runs(&[m(s), m(MonthSource::Current)]).is_empty());
    }

    fn row(bpu: i64, active: i64) -> KelurahanRow {
        KelurahanRow {
            code: "18.72.01.1001".into(),
            name: "Metro".into(),
            bpu,
            active,
            nonactive: bpu - active,
            arrears_1: 10,
            arrears_2: 5,
            arrears_3_plus: bpu - active,
            sent: 200,
            sms_sent: 150,
            sms_delivered: 135,
            email_accepted: 50,
            email_failed: 10,
            failed: 20,
            converted: 50,
            amount_paid: 840_000,
        }
    }

    #[test]
    fn rates_divide_by_the_right_count() {
        let r = row(400, 350);
        assert_eq!(r.active_ratio(), Some(0.875));
        assert_eq!(
            r.sms_delivery_rate(),
            Some(0.9),
            "135 of 150 SMS; the e-mails are not in it"
        );
        assert_eq!(r.email_relay_rate(), Some(50.0 / 60.0));
        assert_eq!(r.conversion_rate(), Some(0.25));
    }

    #[test]
    fn rates_are_none_without_a_denominator() {
        let r = KelurahanRow::default();
        assert_eq!(r.active_ratio(), None);
        assert_eq!(r.sms_delivery_rate(), None);
        assert_eq!(r.email_relay_rate(), None);
        assert_eq!(r.conversion_rate(), None);
        assert_eq!(MonthRatio::default().ratio(), None);
        assert_eq!(ratio(5, -1), None);
    }

    #[test]
    fn arrears_distribution_puts_the_rest_in_current() {
        let d = row(400, 350).arrears_distribution();
        assert_eq!(
            d,
            ArrearsDistribution {
                current: 335,
                one: 10,
                two: 5,
                three_plus: 50
            }
        );
        assert_eq!(d.sum(), 400);
        assert_eq!(d.buckets()[0], ("Lancar", 335));
        assert_eq!(d.buckets()[3], ("≥3 bulan", 50));
        let broken = KelurahanRow {
            bpu: 1,
            arrears_1: 3,
            ..KelurahanRow::default()
        };
        assert_eq!(broken.current(), 0);
    }

    #[test]
    fn total_sums_every_count() {
        let total = KelurahanRow::total(&[row(400, 350), row(100, 60)]);
        assert_eq!((total.code.as_str(), total.name.as_str()), ("", "Total"));
        assert_eq!((total.bpu, total.active, total.nonactive), (500, 410, 90));
        assert_eq!((total.arrears_1, total.arrears_2, total.arrears_3_plus), (20, 10, 90));
        assert_eq!(
            (total.sent, total.sms_sent, total.sms_delivered, total.failed),
            (400, 300, 270, 40)
        );
        assert_eq!((total.email_accepted, total.email_failed), (100, 20));
        assert_eq!((total.converted, total.amount_paid), (100, 1_680_000));
    }
}
