//! Idempotent sends, as the gateways that offer them behave: a message sent
//! again under a key the gateway has already accepted gets the first answer
//! (the same message id) and is not delivered a second time.
//!
//! - Infobip keys on the client's `destinations[].messageId` (Infobip's
//!   "idempotent message sending", enabled per account).
//! - The generic webhook keys on the `Idempotency-Key` header (IETF draft
//!   "The Idempotency-Key HTTP Header Field",
//!   draft-ietf-httpapi-idempotency-key-header). Reusing a key for a
//!   different message is an error there (422), as the draft says.
//!
//! Keys are remembered until `DELETE /messages`; every suppressed duplicate
//! is counted (`GET /stats`, `duplicates_suppressed`) and logged.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::Preset;

/// The header the generic webhook reads its key from.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// What the gateway remembers of a first send.
#[derive(Debug, Clone)]
struct First {
    /// The recipient and text it carried, hashed.
    fingerprint: u64,
    /// The message id it was given.
    message_id: String,
}

/// What a send under a key turns out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: the message is delivered with this message id.
    First,
    /// The key was accepted before for the same message: answer with its
    /// message id, deliver nothing.
    Duplicate { message_id: String },
    /// The key was accepted before for a different message.
    Mismatch,
}

/// The keys accepted so far, per wire format.
#[derive(Debug, Default)]
pub struct Idempotency {
    /// (preset, key) → the first send.
    seen: Mutex<HashMap<(Preset, String), First>>,
    /// Sends answered from memory instead of being delivered again.
    suppressed: AtomicU64,
}

impl Idempotency {
    /// Claims `key` for a message to `to` with `text` that would get
    /// `message_id`. The check and the claim are one step under the lock, so
    /// two concurrent sends of one key deliver once.
    pub fn claim(&self, preset: Preset, key: &str, to: &str, text: &str, message_id: &str) -> Claim {
        let fingerprint = fingerprint(to, text);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let claim = match seen.get(&(preset, key.to_string())) {
            None => {
                seen.insert(
                    (preset, key.to_string()),
                    First {
                        fingerprint,
                        message_id: message_id.to_string(),
                    },
                );
                return Claim::First;
            }
            Some(first) if first.fingerprint == fingerprint => Claim::Duplicate {
                message_id: first.message_id.clone(),
            },
            Some(_) => Claim::Mismatch,
        };
        drop(seen);
        if matches!(claim, Claim::Duplicate { .. }) {
            let total = self.suppressed.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::info!(preset = ?preset, key, suppressed = total, "duplicate send suppressed");
        }
        claim
    }

    /// Duplicates suppressed since the last reset.
    pub fn suppressed(&self) -> u64 {
        self.suppressed.load(Ordering::Relaxed)
    }

    /// Forgets every key and the counter.
    pub fn clear(&self) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.suppressed.store(0, Ordering::Relaxed);
    }
}

/// A hash of what a message says and to whom.
fn fingerprint(to: &str, text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    (to, text).hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_delivered_once_and_then_answered_from_memory() {
        let keys = Idempotency::default();
        assert_eq!(keys.claim(Preset::Webhook, "k1", "+62811", "halo", "m1"), Claim::First);
        assert_eq!(
            keys.claim(Preset::Webhook, "k1", "+62811", "halo", "m2"),
            Claim::Duplicate {
                message_id: "m1".into()
            }
        );
        assert_eq!(
            keys.claim(Preset::Webhook, "k1", "+62811", "lain", "m3"),
            Claim::Mismatch
        );
        assert_eq!(keys.claim(Preset::Infobip, "k1", "+62811", "halo", "m4"), Claim::First);
        assert_eq!(keys.suppressed(), 1);
        keys.clear();
        assert_eq!(keys.suppressed(), 0);
        assert_eq!(keys.claim(Preset::Webhook, "k1", "+62811", "halo", "m5"), Claim::First);
    }
}
