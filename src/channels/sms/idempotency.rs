//! The idempotency key of a reminder's SMS: the same for every send of one
//! reminder from one database, so a gateway that de-duplicates by a client
//! key (Infobip's `messageId`, a webhook's `Idempotency-Key` header) drops
//! the copy a re-send after a crash would otherwise deliver.
//!
//! The key is `pengingat-{deployment}-{reminder id}`. The deployment id is
//! random per database (stored in it at its first migration): reminder ids
//! restart at 1 in every database, and two databases sending through one
//! gateway account (two cities, a test and a production install) must never
//! have a reminder dropped as another's duplicate.

use std::fmt;

use thiserror::Error;

use super::super::send_test::TEST_REMINDER_ID;

/// The prefix of every key (receipts read the reminder id back from it).
pub(crate) const KEY_PREFIX: &str = "pengingat-";

/// The longest deployment id: the key must stay well inside gateways' id
/// limits.
const MAX_DEPLOYMENT_CHARS: usize = 32;

/// A database's deployment id: lowercase ASCII letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentId(String);

/// Why a deployment id is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("deployment id {0:?} must be 1 to 32 lowercase letters and digits")]
pub struct InvalidDeploymentId(pub String);

impl DeploymentId {
    /// Checks `value`: it lands in a header and in gateways' message ids.
    pub fn parse(value: &str) -> Result<Self, InvalidDeploymentId> {
        let valid = !value.is_empty()
            && value.len() <= MAX_DEPLOYMENT_CHARS
            && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if valid {
            Ok(Self(value.to_string()))
        } else {
            Err(InvalidDeploymentId(value.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The key for `reminder_id`: `pengingat-{deployment}-{reminder id}`.
///
/// Without a deployment (a pool built without a database, as `send-test`)
/// and for a test message (reminder id 0) every send gets a fresh random key
/// instead, `pengingat-once{random}-{reminder id}`: there is no database to
/// be stable in, and an operator's second test must reach the phone too.
pub fn key(deployment: Option<&DeploymentId>, reminder_id: i64) -> String {
    match deployment {
        Some(deployment) if reminder_id != TEST_REMINDER_ID => format!("{KEY_PREFIX}{deployment}-{reminder_id}"),
        _ => format!("{KEY_PREFIX}once{:016x}-{reminder_id}", rand::random::<u64>()),
    }
}

/// The reminder id in a key this module made (`None` for anything else).
pub fn reminder_of(key: &str) -> Option<i64> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let id = rest.rsplit_once('-').map_or(rest, |(_, id)| id);
    id.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_per_database_and_reminder() {
        let a = DeploymentId::parse("3f9a01bc77d2e410").unwrap();
        let b = DeploymentId::parse("b2").unwrap();
        assert_eq!(key(Some(&a), 42), "pengingat-3f9a01bc77d2e410-42");
        assert_eq!(key(Some(&a), 42), key(Some(&a), 42));
        assert_ne!(key(Some(&a), 42), key(Some(&b), 42));
        assert_ne!(key(None, 42), key(None, 42), "without a database, never de-duplicated");
        assert!(key(None, 42).starts_with("pengingat-once") && key(None, 42).ends_with("-42"));
        assert_ne!(
            key(Some(&a), 0),
            key(Some(&a), 0),
            "test messages are never de-duplicated"
        );
    }

    #[test]
    fn the_reminder_reads_back_from_every_shape() {
        let a = DeploymentId::parse("3f9a01bc77d2e410").unwrap();
        assert_eq!(reminder_of(&key(Some(&a), 42)), Some(42));
        assert_eq!(reminder_of("pengingat-7"), Some(7));
        assert_eq!(reminder_of(&key(Some(&a), 0)), Some(0));
        assert_eq!(reminder_of(&key(None, 9)), Some(9));
        assert_eq!(reminder_of("pengingat-x-y"), None);
        assert_eq!(reminder_of("other-7"), None);
    }

    #[test]
    fn deployment_ids_are_plain() {
        for bad in ["", "A1", "a-b", "a b", &"a".repeat(33)] {
            assert!(DeploymentId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(DeploymentId::parse("0123456789abcdef").is_ok());
    }
}
