//! The daemon's counters, rendered in the Prometheus text format on
//! `/metrics`. A small registry of our own (rather than a global recorder)
//! keeps every application instance, and so every test, isolated.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of scans and the reminders they create.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Scans completed.
    scans: AtomicU64,
    /// Scans that failed (database errors); the next tick tries again.
    scan_failures: AtomicU64,
    /// Sum of scan durations, in microseconds (for the Prometheus summary).
    scan_micros: AtomicU64,
    /// Duration of the last scan, in microseconds.
    last_scan_micros: AtomicU64,
    /// Reminders created, per rule.
    created: Mutex<BTreeMap<String, u64>>,
    /// Reminders recorded as skipped (too late), per rule.
    skipped: Mutex<BTreeMap<String, u64>>,
    /// Reminders superseded by a more urgent one the same day.
    superseded: AtomicU64,
    /// Pending reminders cancelled because their rule was removed or changed.
    cancelled: AtomicU64,
    /// Schedule reloads, by outcome.
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    /// Delivery attempts, by channel and outcome (`sent`, `retried`, …).
    attempts: Mutex<BTreeMap<(String, String), u64>>,
    /// Delivery receipts, by gateway and what they did.
    receipts: Mutex<BTreeMap<(String, String), u64>>,
    /// Payments, by source (`http`, `inbox`) and result.
    payments: Mutex<BTreeMap<(String, String), u64>>,
}

/// The label names of the two-label families.
const ATTEMPT_LABELS: (&str, &str) = ("channel", "outcome");
const RECEIPT_LABELS: (&str, &str) = ("gateway", "outcome");
const PAYMENT_LABELS: (&str, &str) = ("source", "result");

impl Metrics {
    pub fn record_scan(&self, micros: u64, superseded: u64, cancelled: u64) {
        self.scans.fetch_add(1, Ordering::Relaxed);
        self.scan_micros.fetch_add(micros, Ordering::Relaxed);
        self.last_scan_micros.store(micros, Ordering::Relaxed);
        self.superseded.fetch_add(superseded, Ordering::Relaxed);
        self.cancelled.fetch_add(cancelled, Ordering::Relaxed);
    }

    pub fn record_scan_failure(&self) {
        self.scan_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_rule(&self, rule: &str, created: u64, skipped: u64) {
        add(&self.created, rule, created);
        add(&self.skipped, rule, skipped);
    }

    pub fn record_reload(&self, ok: bool) {
        let counter = if ok { &self.reloads_ok } else { &self.reloads_failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// One delivery attempt's outcome on `channel`.
    pub fn record_attempt(&self, channel: &str, outcome: &str) {
        add_pair(&self.attempts, channel, outcome, 1);
    }

    /// Delivery attempts on `channel` that came to `outcome` so far.
    pub fn attempts(&self, channel: &str, outcome: &str) -> u64 {
        let attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        attempts
            .get(&(channel.to_string(), outcome.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// One delivery receipt from `gateway` and what it did.
    pub fn record_receipt(&self, gateway: &str, outcome: &str) {
        add_pair(&self.receipts, gateway, outcome, 1);
    }

    /// `n` payments from `source` with `result` (recorded, duplicate, conflict, rejected).
    pub fn record_payments(&self, source: &str, result: &str, n: u64) {
        add_pair(&self.payments, source, result, n);
    }

    pub fn scans(&self) -> u64 {
        self.scans.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        counter(&mut out, "pengingat_scans_total", "Scans completed.", get(&self.scans));
        counter(
            &mut out,
            "pengingat_scan_failures_total",
            "Scans that failed.",
            get(&self.scan_failures),
        );
        let _ = writeln!(out, "# HELP pengingat_scan_duration_seconds Duration of scans.");
        let _ = writeln!(out, "# TYPE pengingat_scan_duration_seconds summary");
        let _ = writeln!(
            out,
            "pengingat_scan_duration_seconds_sum {}",
            get(&self.scan_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "pengingat_scan_duration_seconds_count {}", get(&self.scans));
        let _ = writeln!(
            out,
            "# HELP pengingat_last_scan_duration_seconds Duration of the last scan."
        );
        let _ = writeln!(out, "# TYPE pengingat_last_scan_duration_seconds gauge");
        let _ = writeln!(
            out,
            "pengingat_last_scan_duration_seconds {}",
            get(&self.last_scan_micros) as f64 / 1e6
        );
        per_rule(
            &mut out,
            "pengingat_reminders_created_total",
            "Reminders created, per rule.",
            &self.created,
        );
        per_rule(
            &mut out,
            "pengingat_reminders_skipped_total",
            "Reminders too late to send, per rule.",
            &self.skipped,
        );
        counter(
            &mut out,
            "pengingat_reminders_superseded_total",
            "Reminders superseded the same day.",
            get(&self.superseded),
        );
        counter(
            &mut out,
            "pengingat_reminders_cancelled_total",
            "Pending reminders cancelled by schedule edits.",
            get(&self.cancelled),
        );
        let _ = writeln!(
            out,
            "# HELP pengingat_schedule_reloads_total Schedule reloads, by result."
        );
        let _ = writeln!(out, "# TYPE pengingat_schedule_reloads_total counter");
        let _ = writeln!(
            out,
            "pengingat_schedule_reloads_total{{result=\"ok\"}} {}",
            get(&self.reloads_ok)
        );
        let _ = writeln!(
            out,
            "pengingat_schedule_reloads_total{{result=\"error\"}} {}",
            get(&self.reloads_failed)
        );
        per_pair(
            &mut out,
            "pengingat_delivery_attempts_total",
            "Delivery attempts, by channel and outcome.",
            ATTEMPT_LABELS,
            &self.attempts,
        );
        per_pair(
            &mut out,
            "pengingat_receipts_total",
            "Delivery receipts, by gateway and what they did.",
            RECEIPT_LABELS,
            &self.receipts,
        );
        per_pair(
            &mut out,
            "pengingat_payments_total",
            "Payments received through the API and the inbox, by source and result.",
            PAYMENT_LABELS,
            &self.payments,
        );
        out
    }
}

fn add(map: &Mutex<BTreeMap<String, u64>>, rule: &str, n: u64) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    *map.entry(rule.to_string()).or_default() += n;
}

fn add_pair(map: &Mutex<BTreeMap<(String, String), u64>>, a: &str, b: &str, n: u64) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    *map.entry((a.to_string(), b.to_string())).or_default() += n;
}

/// A label value escaped for the text format.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

fn per_pair(
    out: &mut String,
    name: &str,
    help: &str,
    (first, second): (&str, &str),
    map: &Mutex<BTreeMap<(String, String), u64>>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    let map = map.lock().unwrap_or_else(|e| e.into_inner());
    for ((a, b), value) in map.iter() {
        let _ = writeln!(
            out,
            "{name}{{{first}=\"{}\",{second}=\"{}\"}} {value}",
            label(a),
            label(b)
        );
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
}

fn per_rule(out: &mut String, name: &str, help: &str, map: &Mutex<BTreeMap<String, u64>>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    let map = map.lock().unwrap_or_else(|e| e.into_inner());
    for (rule, value) in map.iter() {
        let _ = writeln!(out, "{name}{{rule=\"{}\"}} {value}", label(rule));
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
