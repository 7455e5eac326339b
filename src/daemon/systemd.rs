//! systemd notifications (`Type=notify`): READY, RELOADING with
//! MONOTONIC_USEC, STOPPING, STATUS and the watchdog. Outside systemd
//! (`NOTIFY_SOCKET` unset) every call is a no-op.
//!
//! Debian 12 ships systemd 252, so the unit reloads with `ExecReload=kill
//! -HUP` rather than `Type=notify-reload`; RELOADING must still carry
//! MONOTONIC_USEC or newer systemd fails the reload (sd_notify(3)).

use sd_notify::NotifyState;

/// The daemon serves.
pub fn ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A reload has begun.
pub(crate) fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[NotifyState::Reloading, now]),
        Err(e) => tracing::warn!(error = %e, "cannot read the monotonic clock for RELOADING"),
    }
}

/// The daemon is shutting down.
pub fn stopping() {
    notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// A free-form status line for `systemctl status`.
pub fn status(text: &str) {
    notify(&[NotifyState::Status(text)]);
}

/// The watchdog ping: only sent while ticks and the database are healthy.
pub(crate) fn watchdog() {
    notify(&[NotifyState::Watchdog]);
}

/// The watchdog interval systemd expects, if it watches us.
pub(crate) fn watchdog_interval() -> Option<std::time::Duration> {
    sd_notify::watchdog_enabled()
}

fn notify(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}
