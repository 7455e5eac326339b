//! Parsers for the import-only value forms that have no domain type: yes/no
//! flags, payment instants and months counts.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::domain::{ContributionMonth, RegionTimeZone};

/// A yes/no value as spreadsheets and Indonesian operators write it:
/// `true/false`, `ya/tidak`, `yes/no`, `y/n`, `1/0`, in any case.
pub(crate) fn parse_flag(raw: &str) -> Result<bool, String> {
    match raw.trim().to_lowercase().as_str() {
        "true" | "ya" | "yes" | "y" | "1" => Ok(true),
        "false" | "tidak" | "no" | "n" | "0" => Ok(false),
        _ => Err(format!(
            "{:?} is not a yes/no value; write true/false, ya/tidak, yes/no or 1/0",
            raw.trim()
        )),
    }
}

/// When a payment was made: RFC 3339 with an offset (`2025-07-03T10:15:00+07:00`),
/// or a local time in WIB (Asia/Jakarta), the zone payment systems in
/// Indonesia report in: `YYYY-MM-DD HH:MM[:SS]` (or with `T`) or
/// `YYYY-MM-DD` (midnight).
pub(crate) fn parse_paid_at(raw: &str) -> Result<DateTime<Utc>, String> {
    let s = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN))
    });
    let Some(local) = local else {
        return Err(format!(
            "{s:?} is not a time; write RFC 3339 (2025-07-03T10:15:00+07:00) or YYYY-MM-DD HH:MM in WIB"
        ));
    };
    // WIB has no daylight saving time, so every local time maps to one instant.
    chrono_tz::Asia::Jakarta
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("{s:?} is not a valid time in WIB"))
}

/// A months count: a whole number from 1 up.
pub(crate) fn parse_months(raw: &str) -> Result<u32, String> {
    let s = raw.trim();
    let s = s.strip_suffix(".0").unwrap_or(s);
    match s.parse::<u32>() {
        Ok(0) | Err(_) => Err(format!("months {s:?} must be a whole number from 1")),
        Ok(n) => Ok(n),
    }
}

/// The month `now` falls in, on the kelurahan's clock.
pub(crate) fn current_month(now: DateTime<Utc>, zone: RegionTimeZone) -> ContributionMonth {
    ContributionMonth::of_date(now.with_timezone(&zone.tz()).date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn flags_in_english_and_indonesian() {
        for yes in ["true", "YA", "Yes", "1", " y "] {
            assert_eq!(parse_flag(yes), Ok(true), "{yes}");
        }
        for no in ["false", "Tidak", "NO", "0"] {
            assert_eq!(parse_flag(no), Ok(false), "{no}");
        }
        assert!(parse_flag("mungkin").unwrap_err().contains("ya/tidak"));
    }

    #[test]
    fn paid_at_forms() {
        let t = utc("2025-07-03T03:15:00Z");
        assert_eq!(parse_paid_at("2025-07-03T10:15:00+07:00"), Ok(t));
        assert_eq!(parse_paid_at("2025-07-03T03:15:00Z"), Ok(t));
        assert_eq!(parse_paid_at("2025-07-03 10:15"), Ok(t));
        assert_eq!(parse_paid_at(" 2025-07-03 10:15:00 "), Ok(t));
        assert_eq!(parse_paid_at("2025-07-03"), Ok(utc("2025-07-02T17:00:00Z")));
        assert!(parse_paid_at("03/07/2025").is_err());
        assert!(parse_paid_at("2025-02-30").is_err());
    }

    #[test]
    fn months_counts() {
        assert_eq!(parse_months("3"), Ok(3));
        assert_eq!(parse_months("12.0"), Ok(12));
        assert!(parse_months("0").is_err());
        assert!(parse_months("-1").is_err());
        assert!(parse_months("1,5").is_err());
    }

    #[test]
    fn current_month_follows_the_kelurahan_clock() {
        // 23:30 WIB on 31 July is 00:30 WITA on 1 August.
        let now = utc("2025-07-31T16:30:00Z");
        assert_eq!(current_month(now, RegionTimeZone::Wib).to_string(), "2025-07");
        assert_eq!(current_month(now, RegionTimeZone::Wita).to_string(), "2025-08");
    }
}
