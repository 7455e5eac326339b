//! The re-check at send time: between the scan and the send the participant
//! may have paid, opted out or lost a valid address, the reminder may have
//! waited past its expiry, or the clock may have entered quiet hours. Each
//! case ends the attempt with its reason instead of a message (a reminder
//! sent after payment is the complaint other reminder systems hear most).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::{Channel, ContributionMonth, EmailAddress, PhoneNumber};
use crate::schedule::{SendWindow, place};
use crate::store::ClaimedReminder;

/// What to do with a claimed reminder now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send it to this address (E.164 phone or e-mail).
    Send { to: String },
    /// Do not send, for this reason (terminal).
    Cancel(String),
    /// Too late to send (terminal).
    Expire(String),
    /// Not now: back to pending until `planned_at` (inside the send window).
    Defer { planned_at: DateTime<Utc>, reason: String },
}

/// The kelurahan's situation at send time.
pub struct SendContext<'a> {
    pub tz: Tz,
    /// Where messages may go out, local time.
    pub window: &'a SendWindow,
    /// The kelurahan is disabled in the schedules.
    pub disabled: bool,
}

/// Decides, at `now`, whether `reminder` is still to be sent on `channel`.
pub fn recheck(reminder: &ClaimedReminder, channel: Channel, ctx: &SendContext<'_>, now: DateTime<Utc>) -> Verdict {
    let month = ContributionMonth::from_index(reminder.contribution_month);
    if reminder.paid_through >= reminder.contribution_month {
        return Verdict::Cancel(format!(
            "paid: the contribution for {month} was recorded after the scan"
        ));
    }
    if reminder.opted_out {
        return Verdict::Cancel("opted out".to_string());
    }
    if ctx.disabled {
        return Verdict::Cancel(format!(
            "kelurahan {} is disabled in the schedules",
            reminder.kelurahan_code
        ));
    }
    if let Some(expires) = reminder.expires_at
        && now.timestamp() > expires
    {
        let allowed = expires - reminder.planned_at;
        let within = if allowed % 3600 == 0 {
            format!("{} hours", allowed / 3600)
        } else {
            format!("{} minutes", allowed / 60)
        };
        return Verdict::Expire(format!("not sent within {within} of its planned time"));
    }
    let local = now.with_timezone(&ctx.tz).naive_local();
    let allowed = place(local, ctx.window);
    if allowed != local {
        let planned_at = ctx
            .tz
            .from_local_datetime(&allowed)
            .earliest()
            .map_or(now, |t| t.with_timezone(&Utc));
        return Verdict::Defer {
            planned_at,
            reason: "outside the send window (quiet hours)".to_string(),
        };
    }
    match channel {
        Channel::Sms => match reminder.phone.as_deref().map(PhoneNumber::parse) {
            Some(Ok(phone)) => Verdict::Send {
                to: phone.as_str().to_string(),
            },
            Some(Err(e)) => Verdict::Cancel(format!("invalid phone number: {e}")),
            None => Verdict::Cancel("no phone number".to_string()),
        },
        Channel::Email => match reminder.email.as_deref().map(EmailAddress::parse) {
            Some(Ok(email)) => Verdict::Send {
                to: email.as_str().to_string(),
            },
            Some(Err(e)) => Verdict::Cancel(format!("invalid e-mail address: {e}")),
            None => Verdict::Cancel("no e-mail address".to_string()),
        },
    }
}

use chrono::TimeZone as _;

#[cfg(test)]
mod tests {
    use chrono::NaiveTime;

    use super::*;

    fn reminder() -> ClaimedReminder {
        ClaimedReminder {
            id: 1,
            participant_id: 1,
            kelurahan_code: "18.72.01.1001".into(),
            contribution_month: ContributionMonth::new(2025, 7).unwrap().index(),
            rule: "h0".into(),
            channel: Channel::Sms,
            planned_at: "2025-07-15T01:00:00Z".parse::<DateTime<Utc>>().unwrap().timestamp(),
            expires_at: Some("2025-07-15T11:00:00Z".parse::<DateTime<Utc>>().unwrap().timestamp()),
            attempts: 1,
            nik: "1872011205900001".into(),
            kpj: None,
            name: "Siti".into(),
            phone: Some("+6281234567890".into()),
            email: None,
            monthly_amount: 16_800,
            paid_through: ContributionMonth::new(2025, 6).unwrap().index(),
            opted_out: false,
        }
    }

    fn window() -> SendWindow {
        SendWindow::new(
            NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
        )
        .unwrap()
    }

    fn check(r: &ClaimedReminder, channel: Channel, now: &str) -> Verdict {
        let w = window();
        let ctx = SendContext {
            tz: chrono_tz::Asia::Jakarta,
            window: &w,
            disabled: false,
        };
        recheck(r, channel, &ctx, now.parse().unwrap())
    }

    #[test]
    fn sends_to_the_normalised_number() {
        assert_eq!(
            check(&reminder(), Channel::Sms, "2025-07-15T01:05:00Z"),
            Verdict::Send {
                to: "+6281234567890".into()
            }
        );
    }

    #[test]
    fn cancels_when_paid_or_opted_out_or_without_address() {
        let mut paid = reminder();
        paid.paid_through = paid.contribution_month;
        assert!(
            matches!(check(&paid, Channel::Sms, "2025-07-15T01:05:00Z"), Verdict::Cancel(r) if r.starts_with("paid"))
        );
        let mut out = reminder();
        out.opted_out = true;
        assert_eq!(
            check(&out, Channel::Sms, "2025-07-15T01:05:00Z"),
            Verdict::Cancel("opted out".into())
        );
        assert_eq!(
            check(&reminder(), Channel::Email, "2025-07-15T01:05:00Z"),
            Verdict::Cancel("no e-mail address".into())
        );
        let mut bad = reminder();
        bad.phone = Some("021-555".into());
        assert!(
            matches!(check(&bad, Channel::Sms, "2025-07-15T01:05:00Z"), Verdict::Cancel(r) if r.starts_with("invalid phone"))
        );
    }

    #[test]
    fn expires_after_its_deadline_and_defers_in_quiet_hours() {
        assert!(matches!(
            check(&reminder(), Channel::Sms, "2025-07-15T11:00:01Z"),
            Verdict::Expire(_)
        ));
        // 21:00 WIB on the 14th for a reminder expiring later: wait until 08:00 WIB.
        let mut early = reminder();
        early.planned_at -= 86_400;
        match check(&early, Channel::Sms, "2025-07-14T14:00:00Z") {
            Verdict::Defer { planned_at, .. } => {
                assert_eq!(planned_at, "2025-07-15T01:00:00Z".parse::<DateTime<Utc>>().unwrap())
            }
            other => panic!("{other:?}"),
        }
    }
}
