//! The recorder: every attempt's outcome is written promptly, the outcomes
//! that arrived within a few milliseconds of each other in one statement.
//! When the database does not answer, the outcomes stay in memory and the
//! write is tried again; a message is never sent again because its outcome
//! could not be written.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::store::{AttemptOutcome, Store};

/// How long the recorder waits for more outcomes to join a group: short
/// against a send (tens to hundreds of milliseconds at a gateway), long
/// enough that a busy dispatcher writes hundreds of outcomes per statement.
pub const GROUP_WINDOW: Duration = Duration::from_millis(5);

/// The most outcomes written in one statement.
pub const MAX_GROUP: usize = 2_000;

/// The first pause after a failed write; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// Writes outcomes for one dispatcher.
pub struct Recorder {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// The dispatcher whose claims the outcomes end.
    pub worker: String,
}

impl Recorder {
    /// Records everything `outcomes` yields until it closes and all is
    /// written, or until `give_up` (read when writes fail after the input
    /// closed) has passed. Returns how many outcomes could not be written.
    pub async fn run(
        &self,
        mut outcomes: UnboundedReceiver<(i64, AttemptOutcome)>,
        give_up: impl Fn() -> Option<Instant>,
    ) -> usize {
        let mut pending: Vec<(i64, AttemptOutcome)> = Vec::new();
        let mut open = true;
        let mut pause = FIRST_PAUSE;
        loop {
            if pending.is_empty() {
                if !open {
                    return 0;
                }
                match outcomes.next().await {
                    Some(outcome) => pending.push(outcome),
                    None => return 0,
                }
            }
            if open {
                open = gather(&mut outcomes, &mut pending).await;
            }
            let group = pending.len().min(MAX_GROUP);
            match self
                .store
                .finish_attempts(&self.worker, &pending[..group], self.clock.now())
                .await
            {
                Ok(_) => {
                    pending.drain(..group);
                    pause = FIRST_PAUSE;
                }
                Err(e) => {
                    tracing::warn!(error = %e, waiting = pending.len(),
                        "cannot record outcomes; they are kept and written when the database answers");
                    if !open && give_up().is_some_and(|at| Instant::now() + pause >= at) {
                        let ids: Vec<i64> = pending.iter().map(|(id, _)| *id).collect();
                        tracing::error!(reminders = ?ids,
                            "stopping with outcomes not recorded: these reminders stay `sending` and may be sent again");
                        return pending.len();
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                    // Outcomes that came meanwhile join the next write.
                    if open {
                        open = take_ready(&mut outcomes, &mut pending);
                    }
                }
            }
        }
    }
}

/// Adds what arrives within [`GROUP_WINDOW`] (up to [`MAX_GROUP`]) to
/// `pending`; `false` once the input is closed.
async fn gather(
    outcomes: &mut UnboundedReceiver<(i64, AttemptOutcome)>,
    pending: &mut Vec<(i64, AttemptOutcome)>,
) -> bool {
    let until = Instant::now() + GROUP_WINDOW;
    while pending.len() < MAX_GROUP {
        match tokio::time::timeout_at(until, outcomes.next()).await {
            Ok(Some(outcome)) => pending.push(outcome),
            Ok(None) => return false,
            Err(_) => break,
        }
    }
    true
}

/// Adds every outcome already waiting; `false` once the input is closed.
fn take_ready(
    outcomes: &mut UnboundedReceiver<(i64, AttemptOutcome)>,
    pending: &mut Vec<(i64, AttemptOutcome)>,
) -> bool {
    loop {
        match outcomes.try_recv() {
            Ok(outcome) => pending.push(outcome),
            Err(e) => return !e.is_closed(),
        }
    }
}
