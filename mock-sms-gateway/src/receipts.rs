//! The delivery-receipt sender.
//!
//! Accepting a send only puts a job on a bounded queue (`try_send`: a full
//! queue drops the receipt and counts it, it never slows the send). One
//! scheduler task takes jobs in due order, waits until they are due, and
//! hands them to callback tasks, at most `concurrency` in flight; Infobip
//! reports due together for one URL go out in batches of up to 100, as
//! Infobip does (Infobip's documentation). A failing or slow callback target only costs
//! callbacks: failures are counted and logged at debug level, without their
//! URL, which may carry a recipient's number (Kannel's `%P`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::MockGatewayConfig;
use crate::courier::{Courier, ReceiptStats};
use crate::presets::{infobip_report, jasmin_dlr, kannel_dlr, twilio_callback, webhook_receipt};

/// Jobs due within this window of the first are sent in the same round, so
/// Infobip reports accepted close together share a request.
const BATCH_WINDOW: Duration = Duration::from_millis(10);

/// The most jobs taken in one round, so a backlog cannot starve the timer.
const MAX_ROUND: usize = 1_000;

/// Infobip's default `maxBucketSize`: reports per request (Infobip's documentation).
pub const INFOBIP_BATCH: usize = 100;

/// A receipt to send, in its preset's terms.
#[derive(Debug)]
pub enum ReceiptKind {
    Kannel(kannel_dlr::KannelDlr),
    Jasmin(jasmin_dlr::JasminDlr),
    Twilio(twilio_callback::TwilioCallback),
    Infobip(infobip_report::InfobipReport),
    Webhook(webhook_receipt::WebhookReceipt),
}

/// One queued receipt.
#[derive(Debug)]
struct ReceiptJob {
    /// When it is due.
    due: Instant,
    /// Whether the message ends delivered.
    delivered: bool,
    /// What to send.
    kind: ReceiptKind,
}

/// The sending side of the queue, held by the gateway.
#[derive(Debug)]
pub struct ReceiptQueue {
    /// `None` when receipts are disabled.
    tx: Option<mpsc::Sender<ReceiptJob>>,
    /// Time from acceptance to receipt.
    delay: Duration,
    /// Shared counters.
    pub stats: Arc<ReceiptStats>,
}

impl ReceiptQueue {
    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues a receipt, or drops and counts it when the queue is full.
    pub fn enqueue(&self, delivered: bool, kind: ReceiptKind) {
        let Some(tx) = &self.tx else { return };
        let job = ReceiptJob {
            due: Instant::now() + self.delay,
            delivered,
            kind,
        };
        match tx.try_send(job) {
            Ok(()) => self.stats.queued.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.stats.dropped.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// Starts the scheduler; returns the queue and the scheduler's handle, which
/// ends when `shutdown` is cancelled.
pub fn start(
    config: &MockGatewayConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<(ReceiptQueue, JoinHandle<()>)> {
    let stats = Arc::new(ReceiptStats::default());
    let receipts = &config.receipts;
    if !receipts.enabled {
        let queue = ReceiptQueue {
            tx: None,
            delay: receipts.delay,
            stats,
        };
        return Ok((queue, tokio::spawn(async {})));
    }
    let concurrency = receipts.concurrency.max(1);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(receipts.callback_timeout)
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let (tx, rx) = mpsc::channel(receipts.queue_capacity.max(1));
    let courier = Arc::new(Courier::new(client, config, stats.clone(), concurrency));
    let queue = ReceiptQueue {
        tx: Some(tx),
        delay: receipts.delay,
        stats,
    };
    Ok((queue, tokio::spawn(schedule(rx, courier, shutdown))))
}

/// Takes jobs in due order and dispatches each round of due jobs.
async fn schedule(mut rx: mpsc::Receiver<ReceiptJob>, courier: Arc<Courier>, shutdown: CancellationToken) {
    let mut held: Option<ReceiptJob> = None;
    loop {
        let first = match held.take() {
            Some(job) => job,
            None => tokio::select! {
                () = shutdown.cancelled() => return,
                job = rx.recv() => match job {
                    Some(job) => job,
                    None => return,
                },
            },
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep_until(first.due) => {}
        }
        let horizon = Instant::now() + BATCH_WINDOW;
        let mut round = vec![first];
        while round.len() < MAX_ROUND {
            match rx.try_recv() {
                Ok(job) if job.due <= horizon => round.push(job),
                Ok(job) => {
                    held = Some(job);
                    break;
                }
                Err(_) => break,
            }
        }
        if !dispatch(&courier, round, &shutdown).await {
            return;
        }
    }
}

/// Starts the callbacks of one round; false if shutdown interrupted it.
async fn dispatch(courier: &Arc<Courier>, round: Vec<ReceiptJob>, shutdown: &CancellationToken) -> bool {
    let mut infobip_by_url: Vec<(String, Vec<(infobip_report::InfobipReport, bool)>)> = Vec::new();
    for job in round {
        let kind = match job.kind {
            ReceiptKind::Infobip(report) => {
                match infobip_by_url.iter_mut().find(|(url, _)| *url == report.url) {
                    Some((_, reports)) => reports.push((report, job.delivered)),
                    None => infobip_by_url.push((report.url.clone(), vec![(report, job.delivered)])),
                }
                continue;
            }
            kind => kind,
        };
        let Some(permit) = acquire(courier, shutdown).await else {
            return false;
        };
        let courier = courier.clone();
        tokio::spawn(async move { deliver(&courier, kind, job.delivered, permit).await });
    }
    for (url, mut reports) in infobip_by_url {
        while !reports.is_empty() {
            let rest = reports.split_off(reports.len().min(INFOBIP_BATCH));
            let batch = std::mem::replace(&mut reports, rest);
            let Some(permit) = acquire(courier, shutdown).await else {
                return false;
            };
            let courier = courier.clone();
            let url = url.clone();
            tokio::spawn(async move {
                infobip_report::send_reports(&courier, &url, &batch).await;
                drop(permit);
            });
        }
    }
    true
}

async fn acquire(courier: &Courier, shutdown: &CancellationToken) -> Option<OwnedSemaphorePermit> {
    tokio::select! {
        () = shutdown.cancelled() => None,
        permit = courier.permit() => permit,
    }
}

/// Sends one receipt (one or more requests, in order).
async fn deliver(courier: &Courier, kind: ReceiptKind, delivered: bool, permit: OwnedSemaphorePermit) {
    match kind {
        ReceiptKind::Kannel(dlr) => kannel_dlr::send(courier, &dlr, delivered).await,
        ReceiptKind::Jasmin(dlr) => jasmin_dlr::send(courier, &dlr, delivered, permit).await,
        ReceiptKind::Twilio(callback) => twilio_callback::send(courier, &callback, delivered).await,
        ReceiptKind::Webhook(receipt) => webhook_receipt::send_receipt(courier, &receipt, delivered).await,
        // Batched in `dispatch`; never reaches here.
        ReceiptKind::Infobip(report) => {
            infobip_report::send_reports(courier, &report.url.clone(), &[(report, delivered)]).await
        }
    }
}
