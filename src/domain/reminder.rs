//! Reminders: the channels they go by and the states they move through.
//!
//! States follow the lessons of GOV.UK Notify and the Community Health
//! Toolkit: a reminder is created `pending` (or
//! `skipped`/`superseded` when the scan decides it must not go out), moves
//! through `sending` and `sent` to a final delivery state, and every end
//! state says why. States only move forward.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a reminder is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sms" => Ok(Self::Sms),
            "email" => Ok(Self::Email),
            other => Err(format!("unknown channel {other:?}; expected \"sms\" or \"email\"")),
        }
    }
}

/// Where a reminder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReminderStatus {
    /// Waiting for its planned instant.
    Pending,
    /// Claimed by a dispatcher, which holds a lease on it.
    Sending,
    /// Accepted by the gateway or SMTP server.
    Sent,
    /// The handset (or mailbox) received it.
    Delivered,
    /// The network could not deliver it.
    Undelivered,
    /// Refused permanently or after every retry.
    Failed,
    /// Not sent, with a reason (paid, opted out, rule removed, …).
    Cancelled,
    /// Could not go out in time; never sent stale.
    Expired,
    /// Its day passed by more than the rule's catch-up allowance.
    Skipped,
    /// A more urgent reminder took that participant's channel that day.
    Superseded,
    /// Sent, but no final receipt came in time.
    Unknown,
}

impl ReminderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Skipped => "skipped",
            Self::Superseded => "superseded",
            Self::Unknown => "unknown",
        }
    }

    /// Whether nothing more will happen to the reminder.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending | Self::Sending | Self::Sent)
    }
}

impl fmt::Display for ReminderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReminderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = [
            Self::Pending,
            Self::Sending,
            Self::Sent,
            Self::Delivered,
            Self::Undelivered,
            Self::Failed,
            Self::Cancelled,
            Self::Expired,
            Self::Skipped,
            Self::Superseded,
            Self::Unknown,
        ];
        all.into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown reminder status {s:?}"))
    }
}

/// Why the scan recorded a reminder as `skipped` without sending it, for
/// the reasons a report explains to its readers. Other skip reasons (a day
/// missed while the daemon was down) are stored as free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The rule's day had already passed when a payment made this month the
    /// participant's first unpaid month (someone three months behind pays
    /// one month): the day was never theirs to be reminded on.
    PassedBeforePayment,
    /// The participant is in the holdout group for this rule: not reminded,
    /// so that the reminders' effect can be measured against them.
    Holdout,
}

impl SkipReason {
    /// The reason as stored in `reminders.reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PassedBeforePayment => "passed_before_payment",
            Self::Holdout => "holdout",
        }
    }

    /// The reason in Bahasa Indonesia, for reports and the dashboard.
    pub fn label_id(self) -> &'static str {
        match self {
            Self::PassedBeforePayment => "hari pengingat sudah lewat sebelum pembayaran tercatat",
            Self::Holdout => "kelompok pembanding (tidak diingatkan, untuk mengukur dampak)",
        }
    }

    /// The reason stored as `text`, if it is one of these.
    pub fn from_stored(text: &str) -> Option<Self> {
        [Self::PassedBeforePayment, Self::Holdout]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in ["pending", "sent", "delivered", "superseded", "unknown"] {
            assert_eq!(s.parse::<ReminderStatus>().unwrap().as_str(), s);
        }
        assert!(ReminderStatus::Delivered.is_terminal());
        assert!(!ReminderStatus::Sent.is_terminal());
        assert_eq!("email".parse::<Channel>().unwrap(), Channel::Email);
        assert!("SMS ".parse::<Channel>().is_err());
    }

    #[test]
    fn skip_reasons_round_trip() {
        for r in [SkipReason::PassedBeforePayment, SkipReason::Holdout] {
            assert_eq!(SkipReason::from_stored(r.as_str()), Some(r));
            assert!(!r.label_id().is_empty());
        }
        assert_eq!(SkipReason::from_stored("paid"), None);
    }
}
