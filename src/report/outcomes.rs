//! `pengingat report`: per kelurahan and in total, the standing of BPU
//! participants and what the reminders achieved — per channel, as far as
//! each channel can tell: SMS sent, delivered (by the gateways' delivery
//! receipts) and failed; e-mail accepted by the SMTP relay and failed (e-mail
//! has no delivery receipts, so "delivered" means nothing for it and the two
//! channels are never put in one delivery percentage) — conversion (a
//! payment credited to the reminder), median days to pay and the amount paid
//! after reminders, and the same per rule and channel.
//!
//! Reminders count in the period by when they were sent (or failed);
//! standing is taken at the end of the period (or now, when that is
//! earlier): for a period ending on a month's last day, from the month-end
//! snapshots ([`super::past_standing`]); otherwise, and for kelurahan
//! without a snapshot, rebuilt from the payments made since
//! ([`super::rebuild`]) and named as rebuilt.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::grouping;
use super::history::MonthSource;
use super::past_standing::{self, PastStanding};
use super::rebuild::histogram_at;
use super::status::{self, StandingData, StatusAt, StatusRow};
use crate::domain::{DueDateRules, StandingRules};
use crate::store::retention::RetiredConversion;
use crate::store::{AttributedPayment, OutcomeCounts, OutcomeFilter, Store, StoreError};
use crate::wilayah::region::Level;

/// What a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// First day (WIB) of the period; from the beginning when `None`.
    pub from: Option<NaiveDate>,
    /// Last day (WIB) of the period, included; up to now when `None`.
    pub to: Option<NaiveDate>,
    /// Kelurahan code or code prefix; all when `None`.
    pub kelurahan: Option<String>,
}

/// SMS reminders: what the gateways' delivery receipts say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SmsFigures {
    /// Accepted by a gateway.
    pub sent: i64,
    /// Confirmed delivered to the handset by a receipt.
    pub delivered: i64,
    /// Refused, undelivered, or expired unsent.
    pub failed: i64,
    /// Delivered ÷ sent; `None` when none was sent.
    pub delivery_rate: Option<f64>,
}

impl SmsFigures {
    fn add(&mut self, sent: i64, delivered: i64, failed: i64) {
        self.sent += sent;
        self.delivered += delivered;
        self.failed += failed;
        self.delivery_rate = ratio(self.delivered, self.sent);
    }
}

/// E-mail reminders: SMTP has no delivery receipts, so all that is known is
/// whether the relay accepted the message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct EmailFigures {
    /// Accepted by the SMTP relay ("diterima relay").
    pub relay_accepted: i64,
    /// Refused by the relay (an address it rejects, a malformed one), given
    /// up after temporary errors, or expired unsent.
    pub failed: i64,
    /// Accepted ÷ (accepted + failed); `None` when none was tried.
    pub relay_rate: Option<f64>,
}

impl EmailFigures {
    fn add(&mut self, accepted: i64, failed: i64) {
        self.relay_accepted += accepted;
        self.failed += failed;
        self.relay_rate = ratio(self.relay_accepted, self.relay_accepted + self.failed);
    }
}

/// What the reminders of a group achieved.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Effect {
    /// SMS reminders.
    pub sms: SmsFigures,
    /// E-mail reminders.
    pub email: EmailFigures,
    /// Both channels: SMS sent and e-mails accepted by the relay.
    pub sent: i64,
    /// Both channels: reminders that failed.
    pub failed: i64,
    /// Reminders credited with a payment.
    pub converted: i64,
    /// Converted ÷ sent; `None` when nothing was sent.
    pub conversion_rate: Option<f64>,
    /// Median whole days from a converted reminder to its first payment.
    pub median_days_to_pay: Option<f64>,
    /// Rupiah paid in payments credited to the reminders.
    pub amount_paid: i64,
}

/// One kelurahan (or the total).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KelurahanReport {
    /// Code; empty for the total.
    pub code: String,
    /// Name, or "Total".
    pub name: String,
    pub bpu: i64,
    pub active: i64,
    pub nonactive: i64,
    /// Active ÷ BPU participants; `None` without participants.
    pub active_ratio: Option<f64>,
    pub arrears_1: i64,
    pub arrears_2: i64,
    pub arrears_3_plus: i64,
    /// What its reminders achieved.
    #[serde(flatten)]
    pub effect: Effect,
}

