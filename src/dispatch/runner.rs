//! The daemon's dispatcher, pipelined: a claim loop keeps each channel
//! supplied with no more than its gateways can send within the lease, up to
//! `concurrency` senders work the claimed reminders off one by one, and the
//! recorder writes each outcome as it comes. A heartbeat renews all of this
//! daemon's claims at once; claims of a daemon that stopped heartbeating
//! are released for the others.
//!
//! A graceful stop (SIGTERM) stops claiming, gives back every claimed
//! reminder not yet handed to a gateway (pending again, no attempt
//! counted), waits up to `stop_deadline_secs` for messages already at a
//! gateway, records them, deregisters and returns.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::recorder::{Recorder, Recording};
use super::worker::{CHANNELS, Dispatcher};
use crate::domain::Channel;
use crate::store::{AttemptOutcome, ClaimedReminder};

/// Time left after the stop deadline to record the last outcomes.
const RECORD_GRACE: Duration = Duration::from_secs(4);

/// How often unconfirmed sends are timed out.
const TIME_OUT_EVERY: Duration = Duration::from_secs(60);

/// What the heartbeat knows, for the senders: a dispatcher that has not
/// heard its own heartbeat answered for nearly the lease period stops
/// handing messages to gateways (others may be about to release its claims),
/// and once it learns it was taken for gone it drops every claim it still
/// had queued: those reminders are others' now.
struct Liveness {
    /// When a heartbeat (or the registration) last succeeded.
    last_ok: std::sync::Mutex<Instant>,
    /// Counts the times this dispatcher learnt its claims were released.
    generation: AtomicU64,
    /// How long without a successful heartbeat before sending pauses.
    pause_after: Duration,
}

