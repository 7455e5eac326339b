//! Looks into the payments inbox every `payments.inbox_poll_secs`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Shared;
use crate::import::ImportOptions;
use crate::payments::inbox::process_inbox;

/// Imports the inbox's files until cancelled; a failed look is logged and
/// the next one tries again (files stay where they are).
pub(super) async fn inbox_loop(shared: Arc<Shared>, dir: PathBuf, cancel: CancellationToken) {
    let mut timer = tokio::time::interval(Duration::from_secs(shared.settings.payments.inbox_poll_secs.max(1)));
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tracing::info!(dir = %dir.display(), "watching the payments inbox");
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = timer.tick() => {
                let options = ImportOptions {
                    attribution_secs: shared.settings.payments.attribution_secs(),
                    max_paid_ahead_months: shared.settings.standing.max_paid_ahead_months,
                    earliest_paid_through: shared.settings.standing.earliest_paid_through,
                    max_file_bytes: Some(shared.settings.payments.inbox_max_file_bytes()),
                    chunk_rows: shared.settings.import.chunk_rows,
                    ..ImportOptions::new(shared.clock.now())
                };
                let processed = process_inbox(shared.store.as_ref(), &dir, &options).await;
                if let Ok(r) = &processed {
                    shared.metrics.record_payments("inbox", "file_imported", r.imported.len() as u64);
                    shared.metrics.record_payments("inbox", "file_rejected", r.rejected.len() as u64);
                }
                match processed {
                    Ok(r) if r.imported.len() + r.rejected.len() + r.already_seen.len() > 0 => tracing::info!(
                        imported = r.imported.len(),
                        rejected = r.rejected.len(),
                        already_seen = r.already_seen.len(),
                        "payments inbox processed"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "payments inbox: will try again"),
                }
            }
        }
    }
}
