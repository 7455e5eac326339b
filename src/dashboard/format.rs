//! Text the Indonesian way: `1.234`, `87,5%`, `Rp1.234.500`, `Jun 2026`,
//! `10 Jul 2025 15.30 WIB`, and SVG coordinates. The templates escape what
//! these write (see [`crate::html`]).

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use crate::domain::money::format_rupiah;

/// Indonesian month abbreviations, January first.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
];

/// Shown where a ratio has no denominator.
pub const NO_VALUE: &str = "–";

/// `1234567` as `1.234.567`.
pub fn thousands(n: i64) -> String {
    format_rupiah(n).replacen("Rp", "", 1)
}

/// `1234500` as `Rp1.234.500`.
pub fn rupiah(n: i64) -> String {
    format_rupiah(n)
}

/// `0.875` as `87,5%`; `None` (or a value that is not finite) as `–`.
pub fn percent(ratio: Option<f64>) -> String {
    match ratio {
        Some(r) if r.is_finite() => format!("{:.1}%", r * 100.0).replace('.', ","),
        _ => NO_VALUE.to_string(),
    }
}

/// The abbreviation of month 1 to 12, `?` for anything else.
pub fn month_abbrev(month: u32) -> &'static str {
    month
        .checked_sub(1)
        .and_then(|i| MONTHS.get(i as usize))
        .copied()
        .unwrap_or("?")
}

/// `Jun 2026`.
pub fn month_label(year: i32, month: u32) -> String {
    format!("{} {year}", month_abbrev(month))
}

/// `1 Jun 2026`.
pub fn date(d: NaiveDate) -> String {
    format!("{} {}", d.day(), month_label(d.year(), d.month()))
}

/// `10 Jul 2025 15.30 WIB`: `at` in `tz`, with the zone's abbreviation.
pub fn date_time(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    format!(
        "{} {:02}.{:02} {}",
        date(local.date_naive()),
        local.hour(),
        local.minute(),
        local.format("%Z")
    )
}

/// An SVG coordinate or length: one decimal at most, `0` when not finite.
pub fn coord(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let s = format!("{:.1}", v);
    match s.strip_suffix(".0") {
        Some("-0") => "0".to_string(),
        Some(whole) => whole.to_string(),
        None => s,
    }
}

/// `text` cut to `max` characters, the last one replaced by `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn numbers_the_indonesian_way() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4_082), "4.082");
        assert_eq!(thousands(1_234_567), "1.234.567");
        assert_eq!(thousands(-1_500), "-1.500");
        assert_eq!(rupiah(1_234_500), "Rp1.234.500");
        assert_eq!(percent(Some(0.875)), "87,5%");
        assert_eq!(percent(Some(1.0)), "100,0%");
        assert_eq!(percent(Some(0.0)), "0,0%");
        assert_eq!(percent(None), "–");
        assert_eq!(percent(Some(f64::NAN)), "–");
        assert_eq!(percent(Some(f64::INFINITY)), "–");
    }

    #[test]
    fn months_and_dates_in_indonesian() {
        let labels: Vec<String> = (1..=12).map(|m| month_label(2026, m)).collect();
        assert_eq!(labels[4], "Mei 2026");
        assert_eq!(labels[5], "Jun 2026");
        assert_eq!(labels[7], "Agu 2026");
        assert_eq!(labels[9], "Okt 2026");
        assert_eq!(labels[11], "Des 2026");
        assert_eq!(month_label(2026, 0), "? 2026");
        assert_eq!(month_label(2026, 13), "? 2026");
        assert_eq!(date(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()), "1 Jun 2026");
    }

    #[test]
    fn date_time_in_the_local_zone() {
        let at = Utc.with_ymd_and_hms(2025, 7, 10, 8, 30, 0).unwrap();
        assert_eq!(date_time(at, chrono_tz::Asia::Jakarta), "10 Jul 2025 15.30 WIB");
        assert_eq!(date_time(at, chrono_tz::Asia::Makassar), "10 Jul 2025 16.30 WITA");
        assert_eq!(date_time(at, chrono_tz::Asia::Jayapura), "10 Jul 2025 17.30 WIT");
        let late = Utc.with_ymd_and_hms(2025, 12, 31, 20, 5, 0).unwrap();
        assert_eq!(date_time(late, chrono_tz::Asia::Jakarta), "1 Jan 2026 03.05 WIB");
    }

    #[test]
    fn coordinates_are_always_numbers() {
        assert_eq!(coord(12.0), "12");
        assert_eq!(coord(12.345), "12.3");
        assert_eq!(coord(-0.01), "0");
        assert_eq!(coord(f64::NAN), "0");
        assert_eq!(coord(f64::INFINITY), "0");
    }

    #[test]
    fn truncates_long_labels() {
        assert_eq!(truncate("Metro", 10), "Metro");
        assert_eq!(truncate("Tejosari Ganjar Agung", 10), "Tejosari …");
        assert_eq!(truncate("Tejosari Ganjar Agung", 10).chars().count(), 10);
    }
}