/// One rule and channel, over every kelurahan of the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleReport {
    /// The rule's name.
    pub rule: String,
    /// `sms` or `email`.
    pub channel: String,
    /// SMS sent, or e-mails accepted by the relay.
    pub sent: i64,
    /// SMS confirmed delivered; `None` for e-mail (no delivery receipts).
    pub delivered: Option<i64>,
    pub failed: i64,
    /// SMS: delivered ÷ sent; `None` for e-mail.
    pub delivery_rate: Option<f64>,
    /// E-mail: accepted by the relay ÷ (accepted + failed); `None` for SMS.
    pub relay_rate: Option<f64>,
    pub converted: i64,
    pub conversion_rate: Option<f64>,
    pub median_days_to_pay: Option<f64>,
    pub amount_paid: i64,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeReport {
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// The instant standing was taken at.
    pub standing_at: DateTime<Utc>,
    /// The period's first day, if bounded.
    pub from: Option<NaiveDate>,
    /// The period's last day, if bounded.
    pub to: Option<NaiveDate>,
    /// One row per kelurahan with BPU participants or reminders.
    pub kelurahan: Vec<KelurahanReport>,
    /// Every kelurahan together.
    pub total: KelurahanReport,
    /// Per rule and channel.
    pub rules: Vec<RuleReport>,
    /// Where standing comes from: now (`current`), the month-end snapshots
    /// (`snapshot`), or rebuilt from the payment history for some or all
    /// kelurahan (`rebuilt`).
    pub standing_source: MonthSource,
    /// Codes of the kelurahan (or, grouped, the regions) whose standing is rebuilt.
    pub standing_rebuilt: Vec<String>,
    /// What a row of `kelurahan` is: a kecamatan, kabupaten/kota or
    /// province (`report --group-by`); left out for kelurahan rows.
    #[serde(skip_serializing_if = "Level::is_kelurahan")]
    pub group_by: Level,
}

/// The rules the report knows of, so rules are listed in schedule order.
pub type RuleOrder<'a> = &'a [String];

/// Builds the report.
pub async fn compute(
    store: &dyn Store,
    due: &DueDateRules,
    standing: &StandingRules,
    query: &ReportQuery,
    rule_order: RuleOrder<'_>,
    now: DateTime<Utc>,
) -> Result<OutcomeReport, StoreError> {
    let data = StandingData::load(store, query.kelurahan.as_deref()).await?;
    compute_from(store, &data, (due, standing), query, rule_order, now).await
}

/// [`compute`] on standing data read already.
pub async fn compute_from(
    store: &dyn Store,
    data: &StandingData,
    rules: (&DueDateRules, &StandingRules),
    query: &ReportQuery,
    rule_order: RuleOrder<'_>,
    now: DateTime<Utc>,
) -> Result<OutcomeReport, StoreError> {
    compute_by(store, data, rules, query, (rule_order, Level::Kelurahan), now).await
}

