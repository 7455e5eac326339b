//! The daemon's counters, rendered in the Prometheus text format (0.0.4) on
//! `/metrics` by `prometheus-client`. Each [`Metrics`] has its own registry
//! (rather than a global one), which keeps every application instance, and
//! so every test, isolated.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`].
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Counters of scans, the reminders they create, deliveries, receipts and payments.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Scans completed.
    scans: Counter,
    /// Scans that failed (database errors); the next tick tries again.
    scan_failures: Counter,
    /// Scan durations, in seconds: their sum and count (the single `+Inf` bucket holds the count).
    scan_duration: Histogram,
    /// Duration of the last scan, in seconds.
    last_scan_duration: Gauge<f64, AtomicU64>,
    /// Reminders created, per rule.
    created: Family<RuleLabels, Counter>,
    /// Reminders recorded as skipped (too late), per rule.
    skipped: Family<RuleLabels, Counter>,
    /// Reminders superseded by a more urgent one the same day.
    superseded: Counter,
    /// Pending reminders cancelled because their rule was removed or changed.
    cancelled: Counter,
    /// Schedule reloads, by result (`ok`, `error`).
    reloads: Family<ReloadLabels, Counter>,
    /// Delivery attempts, by channel and outcome (`sent`, `retried`, …).
    attempts: Family<AttemptLabels, Counter>,
    /// Delivery receipts, by gateway and what they did.
    receipts: Family<ReceiptLabels, Counter>,
    /// Payments, by source (`http`, `inbox`) and result.
    payments: Family<PaymentLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    channel: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReceiptLabels {
    gateway: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PaymentLabels {
    source: String,
    result: String,
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Self {
            registry: Registry::default(),
            scans: Counter::default(),
            scan_failures: Counter::default(),
            scan_duration: Histogram::new(std::iter::empty()),
            last_scan_duration: Gauge::default(),
            created: Family::default(),
            skipped: Family::default(),
            superseded: Counter::default(),
            cancelled: Counter::default(),
            reloads: Family::default(),
            attempts: Family::default(),
            receipts: Family::default(),
            payments: Family::default(),
        };
        // Both reload results are shown from the start, at 0.
        for result in ["ok", "error"] {
            let _ = m.reloads.get_or_create(&ReloadLabels { result });
        }
        m.register()
    }
}

impl Metrics {
    /// `self` with every metric in its registry, in the order of the
    /// exposition. Counters are registered without `_total`: the encoder
    /// appends it to the family and sample names. Help texts get their
    /// final period from the registry.
    fn register(mut self) -> Self {
        let r = &mut self.registry;
        r.register("pengingat_scans", "Scans completed", self.scans.clone());
        r.register(
            "pengingat_scan_failures",
            "Scans that failed",
            self.scan_failures.clone(),
        );
        r.register(
            "pengingat_scan_duration_seconds",
            "Duration of scans",
            self.scan_duration.clone(),
        );
        r.register(
            "pengingat_last_scan_duration_seconds",
            "Duration of the last scan",
            self.last_scan_duration.clone(),
        );
        r.register(
            "pengingat_reminders_created",
            "Reminders created, per rule",
            self.created.clone(),
        );
        r.register(
            "pengingat_reminders_skipped",
            "Reminders too late to send, per rule",
            self.skipped.clone(),
        );
        r.register(
            "pengingat_reminders_superseded",
            "Reminders superseded the same day",
            self.superseded.clone(),
        );
        r.register(
            "pengingat_reminders_cancelled",
            "Pending reminders cancelled by schedule edits",
            self.cancelled.clone(),
        );
        r.register(
            "pengingat_schedule_reloads",
            "Schedule reloads, by result",
            self.reloads.clone(),
        );
        r.register(
            "pengingat_delivery_attempts",
            "Delivery attempts, by channel and outcome",
            self.attempts.clone(),
        );
        r.register(
            "pengingat_receipts",
            "Delivery receipts, by gateway and what they did",
            self.receipts.clone(),
        );
        r.register(
            "pengingat_payments",
            "Payments received through the API and the inbox, by source and result",
            self.payments.clone(),
        );
        self
    }

