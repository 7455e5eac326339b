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
use futures::stream::FuturesUnordered;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::clock::Clock;
use crate::store::{AttemptOutcome, Delivery, StoreError};

/// How long the recorder waits for more outcomes to join a group: short
/// against a send (tens to hundreds of milliseconds at a gateway), long
/// enough that a busy dispatcher writes many outcomes per statement. The
/// group is written sooner when every sender's permit in use is waiting to
/// be written (nothing more can come until then) or when a writer's share of
/// the permits waits.
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
    pub store: Arc<dyn Delivery>,
    pub clock: Arc<dyn Clock>,
    /// The dispatcher whose claims the outcomes end.
    pub worker: String,
    /// The senders' permits, `concurrency` in all.
    pub permits: Arc<Semaphore>,
    /// How many permits `permits` was made with.
    pub concurrency: usize,
    /// How many groups may be written at once, each on its own connection.
    pub writes_in_flight: usize,
}

/// Outcomes waiting to be written, with the permits they keep.
#[derive(Default)]
struct Waiting {
    outcomes: Vec<(i64, AttemptOutcome)>,
    permits: Vec<OwnedSemaphorePermit>,
    /// When the oldest of them arrived.
    since: Option<Instant>,
}

impl Waiting {
    fn push(&mut self, recording: Recording) {
        self.since.get_or_insert_with(Instant::now);
        self.outcomes.push(recording.outcome);
        self.permits.extend(recording.permit);
    }

    fn len(&self) -> usize {
        self.outcomes.len()
    }

    fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// Takes the first `n` outcomes out to be written, with as many permits
    /// (any `n` of them: a permit stands for a place, not a message).
    fn take_front(&mut self, n: usize) -> Waiting {
        let n = n.min(self.len());
        let freed = n.min(self.permits.len());
        let group = Waiting {
            outcomes: self.outcomes.drain(..n).collect(),
            permits: self.permits.drain(..freed).collect(),
            since: self.since,
        };
        if self.is_empty() {
            self.since = None;
        }
        group
    }

    /// Puts a group whose write failed back in front, to be written again.
    fn put_back(&mut self, mut group: Waiting) {
        group.outcomes.append(&mut self.outcomes);
        group.permits.append(&mut self.permits);
        self.outcomes = group.outcomes;
        self.permits = group.permits;
        self.since = match (group.since, self.since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

impl Recorder {
    /// Records everything `outcomes` yields until it closes and all is
    /// written, or until `give_up` (read when writes fail after the input
    /// closed) has passed. Returns how many outcomes could not be written.
    ///
    /// Up to `writes_in_flight` groups are written at once: while one
    /// group's statement runs, the senders whose outcomes were written before
    /// it are sending again and the next group gathers.
    pub async fn run(
        &self,
        mut outcomes: UnboundedReceiver<Recording>,
        give_up: impl Fn() -> Option<Instant>,
    ) -> usize {
        let mut pending = Waiting::default();
        let mut writes = FuturesUnordered::new();
        let mut writing_permits = 0;
        let mut open = true;
        let mut pause = FIRST_PAUSE;
        let mut paused_until: Option<Instant> = None;
        loop {
            if paused_until.is_some_and(|t| Instant::now() >= t) {
                paused_until = None;
            }
            while writes.len() < self.writes_in_flight.max(1)
                && paused_until.is_none()
                && self.flush_now(&pending, writing_permits, open)
            {
                let group = pending.take_front(MAX_GROUP);
                writing_permits += group.permits.len();
                writes.push(self.write(group));
            }
            if !open && pending.is_empty() && writes.is_empty() {
                return 0;
            }
            // A full set of writes is woken by their end, not by the window.
            let window_ends = pending
                .since
                .map(|t| t + GROUP_WINDOW)
                .filter(|_| writes.len() < self.writes_in_flight.max(1));
            let wake = paused_until.or(window_ends);
            tokio::select! {
                Some((group, result)) = writes.next(), if !writes.is_empty() => {
                    writing_permits -= group.permits.len();
                    match result {
                        Ok(()) => pause = FIRST_PAUSE,
                        Err(e) => {
                            tracing::warn!(error = %e, waiting = pending.len() + group.len(),
                                "cannot record outcomes; they are kept and written when the database answers");
                            pending.put_back(group);
                            if !open && writes.is_empty() && give_up().is_some_and(|at| Instant::now() + pause >= at) {
                                let ids: Vec<i64> = pending.outcomes.iter().map(|(id, _)| *id).collect();
                                tracing::error!(reminders = ?ids,
                                    "stopping with outcomes not recorded: these reminders stay `sending` and may be sent again");
                                return pending.len();
                            }
                            paused_until = Some(Instant::now() + pause);
                            pause = (pause * 2).min(MAX_PAUSE);
                        }
                    }
                }
                recording = outcomes.next(), if open => match recording {
                    Some(recording) => {
                        pending.push(recording);
                        open = take_ready(&mut outcomes, &mut pending);
                    }
                    None => open = false,
                },
                () = sleep_until_or_forever(wake) => {}
            }
        }
    }

    /// Whether to start writing what waits now: when nothing more can come
    /// soon (every permit in use waits here or in a write, or the input is
    /// closed), when a writer's share of the permits waits (a share that
    /// leaves as many permits sending while every writer is busy), or when the
    /// oldest outcome has waited [`GROUP_WINDOW`].
    fn flush_now(&self, pending: &Waiting, writing_permits: usize, open: bool) -> bool {
        let Some(since) = pending.since else {
            return false;
        };
        let in_use = self.concurrency.saturating_sub(self.permits.available_permits());
        !open
            || in_use <= pending.permits.len() + writing_permits
            || pending.len() >= (self.concurrency / (self.writes_in_flight.max(1) + 1)).max(1)
            || since.elapsed() >= GROUP_WINDOW
    }

    /// Writes one group; hands it back with the result (its permits are
    /// freed when the group is dropped after a successful write).
    async fn write(&self, group: Waiting) -> (Waiting, Result<(), StoreError>) {
        let result = self
            .store
            .finish_attempts(&self.worker, &group.outcomes, self.clock.now())
            .await
            .map(|_| ());
        (group, result)
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_or_forever(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
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