/// [`compute_from`] with a row per region at `group_by` (see [`grouping`]).
pub async fn compute_by(
    store: &dyn Store,
    data: &StandingData,
    (due, standing): (&DueDateRules, &StandingRules),
    query: &ReportQuery,
    (rule_order, group_by): (RuleOrder<'_>, Level),
    now: DateTime<Utc>,
) -> Result<OutcomeReport, StoreError> {
    let filter = outcome_filter(query);
    let standing_at = filter
        .to
        .map_or(now, |to| now.min(DateTime::from_timestamp(to, 0).unwrap_or(now)));
    let rebuilt;
    let histogram = if standing_at < now {
        let payments = store.bpu_payments_since(standing_at.timestamp()).await?;
        rebuilt = histogram_at(&data.histogram, &payments, standing_at.timestamp());
        &rebuilt
    } else {
        &data.histogram
    };
    let at = StatusAt::Instant(standing_at);
    let mut status = status::tally(
        &data.kelurahan,
        histogram,
        due,
        standing,
        at,
        query.kelurahan.as_deref(),
    );
    let counts = store.reminder_outcomes(&filter).await?;
    let paid = Conversions::of(&store.attributed_payments(&filter).await?)
        .with_retired(&store.retired_conversions(&filter).await?);
    let names: HashMap<String, String> = data
        .kelurahan
        .iter()
        .map(|k| (k.code.to_string(), k.name.clone()))
        .collect();
    let past = if standing_at < now {
        let prefix = query.kelurahan.as_deref();
        past_standing::apply_snapshots(store, &mut status.kelurahan, &names, query.to, prefix).await?
    } else {
        PastStanding {
            source: MonthSource::Current,
            rebuilt: Vec::new(),
        }
    };
    let (rows, counts, paid, names, rebuilt) = match group_by {
        Level::Kelurahan => (status.kelurahan, counts, paid, names, past.rebuilt),
        level => (
            grouping::status_rows(&status.kelurahan, level, &data.kelurahan),
            grouping::counts(counts, level),
            paid.grouped(level),
            grouping::names(&data.kelurahan, level),
            grouping::codes(&past.rebuilt, level),
        ),
    };
    let mut report = assemble(&rows, &counts, &paid, &names, rule_order, (now, standing_at, query));
    (report.standing_source, report.standing_rebuilt) = (past.source, rebuilt);
    report.group_by = group_by;
    Ok(report)
}

/// The store filter of a query: the period's days from WIB midnight to WIB midnight.
pub fn outcome_filter(query: &ReportQuery) -> OutcomeFilter {
    let wib = crate::domain::RegionTimeZone::Wib.tz();
    let midnight = |d: NaiveDate| crate::domain::calendar::local_midnight(d, wib).timestamp();
    OutcomeFilter {
        from: query.from.map(midnight),
        to: query.to.and_then(|d| d.succ_opt()).map(midnight),
        kelurahan: query.kelurahan.clone(),
    }
}

/// Puts standing, reminder counts and credited payments together.
pub fn assemble(
    status: &[StatusRow],
    counts: &[OutcomeCounts],
    conversions: &Conversions,
    names: &HashMap<String, String>,
    rule_order: RuleOrder<'_>,
    (now, standing_at, query): (DateTime<Utc>, DateTime<Utc>, &ReportQuery),
) -> OutcomeReport {
    let mut rows: BTreeMap<String, KelurahanReport> = status.iter().map(|s| (s.code.clone(), from_status(s))).collect();
    for c in counts {
        let code = &c.kelurahan_code;
        let r = rows.entry(code.clone()).or_insert_with(|| KelurahanReport {
            code: code.clone(),
            name: names.get(code).cloned().unwrap_or_default(),
            ..Default::default()
        });
        match c.channel.as_str() {
            "email" => r.effect.email.add(c.sent, c.failed),
            _ => r.effect.sms.add(c.sent, c.delivered, c.failed),
        }
    }
    let mut kelurahan: Vec<KelurahanReport> = rows.into_values().collect();
    for k in &mut kelurahan {
        let code = k.code.clone();
        finish_effect(&mut k.effect, conversions.matching(|p| p.kelurahan_code == code));
    }
    let mut total = KelurahanReport {
        name: "Total".into(),
        ..Default::default()
    };
    for k in &kelurahan {
        add_standing(&mut total, k);
        let (sms, email) = (k.effect.sms, k.effect.email);
        total.effect.sms.add(sms.sent, sms.delivered, sms.failed);
        total.effect.email.add(email.relay_accepted, email.failed);
    }
    total.active_ratio = ratio(total.active, total.bpu);
    finish_effect(&mut total.effect, conversions.matching(|_| true));
    OutcomeReport {
        generated_at: now,
        standing_at,
        from: query.from,
        to: query.to,
        kelurahan,
        total,
        rules: rule_rows(counts, conversions, rule_order),
        standing_source: MonthSource::Current,
        standing_rebuilt: Vec::new(),
        group_by: Level::Kelurahan,
    }
}

fn from_status(s: &StatusRow) -> KelurahanReport {
    KelurahanReport {
        code: s.code.clone(),
        name: s.name.clone(),
        bpu: s.bpu,
        active: s.active,
        nonactive: s.nonactive,
        active_ratio: ratio(s.active, s.bpu),
        arrears_1: s.arrears_1,
        arrears_2: s.arrears_2,
        arrears_3_plus: s.arrears_3_plus,
        effect: Effect::default(),
    }
}

fn add_standing(total: &mut KelurahanReport, k: &KelurahanReport) {
    total.bpu += k.bpu;
    total.active += k.active;
    total.nonactive += k.nonactive;
    total.arrears_1 += k.arrears_1;
    total.arrears_2 += k.arrears_2;
    total.arrears_3_plus += k.arrears_3_plus;
}

/// Sums the channels and adds the conversions of `converted`.
fn finish_effect(e: &mut Effect, converted: Vec<&Converted>) {
    e.sent = e.sms.sent + e.email.relay_accepted;
    e.failed = e.sms.failed + e.email.failed;
    (e.converted, e.conversion_rate, e.median_days_to_pay, e.amount_paid) = conversion_figures(e.sent, &converted);
}

/// Converted reminders, conversion rate, median days to pay and amount paid
/// of `converted` among `sent` reminders.
fn conversion_figures(sent: i64, converted: &[&Converted]) -> (i64, Option<f64>, Option<f64>, i64) {
    let count = converted.iter().map(|c| c.reminders).sum();
    let days = median(
        converted
            .iter()
            .flat_map(|c| std::iter::repeat_n(c.days, usize::try_from(c.reminders).unwrap_or(0)))
            .collect(),
    );
    (
        count,
        ratio(count, sent),
        days,
        converted.iter().map(|c| c.amount).sum(),
    )
}

/// The rows per rule and channel, in schedule order (unknown rules last, by name).
fn rule_rows(counts: &[OutcomeCounts], conversions: &Conversions, order: RuleOrder<'_>) -> Vec<RuleReport> {
    let mut rows: BTreeMap<(usize, String, String), RuleReport> = BTreeMap::new();
    let position = |rule: &str| order.iter().position(|r| r == rule).unwrap_or(usize::MAX);
    for c in counts {
        let key = (position(&c.rule), c.rule.clone(), c.channel.clone());
        let r = rows.entry(key).or_insert_with(|| RuleReport {
            rule: c.rule.clone(),
            channel: c.channel.clone(),
            ..Default::default()
        });
        r.sent += c.sent;
        r.failed += c.failed;
        if c.channel != "email" {
            r.delivered = Some(r.delivered.unwrap_or_default() + c.delivered);
        }
    }
    let mut out: Vec<RuleReport> = rows.into_values().collect();
    for r in &mut out {
        let converted = conversions.matching(|p| p.rule == r.rule && p.channel == r.channel);
        match r.delivered {
            Some(delivered) => r.delivery_rate = ratio(delivered, r.sent),
            None => r.relay_rate = ratio(r.sent, r.sent + r.failed),
        }
        (r.converted, r.conversion_rate, r.median_days_to_pay, r.amount_paid) = conversion_figures(r.sent, &converted);
    }
    out
}

/// One converted reminder, or, from retention's monthly totals, several
/// with the same days to pay.
#[derive(Debug, Clone)]
struct Converted {
    /// Its kelurahan, rule and channel, for grouping.
    kelurahan_code: String,
    rule: String,
    channel: String,
    /// Days to its first credited payment.
    days: i32,
    /// Every credited payment's amount together.
    amount: i64,
    /// How many reminders this stands for.
    reminders: i64,
}

/// The converted reminders of a report.
#[derive(Debug, Clone, Default)]
pub struct Conversions(Vec<Converted>);

impl Conversions {
    /// Groups credited payments by reminder (they come ordered by reminder, then payment date).
    pub fn of(paid: &[AttributedPayment]) -> Self {
        let mut out: Vec<Converted> = Vec::new();
        let mut last: Option<i64> = None;
        for p in paid {
            match out.last_mut() {
                Some(c) if last == Some(p.reminder_id) => {
                    c.amount += p.amount;
                    c.days = c.days.min(p.days_to_pay);
                }
                _ => out.push(Converted {
                    kelurahan_code: p.kelurahan_code.clone(),
                    rule: p.rule.clone(),
                    channel: p.channel.clone(),
                    days: p.days_to_pay,
                    amount: p.amount,
                    reminders: 1,
                }),
            }
            last = Some(p.reminder_id);
        }
        Self(out)
    }

    /// Adds the conversions of reminders that retention deleted.
    pub fn with_retired(mut self, retired: &[RetiredConversion]) -> Self {
        self.0.extend(retired.iter().map(|r| Converted {
            kelurahan_code: r.kelurahan_code.clone(),
            rule: r.rule.clone(),
            channel: r.channel.clone(),
            days: r.days_to_pay,
            amount: r.amount,
            reminders: r.reminders,
        }));
        self
    }

    /// The same conversions, each under its region's code at `level`.
    pub fn grouped(mut self, level: Level) -> Self {
        for c in &mut self.0 {
            let len = crate::wilayah::region::region_code(&c.kelurahan_code, level).len();
            c.kelurahan_code.truncate(len);
        }
        self
    }

    fn matching(&self, pred: impl Fn(&Converted) -> bool) -> Vec<&Converted> {
        self.0.iter().filter(|c| pred(c)).collect()
    }
}

/// `part ÷ whole`, or `None` for an empty whole.
pub fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The median; the mean of the middle two for an even count.
pub fn median(mut values: Vec<i32>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        f64::from(values[mid])
    } else {
        (f64::from(values[mid - 1]) + f64::from(values[mid])) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5]), Some(5.0));
        assert_eq!(median(vec![9, 1, 3]), Some(3.0));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2.5));
    }

    #[test]
    fn conversions_take_the_first_payment_and_sum_amounts() {
        let p = |reminder_id, days_to_pay, amount| AttributedPayment {
            reminder_id,
            kelurahan_code: "K".into(),
            rule: "h-1".into(),
            channel: "sms".into(),
            days_to_pay,
            amount,
        };
        let c = Conversions::of(&[p(1, 2, 16_800), p(1, 9, 33_600), p(2, 4, 16_800)]);
        assert_eq!(c.0.len(), 2);
        assert_eq!((c.0[0].days, c.0[0].amount), (2, 50_400));
        assert_eq!(ratio(1, 0), None);
        assert_eq!(ratio(1, 4), Some(0.25));
    }

    #[test]
    fn sms_delivery_and_email_acceptance_stay_apart() {
        let count = |channel: &str, sent, delivered, failed| OutcomeCounts {
            kelurahan_code: "K".into(),
            rule: "h-1".into(),
            channel: channel.into(),
            sent,
            delivered,
            failed,
        };
        let counts = [count("email", 9, 0, 1), count("sms", 10, 9, 1)];
        let query = ReportQuery {
            from: None,
            to: None,
            kelurahan: None,
        };
        let now = DateTime::UNIX_EPOCH;
        let r = assemble(
            &[],
            &counts,
            &Conversions::default(),
            &HashMap::new(),
            &[],
            (now, now, &query),
        );
        let e = &r.total.effect;
        assert_eq!((e.sms.sent, e.sms.delivered, e.sms.delivery_rate), (10, 9, Some(0.9)));
        assert_eq!(
            (e.email.relay_accepted, e.email.failed, e.email.relay_rate),
            (9, 1, Some(0.9))
        );
        assert_eq!((e.sent, e.failed), (19, 2));
        let email = r.rules.iter().find(|x| x.channel == "email").unwrap();
        assert_eq!(
            (email.delivered, email.delivery_rate, email.relay_rate),
            (None, None, Some(0.9))
        );
        let sms = r.rules.iter().find(|x| x.channel == "sms").unwrap();
        assert_eq!(
            (sms.delivered, sms.delivery_rate, sms.relay_rate),
            (Some(9), Some(0.9), None)
        );
    }
}
