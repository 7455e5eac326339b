//! The values a reminder's template is rendered with, for one participant at
//! one instant. Shared by the preview and the dispatcher so both say the same.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::{ContributionMonth, DueDateRules, Rupiah, StandingRules};
use crate::schedule::{ReminderVars, nonactive_date};
use crate::store::{ClaimedReminder, ParticipantRecord};

/// Everything about the participant's place that a message mentions.
pub struct MessageContext<'a> {
    /// The kelurahan's name.
    pub kelurahan_name: &'a str,
    /// The kelurahan's time zone.
    pub tz: Tz,
    /// Due-date rules with the kelurahan's holidays.
    pub due: &'a DueDateRules,
    pub standing: &'a StandingRules,
    /// The kelurahan's collective-payment coordinator, if any.
    pub coordinator: Option<&'a str>,
}

/// Who a message is about: what its values need of a participant.
pub struct Addressee<'a> {
    pub name: &'a str,
    pub kpj: Option<&'a str>,
    pub monthly_amount: i64,
    /// Stored paid-through month index.
    pub paid_through: i32,
}

impl<'a> From<&'a ParticipantRecord> for Addressee<'a> {
    fn from(p: &'a ParticipantRecord) -> Self {
        Self {
            name: &p.name,
            kpj: p.kpj.as_deref(),
            monthly_amount: p.monthly_amount,
            paid_through: p.paid_through,
        }
    }
}

impl<'a> From<&'a ClaimedReminder> for Addressee<'a> {
    fn from(r: &'a ClaimedReminder) -> Self {
        Self {
            name: &r.name,
            kpj: r.kpj.as_deref(),
            monthly_amount: r.monthly_amount,
            paid_through: r.paid_through,
        }
    }
}

/// The template values for `participant` at `at`, about their first unpaid month.
pub fn reminder_vars(participant: Addressee<'_>, ctx: &MessageContext<'_>, at: DateTime<Utc>) -> ReminderVars {
    let paid_through = ContributionMonth::from_index(participant.paid_through);
    let last_past_due = ctx.due.last_month_past_due(at, ctx.tz);
    let standing = ctx.standing.standing(paid_through, last_past_due);
    let first_unpaid = standing.first_unpaid;
    ReminderVars {
        name: participant.name.to_string(),
        kpj: participant.kpj.map(str::to_string),
        month: first_unpaid,
        amount: Rupiah::from_stored(participant.monthly_amount),
        due_date: ctx.due.due_date(first_unpaid),
        kelurahan: ctx.kelurahan_name.to_string(),
        months_in_arrears: standing.months_in_arrears,
        first_unpaid_month: first_unpaid,
        paid_through_month: paid_through,
        coordinator: ctx.coordinator.map(str::to_string),
        nonactive_date: nonactive_date(first_unpaid, ctx.due, ctx.standing),
    }
}
