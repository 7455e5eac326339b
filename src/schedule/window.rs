//! Quiet hours and send windows, in the kelurahan's local time.
//!
//! No message inside quiet hours, ever. Other reminder systems have sent
//! messages at midnight or at the wrong hour once time zones were ignored, so every time here is local
//! wall-clock time of the kelurahan (WIB, WITA or WIT) and is only turned
//! into an instant at the very end, in [`place_instant`].
//!
//! Both quiet hours and send windows are half-open ranges `[start, end)`
//! of wall-clock minutes; a range whose end is not after its start crosses
//! midnight (`20:00`-`08:00`). The effective send window always lies inside
//! the hours quiet hours allow; configuration checks this at load time, so
//! [`place`] only has to respect one range.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use thiserror::Error;

/// Minutes in a day.
const DAY_MINUTES: u32 = 24 * 60;

/// Why a string is not a wall-clock time.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("time {0:?} must be written HH:MM, 00:00 to 24:00 (for example 08:00)")]
pub struct TimeOfDayError(pub String);

/// Parses `HH:MM` (24-hour clock). `24:00` is accepted and means midnight
/// (00:00), so that a window may be written `08:00`-`24:00`.
pub fn parse_time_of_day(raw: &str) -> Result<NaiveTime, TimeOfDayError> {
    let s = raw.trim();
    let err = || TimeOfDayError(raw.to_string());
    let (h, m) = s.split_once(':').ok_or_else(err)?;
    let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return Err(err());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
    if (h, m) == (24, 0) {
        return Ok(NaiveTime::MIN);
    }
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(err)
}

/// Why a pair of times is not a usable window.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WindowError {
    /// Start and end are the same minute: the range would be the whole day
    /// or nothing, and either reading makes quiet hours meaningless.
    #[error("start and end are both {0}: the range would cover the whole day")]
    WholeDay(String),
}

/// A half-open range of local wall-clock time `[start, end)`, possibly
/// crossing midnight. Start and end are whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DailyRange {
    /// The first minute inside the range.
    start: NaiveTime,
    /// The first minute after the range.
    end: NaiveTime,
}

impl DailyRange {
    fn new(start: NaiveTime, end: NaiveTime) -> Result<Self, WindowError> {
        if start == end {
            return Err(WindowError::WholeDay(hhmm(start)));
        }
        Ok(Self { start, end })
    }

    fn crosses_midnight(self) -> bool {
        self.end <= self.start
    }

    fn contains(self, t: NaiveTime) -> bool {
        if self.crosses_midnight() {
            t >= self.start || t < self.end
        } else {
            t >= self.start && t < self.end
        }
    }

    fn contains_minute(self, minute: u32) -> bool {
        let t = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or(NaiveTime::MIN);
        self.contains(t)
    }
}

