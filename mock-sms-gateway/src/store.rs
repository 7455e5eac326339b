//! The record of accepted messages, served by `GET /messages`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which gateway's wire format a message came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Kannel,
    Jasmin,
    Twilio,
    Infobip,
    Webhook,
}

/// How a message ends, decided when it is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FinalStatus {
    Delivered,
    Undelivered,
}

/// One accepted message as `GET /messages` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedMessage {
    /// Acceptance order, from 1; restarts after `DELETE /messages`.
    pub seq: u64,
    /// The wire format it came in.
    pub preset: Preset,
    /// The recipient as sent.
    pub to: String,
    /// The sender as sent, when there was one.
    pub from: Option<String>,
    /// The text as the gateway decoded it.
    pub text: String,
    /// The data coding asked for (Kannel `coding`, Jasmin `coding`).
    pub coding: Option<u8>,
    /// The sender's own reference: Infobip's `messageId`, the webhook's `id`,
    /// or else the `id` query parameter of the receipt URL.
    pub reference: Option<String>,
    /// The id the gateway gave the message (Kannel's internal id, Jasmin's
    /// UUID, Twilio's `SM…` sid, Infobip's messageId, the webhook's id).
    pub message_id: String,
    /// Where receipts go, when asked for.
    pub callback_url: Option<String>,
    /// How the message ends; its receipt carries this.
    pub final_status: FinalStatus,
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
}

/// Which recorded messages a query wants.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct MessageFilter {
    /// Only messages to this recipient (exact match).
    pub to: Option<String>,
    /// Only messages that came in this format.
    pub preset: Option<Preset>,
}

impl MessageFilter {
    fn matches(&self, message: &RecordedMessage) -> bool {
        self.to.as_deref().is_none_or(|to| message.to == to) && self.preset.is_none_or(|p| message.preset == p)
    }
}

/// Messages per chunk of the store.
const CHUNK: usize = 16_384;

/// Accepted messages in acceptance order, up to a cap.
#[derive(Debug)]
pub struct MessageStore {
    /// The kept messages, in fixed-size chunks so growing never copies the
    /// whole record under the lock. One mutex is enough: the critical section
    /// is a push.
    messages: Mutex<Vec<Vec<RecordedMessage>>>,
    /// How many are kept.
    kept: AtomicU64,
    /// Messages accepted since the last reset, kept or not.
    accepted: AtomicU64,
    /// How many are kept.
    cap: usize,
}

impl MessageStore {
    pub fn new(cap: usize) -> Self {
        Self {
            messages: Mutex::new(Vec::new()),
            kept: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            cap,
        }
    }

    /// Records one accepted message, giving it the next sequence number.
    pub fn record(&self, mut message: RecordedMessage) {
        let mut chunks = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        // Numbered under the lock so the kept list is in `seq` order.
        message.seq = self.accepted.fetch_add(1, Ordering::Relaxed) + 1;
        if self.kept.load(Ordering::Relaxed) >= self.cap as u64 {
            return;
        }
        match chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(message),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK.min(self.cap));
                chunk.push(message);
                chunks.push(chunk);
            }
        }
        self.kept.fetch_add(1, Ordering::Relaxed);
    }

    /// The kept messages that match, oldest first.
    pub fn list(&self, filter: &MessageFilter) -> Vec<RecordedMessage> {
        let chunks = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        chunks.iter().flatten().filter(|m| filter.matches(m)).cloned().collect()
    }

    /// How many messages match: every accepted one when unfiltered, else the
    /// kept ones that match.
    pub fn count(&self, filter: &MessageFilter) -> u64 {
        if filter.to.is_none() && filter.preset.is_none() {
            return self.accepted.load(Ordering::Relaxed);
        }
        let chunks = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        chunks.iter().flatten().filter(|m| filter.matches(m)).count() as u64
    }

    /// Forgets every message and restarts numbering.
    pub fn clear(&self) {
        let mut chunks = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        chunks.clear();
        self.kept.store(0, Ordering::Relaxed);
        self.accepted.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(to: &str, preset: Preset) -> RecordedMessage {
        RecordedMessage {
            seq: 0,
            preset,
            to: to.into(),
            from: None,
            text: "halo".into(),
            coding: None,
            reference: None,
            message_id: "m".into(),
            callback_url: None,
            final_status: FinalStatus::Delivered,
            received_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn numbers_filters_caps_and_clears() {
        let store = MessageStore::new(2);
        store.record(message("+6281", Preset::Kannel));
        store.record(message("+6282", Preset::Twilio));
        store.record(message("+6281", Preset::Kannel));
        let all = store.list(&MessageFilter::default());
        assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(store.count(&MessageFilter::default()), 3);
        let to = MessageFilter {
            to: Some("+6282".into()),
            preset: None,
        };
        assert_eq!(store.count(&to), 1);
        let twilio = MessageFilter {
            to: None,
            preset: Some(Preset::Kannel),
        };
        assert_eq!(store.list(&twilio).len(), 1);
        store.clear();
        assert_eq!(store.count(&MessageFilter::default()), 0);
        store.record(message("+6283", Preset::Webhook));
        assert_eq!(store.list(&MessageFilter::default())[0].seq, 1);
    }

    #[test]
    fn order_survives_chunk_boundaries() {
        let store = MessageStore::new(usize::MAX);
        for _ in 0..CHUNK + 2 {
            store.record(message("+6281", Preset::Infobip));
        }
        let seqs: Vec<u64> = store.list(&MessageFilter::default()).iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=CHUNK as u64 + 2).collect::<Vec<_>>());
    }
}
