//! Channels taken out of service by a configuration error: an SMTP relay
//! that refuses our credentials, a relay or HTTPS gateway whose certificate
//! is not trusted. Such a channel stays unhealthy until the daemon restarts
//! with a fixed configuration; `/readyz` answers 503 naming it and what to
//! fix, and the error is logged once, when it is first seen.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The channels found misconfigured, shared by the senders and `/readyz`.
#[derive(Debug, Clone, Default)]
pub struct ChannelHealth {
    /// Channel (`smtp`, an SMS gateway's name) → what is wrong and what to fix.
    problems: Arc<Mutex<BTreeMap<String, String>>>,
}

impl ChannelHealth {
    /// Marks `channel` unhealthy with `problem`; the first time, logs it as
    /// one error line. Returns whether it was healthy until now.
    pub fn fail(&self, channel: &str, problem: &str) -> bool {
        let mut problems = self.problems.lock().unwrap_or_else(PoisonError::into_inner);
        if problems.contains_key(channel) {
            return false;
        }
        problems.insert(channel.to_string(), problem.to_string());
        tracing::error!(
            channel,
            "{problem}; the channel stays out of service until the daemon restarts"
        );
        true
    }

    /// What is wrong with `channel`, if it is unhealthy.
    pub fn problem(&self, channel: &str) -> Option<String> {
        let problems = self.problems.lock().unwrap_or_else(PoisonError::into_inner);
        problems.get(channel).cloned()
    }

    /// Every unhealthy channel and its problem, by name.
    pub fn problems(&self) -> Vec<(String, String)> {
        let problems = self.problems.lock().unwrap_or_else(PoisonError::into_inner);
        problems.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_fails_once_and_stays_failed() {
        let health = ChannelHealth::default();
        assert!(health.problems().is_empty());
        assert!(health.fail("smtp", "relay refused our credentials"));
        assert!(!health.fail("smtp", "again"), "reported once");
        let shared = health.clone();
        assert_eq!(
            shared.problems(),
            vec![("smtp".to_string(), "relay refused our credentials".to_string())]
        );
        assert_eq!(health.problem("kannel"), None);
    }
}