/// `HH:MM`.
fn hhmm(t: NaiveTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// A public range type over [`DailyRange`]: the struct with its
/// constructor, first and end minute, membership and `HH:MM-HH:MM` display,
/// each documented in the words of the range it is.
macro_rules! daily_range_type {
    (
        $(#[$doc:meta])*
        $name:ident {
            new: $new:literal,
            start: $start:literal,
            end: $end:literal,
            contains: $contains:literal $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(DailyRange);

        impl $name {
            #[doc = $new]
            pub fn new(start: NaiveTime, end: NaiveTime) -> Result<Self, WindowError> {
                DailyRange::new(start, end).map(Self)
            }

            #[doc = $start]
            pub fn start(&self) -> NaiveTime {
                self.0.start
            }

            #[doc = $end]
            pub fn end(&self) -> NaiveTime {
                self.0.end
            }

            #[doc = $contains]
            pub fn contains(&self, t: NaiveTime) -> bool {
                self.0.contains(t)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}-{}", hhmm(self.0.start), hhmm(self.0.end))
            }
        }
    };
}

daily_range_type! {
    /// The hours in which no message may be sent (default 20:00-08:00 local).
    QuietHours {
        new: "Quiet from `start` until `end` (crossing midnight when `end` is not \
              after `start`). Equal times are refused: see [`WindowError::WholeDay`].",
        start: "The first quiet minute.",
        end: "The first minute messages may go out again.",
        contains: "Whether `t` (local) is inside quiet hours.",
    }
}

impl QuietHours {
    /// The complement: the widest send window quiet hours allow.
    pub fn allowed(&self) -> SendWindow {
        SendWindow(DailyRange {
            start: self.0.end,
            end: self.0.start,
        })
    }
}

impl Default for QuietHours {
    fn default() -> Self {
        let at = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
        Self(DailyRange {
            start: at(20),
            end: at(8),
        })
    }
}

daily_range_type! {
    /// The local hours in which reminders may go out, `[start, end)`.
    SendWindow {
        new: "Open from `start` until `end` (crossing midnight when `end` is not \
              after `start`). Equal times are refused.",
        start: "The first minute messages may go out.",
        end: "The first minute messages may no longer go out.",
        contains: "Whether the window is open at `t` (local).",
    }
}

impl SendWindow {
    /// Whether the window runs past midnight (`22:00`-`02:00`).
    pub fn crosses_midnight(&self) -> bool {
        self.0.crosses_midnight()
    }

    /// Whether every minute of this window is also inside `outer`.
    pub fn is_within(&self, outer: &SendWindow) -> bool {
        (0..DAY_MINUTES).all(|m| !self.0.contains_minute(m) || outer.0.contains_minute(m))
    }
}

/// Moves a planned local time into `window`: unchanged when the window is
/// open; otherwise the next opening, the same day when the window has not
/// opened yet that day, else the next day.
pub fn place(planned_local: NaiveDateTime, window: &SendWindow) -> NaiveDateTime {
    if window.contains(planned_local.time()) {
        return planned_local;
    }
    // Outside the window, either the window opens later today (which also
    // covers the gap of a window that crosses midnight) or it has closed
    // for today and opens tomorrow.
    let date = if planned_local.time() < window.start() {
        planned_local.date()
    } else {
        planned_local.date() + Duration::days(1)
    };
    date.and_time(window.start())
}

/// [`place`] for an instant, in the local time of `tz`. When the opening
/// falls in a daylight-saving gap (not in Indonesia, but time zones are
/// configuration), the first valid minute after the gap is used.
pub fn place_instant(planned: DateTime<Utc>, tz: Tz, window: &SendWindow) -> DateTime<Utc> {
    let local = planned.with_timezone(&tz).naive_local();
    let placed = place(local, window);
    if placed == local {
        return planned;
    }
    let mut candidate = placed;
    for _ in 0..=DAY_MINUTES {
        if let Some(at) = tz.from_local_datetime(&candidate).earliest() {
            return at.with_timezone(&Utc);
        }
        candidate += Duration::minutes(1);
    }
    planned
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn t(s: &str) -> NaiveTime {
        parse_time_of_day(s).unwrap()
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn window(start: &str, end: &str) -> SendWindow {
        SendWindow::new(t(start), t(end)).unwrap()
    }

    #[test]
    fn parses_times_of_day() {
        assert_eq!(t("08:00"), NaiveTime::from_hms_opt(8, 0, 0).unwrap());
        assert_eq!(t(" 20:30 "), NaiveTime::from_hms_opt(20, 30, 0).unwrap());
        assert_eq!(t("24:00"), NaiveTime::MIN);
        for bad in ["8:00", "08.00", "25:00", "24:01", "12:60", "0800", "", "ab:cd"] {
            assert!(parse_time_of_day(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_quiet_hours_are_20_to_8() {
        let q = QuietHours::default();
        assert!(q.contains(t("20:00")));
        assert!(q.contains(t("23:59")));
        assert!(q.contains(t("00:00")));
        assert!(q.contains(t("07:59")));
        assert!(!q.contains(t("08:00")));
        assert!(!q.contains(t("19:59")));
        assert_eq!(q.allowed(), window("08:00", "20:00"));
        assert_eq!(q.to_string(), "20:00-08:00");
    }

    #[test]
    fn equal_start_and_end_is_refused() {
        assert_eq!(
            QuietHours::new(t("08:00"), t("08:00")),
            Err(WindowError::WholeDay("08:00".into()))
        );
        assert!(SendWindow::new(t("00:00"), t("24:00")).is_err());
    }

    #[test]
    fn inside_the_window_nothing_moves() {
        let w = window("08:00", "20:00");
        assert_eq!(place(at("2025-07-08 09:00"), &w), at("2025-07-08 09:00"));
        assert_eq!(place(at("2025-07-08 08:00"), &w), at("2025-07-08 08:00"));
        assert_eq!(place(at("2025-07-08 19:59"), &w), at("2025-07-08 19:59"));
    }

    #[test]
    fn before_the_window_moves_to_its_opening_the_same_day() {
        let w = window("08:00", "20:00");
        assert_eq!(place(at("2025-07-08 06:30"), &w), at("2025-07-08 08:00"));
        assert_eq!(place(at("2025-07-08 00:00"), &w), at("2025-07-08 08:00"));
    }

    #[test]
    fn after_the_window_moves_to_the_next_morning() {
        let w = window("08:00", "20:00");
        assert_eq!(place(at("2025-07-08 20:00"), &w), at("2025-07-09 08:00"));
        assert_eq!(place(at("2025-07-08 23:45"), &w), at("2025-07-09 08:00"));
        // Across a month and a year end.
        assert_eq!(place(at("2025-07-31 21:00"), &w), at("2025-08-01 08:00"));
        assert_eq!(place(at("2025-12-31 21:00"), &w), at("2026-01-01 08:00"));
    }

    #[test]
    fn seconds_past_the_closing_minute_still_move() {
        let w = window("08:00", "20:00");
        let planned = NaiveDate::from_ymd_opt(2025, 7, 8)
            .unwrap()
            .and_hms_opt(19, 59, 59)
            .unwrap();
        assert_eq!(place(planned, &w), planned);
        let planned = planned + Duration::seconds(1);
        assert_eq!(place(planned, &w), at("2025-07-09 08:00"));
    }

    #[test]
    fn a_window_crossing_midnight() {
        // Quiet 12:00-13:00 (a lunch break) leaves 13:00-12:00 open.
        let w = QuietHours::new(t("12:00"), t("13:00")).unwrap().allowed();
        assert!(w.crosses_midnight());
        assert_eq!(place(at("2025-07-08 23:30"), &w), at("2025-07-08 23:30"));
        assert_eq!(place(at("2025-07-08 02:00"), &w), at("2025-07-08 02:00"));
        assert_eq!(place(at("2025-07-08 12:15"), &w), at("2025-07-08 13:00"));
        let night = window("22:00", "02:00");
        assert_eq!(place(at("2025-07-08 01:59"), &night), at("2025-07-08 01:59"));
        assert_eq!(place(at("2025-07-08 02:00"), &night), at("2025-07-08 22:00"));
        assert_eq!(place(at("2025-07-08 21:00"), &night), at("2025-07-08 22:00"));
    }

    #[test]
    fn a_window_ending_at_midnight() {
        let w = window("08:00", "24:00");
        assert!(w.contains(t("23:59")));
        assert!(!w.contains(t("00:00")));
        assert_eq!(place(at("2025-07-08 00:10"), &w), at("2025-07-08 08:00"));
    }

    #[test]
    fn windows_within_quiet_hours_allowance() {
        let allowed = QuietHours::default().allowed();
        assert!(window("09:00", "17:00").is_within(&allowed));
        assert!(window("08:00", "20:00").is_within(&allowed));
        assert!(!window("07:59", "17:00").is_within(&allowed));
        assert!(!window("09:00", "20:01").is_within(&allowed));
        assert!(!window("19:00", "09:00").is_within(&allowed));
    }

    #[test]
    fn places_instants_in_the_kelurahan_time_zone() {
        let w = window("08:00", "20:00");
        // 21:00 WIB on 8 July is 14:00 UTC; next opening 08:00 WIB = 01:00 UTC.
        let planned: DateTime<Utc> = "2025-07-08T14:00:00Z".parse().unwrap();
        let jakarta = chrono_tz::Asia::Jakarta;
        assert_eq!(
            place_instant(planned, jakarta, &w),
            "2025-07-09T01:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // The same instant is 23:00 WIT: also moved, to 08:00 WIT = 23:00 UTC.
        assert_eq!(
            place_instant(planned, chrono_tz::Asia::Jayapura, &w),
            "2025-07-08T23:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // Inside the window: the instant is returned as is.
        let open: DateTime<Utc> = "2025-07-08T03:17:42Z".parse().unwrap();
        assert_eq!(place_instant(open, jakarta, &w), open);
    }

    #[test]
    fn an_opening_in_a_daylight_saving_gap_moves_past_it() {
        // Europe/Berlin skipped 02:00-03:00 on 2025-03-30.
        let w = window("02:30", "06:00");
        let planned: DateTime<Utc> = "2025-03-29T23:00:00Z".parse().unwrap(); // 00:00 CET
        assert_eq!(
            place_instant(planned, chrono_tz::Europe::Berlin, &w),
            "2025-03-30T01:00:00Z".parse::<DateTime<Utc>>().unwrap() // 03:00 CEST
        );
    }
}
