//! Validates `[scan]`, `[quiet_hours]` and send windows.

use std::ops::Range;

use chrono::NaiveTime;
use chrono_tz::Tz;
use toml::Spanned;

use super::check::Checker;
use super::cron::{CronSchedule, ScanSchedule};
use super::error::ProblemKind;
use super::raw::{RawRange, RawScan};
use super::window::{QuietHours, SendWindow, WindowError, parse_time_of_day};

/// `[scan]`: every cron expression checked, the time zone resolved.
pub(super) fn build_scan(ck: &mut Checker<'_>, raw: Option<RawScan>) -> ScanSchedule {
    let defaults = ScanSchedule::default();
    let Some(raw) = raw else { return defaults };
    let cron = match raw.cron {
        None => defaults.cron,
        Some(list) => {
            if list.get_ref().is_empty() {
                ck.at(&list.span(), "scan.cron", ProblemKind::NoScanCron);
            }
            let mut cron = Vec::new();
            for (i, expr) in list.into_inner().into_iter().enumerate() {
                match CronSchedule::parse(expr.get_ref()) {
                    Ok(c) => cron.push(c),
                    Err(e) => ck.at(&expr.span(), format!("scan.cron[{i}]"), ProblemKind::InvalidCron(e)),
                }
            }
            cron
        }
    };
    let time_zone = match raw.time_zone {
        None => defaults.time_zone,
        Some(name) => match name.get_ref().trim().parse::<Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                let kind = ProblemKind::BadTimeZone(name.get_ref().clone());
                ck.at(&name.span(), "scan.time_zone", kind);
                defaults.time_zone
            }
        },
    };
    ScanSchedule { cron, time_zone }
}

/// `[quiet_hours]`, default 20:00-08:00.
pub(super) fn build_quiet_hours(ck: &mut Checker<'_>, raw: Option<Spanned<RawRange>>) -> QuietHours {
    let Some(raw) = raw else {
        return QuietHours::default();
    };
    let Some((start, end)) = times(ck, raw.get_ref(), "quiet_hours") else {
        return QuietHours::default();
    };
    match QuietHours::new(start, end) {
        Ok(quiet) => quiet,
        Err(WindowError::WholeDay(at)) => {
            ck.at(&raw.span(), "quiet_hours", ProblemKind::QuietHoursWholeDay(at));
            QuietHours::default()
        }
    }
}

/// A send window (`[send_window]` or a kelurahan's), which must lie within
/// the hours quiet hours allow.
pub(super) fn build_window(
    ck: &mut Checker<'_>,
    raw: &Spanned<RawRange>,
    key: &str,
    quiet: &QuietHours,
) -> Option<SendWindow> {
    let (start, end) = times(ck, raw.get_ref(), key)?;
    let window = match SendWindow::new(start, end) {
        Ok(window) => window,
        Err(WindowError::WholeDay(at)) => {
            ck.at(&raw.span(), key, ProblemKind::EmptySendWindow(at));
            return None;
        }
    };
    let allowed = quiet.allowed();
    if !window.is_within(&allowed) {
        let kind = ProblemKind::WindowInQuietHours {
            window: window.to_string(),
            quiet: quiet.to_string(),
            allowed: allowed.to_string(),
        };
        ck.at(&raw.span(), key, kind);
        return None;
    }
    Some(window)
}

/// The start and end times of a range; `None` after recording a problem.
fn times(ck: &mut Checker<'_>, raw: &RawRange, key: &str) -> Option<(NaiveTime, NaiveTime)> {
    let start = time(ck, &raw.start, &format!("{key}.start"));
    let end = time(ck, &raw.end, &format!("{key}.end"));
    Some((start?, end?))
}

/// An `HH:MM` value; `None` after recording a problem.
pub(super) fn time(ck: &mut Checker<'_>, raw: &Spanned<String>, key: &str) -> Option<NaiveTime> {
    match parse_time_of_day(raw.get_ref()) {
        Ok(t) => Some(t),
        Err(e) => {
            let span: Range<usize> = raw.span();
            ck.at(&span, key, ProblemKind::BadTime(e.to_string()));
            None
        }
    }
}
