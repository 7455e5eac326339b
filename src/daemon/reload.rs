//! Reloading the schedules without a restart (SIGHUP, `systemctl reload`):
//! read and validate the whole file first, then swap it in at once; on any
//! error keep the old schedules, log why, and show it in `systemctl status`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use chrono::{DateTime, Utc};

use super::{Shared, systemd};
use crate::config::Settings;
use crate::scan::arrears_filter_warnings;
use crate::schedule::{Schedules, diff};
use crate::store::Participants;

/// Loads the schedules (the shipped ones when there is no file at `path`,
/// saying so) and checks that every kelurahan override names a kelurahan the
/// database knows.
pub async fn load_schedules(path: &Path, store: &dyn Participants) -> anyhow::Result<Schedules> {
    let schedules = Schedules::load_or_shipped(path)?;
    if schedules.is_shipped() {
        tracing::info!(
            missing = %path.display(),
            "no schedules file: using the built-in schedules and templates (`pengingat init DIR` writes them out for editing)"
        );
    }
    let known: HashSet<String> = store
        .list_kelurahan()
        .await?
        .into_iter()
        .map(|k| k.code.to_string())
        .collect();
    let problems = schedules.validate_kelurahan(&|code| known.contains(code));
    if !problems.is_empty() {
        anyhow::bail!("{}", problems.join("\n"));
    }
    Ok(schedules)
}

/// Logs what the schedules deserve attention for, at start and after each
/// reload: the load warnings, and the rules that can never fire (or only in
/// some months) under the current standing and due-date settings.
pub(super) fn log_warnings(schedules: &Schedules, settings: &Settings, now: DateTime<Utc>) {
    let due = settings.due_date.rules();
    let standing = settings.standing.rules();
    let filters = arrears_filter_warnings(schedules, &due, &standing, now.date_naive());
    for warning in schedules.warnings().iter().chain(&filters) {
        tracing::warn!(%warning, "schedules need attention");
    }
}

/// Waits for reload requests until cancelled.
pub(super) async fn reload_loop(shared: Arc<Shared>, trigger: Arc<Notify>, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = trigger.notified() => reload(&shared).await,
        }
    }
}

async fn reload(shared: &Shared) {
    systemd::reloading();
    tracing::info!(path = %shared.schedules_path.display(), "reloading schedules");
    match load_schedules(&shared.schedules_path, shared.store.as_ref()).await {
        Ok(new) => {
            let old = shared.schedules.borrow().clone();
            let changes = diff(&old, &new);
            tracing::info!(
                added = ?changes.added,
                removed = ?changes.removed,
                changed = ?changes.changed,
                "schedules reloaded"
            );
            log_warnings(&new, &shared.settings, shared.clock.now());
            shared.schedules.send_replace(Arc::new(new));
            shared.metrics.record_reload(true);
            systemd::ready("schedules reloaded");
            shared.rescan.notify_one();
        }
        Err(e) => {
            tracing::error!(error = %crate::telemetry::error_report(&e), "reload failed; keeping the previous schedules");
            shared.metrics.record_reload(false);
            systemd::ready("serving");
            let first_line = crate::telemetry::error_report(&e)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            systemd::status(&format!("reload failed, previous schedules kept: {first_line}"));
        }
    }
}