    pub fn record_scan(&self, micros: u64, superseded: u64, cancelled: u64) {
        let seconds = micros as f64 / 1e6;
        self.scans.inc();
        self.scan_duration.observe(seconds);
        self.last_scan_duration.set(seconds);
        self.superseded.inc_by(superseded);
        self.cancelled.inc_by(cancelled);
    }

    pub fn record_scan_failure(&self) {
        self.scan_failures.inc();
    }

    /// A rule's figures of one scan; the rule is shown from then on, at 0 too.
    pub fn record_rule(&self, rule: &str, created: u64, skipped: u64) {
        let labels = RuleLabels { rule: rule.to_string() };
        self.created.get_or_create(&labels).inc_by(created);
        self.skipped.get_or_create(&labels).inc_by(skipped);
    }

    pub fn record_reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.reloads.get_or_create(&ReloadLabels { result }).inc();
    }

    /// One delivery attempt's outcome on `channel`.
    pub fn record_attempt(&self, channel: &str, outcome: &str) {
        self.attempts.get_or_create(&attempt(channel, outcome)).inc();
    }

    /// Delivery attempts on `channel` that came to `outcome` so far.
    pub fn attempts(&self, channel: &str, outcome: &str) -> u64 {
        self.attempts
            .get(&attempt(channel, outcome))
            .map_or(0, |counter| counter.get())
    }

    /// One delivery receipt from `gateway` and what it did.
    pub fn record_receipt(&self, gateway: &str, outcome: &str) {
        let labels = ReceiptLabels {
            gateway: gateway.to_string(),
            outcome: outcome.to_string(),
        };
        self.receipts.get_or_create(&labels).inc();
    }

    /// `n` payments from `source` with `result` (recorded, duplicate, conflict, rejected).
    pub fn record_payments(&self, source: &str, result: &str, n: u64) {
        let labels = PaymentLabels {
            source: source.to_string(),
            result: result.to_string(),
        };
        self.payments.get_or_create(&labels).inc_by(n);
    }

    pub fn scans(&self) -> u64 {
        self.scans.get()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_text::encode(&mut out, &self.registry) {
            // Writing into a String does not fail, nor does encoding these metric types.
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

fn attempt(channel: &str, outcome: &str) -> AttemptLabels {
    AttemptLabels {
        channel: channel.to_string(),
        outcome: outcome.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_two_label_families() {
        let m = Metrics::default();
        m.record_payments("http", "recorded", 3);
        m.record_payments("http", "recorded", 2);
        m.record_attempt("sms", "sent");
        m.record_receipt("kan\"nel", "applied");
        let text = m.render();
        assert!(
            text.contains("pengingat_payments_total{source=\"http\",result=\"recorded\"} 5"),
            "{text}"
        );
        assert!(
            text.contains("pengingat_delivery_attempts_total{channel=\"sms\",outcome=\"sent\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("pengingat_receipts_total{gateway=\"kan\\\"nel\",outcome=\"applied\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn renders_counters_per_rule() {
        let m = Metrics::default();
        m.record_rule("h-7", 10, 2);
        m.record_rule("h-7", 5, 0);
        m.record_scan(1_500_000, 3, 0);
        let text = m.render();
        assert!(
            text.contains("pengingat_reminders_created_total{rule=\"h-7\"} 15\n"),
            "{text}"
        );
        assert!(text.contains("pengingat_reminders_skipped_total{rule=\"h-7\"} 2\n"));
        assert!(text.contains("pengingat_scans_total 1\n"));
        assert!(text.contains("pengingat_scan_duration_seconds_sum 1.5\n"));
        assert!(text.contains("pengingat_reminders_superseded_total 3\n"));
    }
}
