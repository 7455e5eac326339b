//! The recorder: every attempt's outcome is written promptly, the outcomes
//! that arrived within a few milliseconds of each other in one statement.
//! When the database does not answer, the outcomes stay in memory and the
//! write is tried again; a message is never sent again because its outcome
//! could not be written.
//!
//! A sent message keeps its sender's permit (one of `delivery.concurrency`)
//! until its outcome is written, so messages at a gateway and answers not yet
//! written are `concurrency` at most together: that is all a crash can send
//! twice, and while the database does not answer, sending pauses instead of
//! piling up answers that a crash would lose.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::clock::Clock;
use crate::store::{AttemptOutcome, Store};

/// How long the recorder waits for more outcomes to join a group: short
/// against a send (tens to hundreds of milliseconds at a gateway), long
/// enough that a busy dispatcher writes hundreds of outcomes per statement.
/// The group is written sooner when every sender's permit is already in it
/// (nothing more can come until it is written).
pub const GROUP_WINDOW: Duration = Duration::from_millis(5);

/// The most outcomes written in one statement.
pub const MAX_GROUP: usize = 2_000;

/// The first pause after a failed write; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// One outcome on its way to the database.
pub struct Recording {
    /// The reminder and what its attempt came to.
    pub outcome: (i64, AttemptOutcome),
    /// The sender's permit, for a message that may have reached a gateway;
    /// released once the outcome is written. `None` for a reminder given back
    /// before any send.
    pub permit: Option<OwnedSemaphorePermit>,
}

/// Writes outcomes for one dispatcher.
pub struct Recorder {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// The dispatcher whose claims the outcomes end.
    pub worker: String,
    /// The senders' permits, `concurrency` in all.
    pub permits: Arc<Semaphore>,
    /// How many permits `permits` was made with.
    pub concurrency: usize,
}

/// Outcomes waiting to be written, with the permits they keep.
#[derive(Default)]
struct Waiting {
    outcomes: Vec<(i64, AttemptOutcome)>,
    permits: Vec<OwnedSemaphorePermit>,
}

impl Waiting {
    fn push(&mut self, recording: Recording) {
        self.outcomes.push(recording.outcome);
        self.permits.extend(recording.permit);
    }

    fn len(&self) -> usize {
        self.outcomes.len()
    }

    fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// Forgets the first `n` outcomes, written now, and frees as many permits
    /// (any `n` of them: a permit stands for a place, not a message).
    fn written(&mut self, n: usize) {
        self.outcomes.drain(..n);
        let freed = n.min(self.permits.len());
        self.permits.drain(..freed);
    }
}

impl Recorder {
    /// Records everything `outcomes` yields until it closes and all is
    /// written, or until `give_up` (read when writes fail after the input
    /// closed) has passed. Returns how many outcomes could not be written.
    pub async fn run(
        &self,
        mut outcomes: UnboundedReceiver<Recording>,
        give_up: impl Fn() -> Option<Instant>,
    ) -> usize {
        let mut pending = Waiting::default();
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
                open = self.gather(&mut outcomes, &mut pending).await;
            }
            let group = pending.len().min(MAX_GROUP);
            match self
                .store
                .finish_attempts(&self.worker, &pending.outcomes[..group], self.clock.now())
                .await
            {
                Ok(_) => {
                    pending.written(group);
                    pause = FIRST_PAUSE;
                }
                Err(e) => {
                    tracing::warn!(error = %e, waiting = pending.len(),
                        "cannot record outcomes; they are kept and written when the database answers");
                    if !open && give_up().is_some_and(|at| Instant::now() + pause >= at) {
                        let ids: Vec<i64> = pending.outcomes.iter().map(|(id, _)| *id).collect();
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

    /// Adds what arrives within [`GROUP_WINDOW`] (up to [`MAX_GROUP`]) to
    /// `pending`, stopping early once every permit in use waits here;
    /// `false` once the input is closed.
    async fn gather(&self, outcomes: &mut UnboundedReceiver<Recording>, pending: &mut Waiting) -> bool {
        let until = Instant::now() + GROUP_WINDOW;
        while pending.len() < MAX_GROUP {
            let in_use = self.concurrency.saturating_sub(self.permits.available_permits());
            if in_use <= pending.permits.len() && !take_ready(outcomes, pending) {
                return false;
            }
            if in_use <= pending.permits.len() {
                break;
            }
            match tokio::time::timeout_at(until, outcomes.next()).await {
                Ok(Some(outcome)) => pending.push(outcome),
                Ok(None) => return false,
                Err(_) => break,
            }
        }
        true
    }
}

/// Adds every outcome already waiting; `false` once the input is closed.
fn take_ready(outcomes: &mut UnboundedReceiver<Recording>, pending: &mut Waiting) -> bool {
    loop {
        match outcomes.try_recv() {
            Ok(outcome) => pending.push(outcome),
            Err(e) => return !e.is_closed(),
        }
    }
}