impl Liveness {
    fn renewed(&self) {
        *self.last_ok.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn silent_too_long(&self) -> bool {
        self.last_ok.lock().unwrap_or_else(|e| e.into_inner()).elapsed() > self.pause_after
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// A claimed reminder with the generation it was claimed under.
type Claim = (u64, ClaimedReminder);

/// What the claim loop and the senders share.
struct Pipeline {
    /// Reminders held per channel (claimed, outcome not yet produced), by
    /// the index of the channel in [`CHANNELS`].
    held: [AtomicUsize; 2],
    /// Signalled when a held reminder is done, so the claim loop may claim more.
    room: Notify,
    /// When the stop began.
    stopping_since: OnceLock<Instant>,
}

fn slot(channel: &str) -> usize {
    CHANNELS.iter().position(|c| c.as_str() == channel).unwrap_or(0)
}

impl Dispatcher {
    /// Dispatches until `cancel`, then stops gracefully (see the module).
    pub async fn run(self, cancel: CancellationToken) {
        if !self.register(&cancel).await {
            return;
        }
        let lease = Duration::from_secs(self.settings.lease_secs.max(1));
        let live = Liveness {
            last_ok: std::sync::Mutex::new(Instant::now()),
            generation: AtomicU64::new(0),
            pause_after: lease.saturating_sub(Duration::from_secs(self.settings.heartbeat_secs) / 2),
        };
        let finished = CancellationToken::new();
        let work = async {
            self.work(&cancel, &live).await;
            finished.cancel();
        };
        tokio::join!(work, self.heartbeat_loop(&finished, &live));
        if let Err(e) = self.store.deregister_dispatcher(&self.worker).await {
            tracing::warn!(error = %e, "cannot deregister the dispatcher; its claims are released after the lease");
        }
        tracing::info!(dispatcher = %self.worker, "dispatcher stopped");
    }

    /// Registers this dispatcher, retrying until the database answers.
    async fn register(&self, cancel: &CancellationToken) -> bool {
        loop {
            match self.store.register_dispatcher(&self.worker, self.clock.now()).await {
                Ok(()) => {
                    tracing::info!(dispatcher = %self.worker, "dispatcher registered");
                    return true;
                }
                Err(e) => tracing::warn!(error = %e, "cannot register the dispatcher; retrying"),
            }
            tokio::select! {
                () = cancel.cancelled() => return false,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// Renews all of this dispatcher's claims every `heartbeat_secs` until
    /// `finished`.
    async fn heartbeat_loop(&self, finished: &CancellationToken, live: &Liveness) {
        let every = Duration::from_secs(self.settings.heartbeat_secs.max(1));
        loop {
            tokio::select! {
                () = finished.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            match self.store.heartbeat_dispatcher(&self.worker, self.clock.now()).await {
                Ok(true) => live.renewed(),
                Ok(false) => {
                    live.generation.fetch_add(1, Ordering::SeqCst);
                    live.renewed();
                    tracing::error!(dispatcher = %self.worker,
                        "this dispatcher was taken for gone (no heartbeat for the lease period) and its claims \
                         were released; queued claims are dropped, sends in flight are still recorded unless \
                         another dispatcher claimed them");
                }
                Err(e) => tracing::warn!(error = %e, "heartbeat failed; claims are kept until the lease runs out"),
            }
        }
    }

    /// The claim loop, the senders and the recorder, until all three end.
    async fn work(&self, cancel: &CancellationToken, live: &Liveness) {
        let pipeline = Pipeline {
            held: [AtomicUsize::new(0), AtomicUsize::new(0)],
            room: Notify::new(),
            stopping_since: OnceLock::new(),
        };
        let (work_tx, work_rx) = unbounded();
        let (record_tx, record_rx) = unbounded();
        let concurrency = self.settings.concurrency.max(1) as usize;
        let permits = Arc::new(Semaphore::new(concurrency));
        let recorder = Recorder {
            store: self.store.clone(),
            clock: self.clock.clone(),
            worker: self.worker.clone(),
            permits: permits.clone(),
            concurrency,
            writes_in_flight: self.store.backend().parallel_writes(),
        };
        let deadline = Duration::from_secs(self.settings.stop_deadline_secs);
        let give_up = || pipeline.stopping_since.get().map(|t| *t + deadline + RECORD_GRACE);
        let claims = self.claim_loop(cancel, work_tx, record_tx.clone(), &pipeline, live);
        let sends = async {
            let senders = self.send_stage(work_rx, record_tx, &permits, &pipeline, cancel, live);
            let out_of_time = async {
                cancel.cancelled().await;
                tokio::time::sleep(deadline).await;
            };
            tokio::select! {
                () = senders => {}
                () = out_of_time => tracing::warn!(
                    "stop deadline reached with messages still at a gateway; their reminders stay `sending` \
                     and are released to be sent again"),
            }
        };
        let (_, _, unrecorded) = tokio::join!(claims, sends, recorder.run(record_rx, give_up),);
        if unrecorded > 0 {
            tracing::error!(outcomes = unrecorded, "stopped with outcomes not recorded");
        }
    }

    /// Sends what the claim loop supplies, `concurrency` at a time; each
    /// outcome goes to the recorder at once, with the permit it was sent
    /// under (freed once the outcome is written).
    async fn send_stage(
        &self,
        work: UnboundedReceiver<Claim>,
        outcomes: UnboundedSender<Recording>,
        permits: &Arc<Semaphore>,
        pipeline: &Pipeline,
        stop: &CancellationToken,
        live: &Liveness,
    ) {
        work.map(|(generation, r)| {
            let outcomes = outcomes.clone();
            async move {
                let held = &pipeline.held[slot(r.channel.as_str())];
                while live.silent_too_long() && live.generation() == generation && !stop.is_cancelled() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                if live.generation() == generation {
                    // No permit once stopping: `attempt` then gives the reminder back unsent.
                    let permit = tokio::select! {
                        biased;
                        permit = permits.clone().acquire_owned() => permit.ok(),
                        () = stop.cancelled() => None,
                    };
                    let schedules = self.schedules.borrow().clone();
                    let outcome = {
                        let kelurahan = self.kelurahan.read().await;
                        self.attempt(r, &schedules, &kelurahan, stop).await
                    };
                    // The recorder lives as long as any sender: this cannot fail.
                    let _ = outcomes.unbounded_send(Recording { outcome, permit });
                }
                held.fetch_sub(1, Ordering::SeqCst);
                pipeline.room.notify_one();
            }
        })
        .buffer_unordered(self.settings.concurrency.max(1) as usize)
        .for_each(|()| async {})
        .await;
    }

    /// Claims for each channel while it has room, until `cancel`.
    async fn claim_loop(
        &self,
        cancel: &CancellationToken,
        work: UnboundedSender<Claim>,
        outcomes: UnboundedSender<Recording>,
        pipeline: &Pipeline,
        live: &Liveness,
    ) {
        let rest = Duration::from_millis(self.settings.poll_ms.max(10));
        let release_every = Duration::from_secs(self.settings.heartbeat_secs.max(1));
        let mut last_release: Option<Instant> = None;
        let mut last_time_out: Option<Instant> = None;
        loop {
            if cancel.is_cancelled() {
                break;
            }
            if last_release.is_none_or(|t| t.elapsed() >= release_every) {
                last_release = Some(Instant::now());
                self.release_stale().await;
            }
            if last_time_out.is_none_or(|t| t.elapsed() >= TIME_OUT_EVERY) {
                last_time_out = Some(Instant::now());
                self.time_out_unconfirmed().await;
            }
            let mut claimed = 0;
            let mut full = false;
            for channel in CHANNELS {
                match self.claim_for(channel, &work, &outcomes, pipeline, live).await {
                    Claimed::Some(n) => claimed += n,
                    Claimed::Full => full = true,
                    Claimed::Nothing => {}
                }
            }
            if claimed > 0 {
                continue;
            }
            tokio::select! {
                () = cancel.cancelled() => break,
                () = pipeline.room.notified(), if full => {}
                () = tokio::time::sleep(rest) => {}
            }
        }
        pipeline.stopping_since.get_or_init(Instant::now);
        tracing::info!("dispatcher stopping: no more claims; unstarted reminders are given back");
    }

    /// One claim for `channel`, when it has room for at least half a claim.
    async fn claim_for(
        &self,
        channel: Channel,
        work: &UnboundedSender<Claim>,
        outcomes: &UnboundedSender<Recording>,
        pipeline: &Pipeline,
        live: &Liveness,
    ) -> Claimed {
        if live.silent_too_long() {
            return Claimed::Nothing;
        }
        let generation = live.generation();
        let limit = self.claim_limit(channel) as usize;
        let held = &pipeline.held[slot(channel.as_str())];
        let room = limit.saturating_sub(held.load(Ordering::SeqCst));
        if limit == 0 {
            return Claimed::Nothing;
        }
        if room == 0 || room * 2 < limit {
            return Claimed::Full;
        }
        let claimed = match self
            .store
            .claim_due(self.clock.now(), channel, room as u32, &self.worker)
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::error!(error = %e, "claim failed; retrying after a pause");
                return Claimed::Nothing;
            }
        };
        if claimed.is_empty() {
            return Claimed::Nothing;
        }
        if let Err(e) = self.load_kelurahan_if_needed(&claimed).await {
            tracing::warn!(error = %e, "cannot load kelurahan; the claimed reminders are given back");
            for r in claimed {
                let error = Some(format!("cannot load kelurahan: {e}"));
                let outcome = (r.id, AttemptOutcome::Postponed { error });
                let _ = outcomes.unbounded_send(Recording { outcome, permit: None });
            }
            return Claimed::Nothing;
        }
        let n = claimed.len();
        held.fetch_add(n, Ordering::SeqCst);
        for r in claimed {
            // The senders outlive the claim loop: this cannot fail.
            let _ = work.unbounded_send((generation, r));
        }
        Claimed::Some(n)
    }

    /// Releases the claims of dispatchers that stopped heartbeating.
    async fn release_stale(&self) {
        let now = self.clock.now();
        let stale_before = now.timestamp() - self.settings.lease_secs as i64;
        match self.store.release_stale_claims(&self.worker, stale_before, now).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                reminders = n,
                "released the claims of a dispatcher that stopped heartbeating"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot release stale claims"),
        }
    }
}

/// What one claim came to.
enum Claimed {
    /// This many reminders.
    Some(usize),
    /// The channel holds what it may; wait for room.
    Full,
    /// Nothing ready, nothing sendable, or the claim failed.
    Nothing,
}
