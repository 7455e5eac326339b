//! The first send of a channel goes alone. Until a relay or gateway has
//! answered once without a configuration error, its sends take turns: when
//! our credentials are wrong, one request finds it out and takes the
//! channel out of service ([`super::ChannelHealth`]) before the others go,
//! instead of every concurrent send repeating the refused login (a relay
//! may lock an account after repeated authentication failures).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Mutex, OwnedMutexGuard};

/// Whether a channel has answered yet, and the turn its sends take until then.
#[derive(Debug, Clone, Default)]
pub(crate) struct FirstSend {
    /// Set once the channel answered without a configuration error.
    answered: Arc<AtomicBool>,
    /// Held by the one send in flight while it has not.
    turn: Arc<Mutex<()>>,
}

impl FirstSend {
    /// Waits for this send's turn while the channel has not answered yet
    /// (the caller checks the channel's health again once it has it);
    /// `None`, at once, when it has.
    pub(crate) async fn turn(&self) -> Option<OwnedMutexGuard<()>> {
        if self.answered.load(Ordering::Acquire) {
            return None;
        }
        let turn = self.turn.clone().lock_owned().await;
        if self.answered.load(Ordering::Acquire) {
            return None;
        }
        Some(turn)
    }

    /// Records what a send came to: anything but a configuration error (an
    /// acceptance, a refused recipient, a timeout) lets sends go at once.
    pub(crate) fn record(&self, configuration_error: bool) {
        if !configuration_error {
            self.answered.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sends_take_turns_until_the_channel_answers() {
        let first = FirstSend::default();
        let held = first.turn().await.expect("the first send takes the turn");
        let waiting = first.clone();
        let next = tokio::spawn(async move { waiting.turn().await.is_some() });
        tokio::task::yield_now().await;
        assert!(!next.is_finished(), "the second waits for the first");
        first.record(true);
        drop(held);
        assert!(next.await.unwrap(), "a configuration error keeps the turns");
        first.record(false);
        assert!(first.turn().await.is_none(), "once answered, sends go at once");
    }
}
