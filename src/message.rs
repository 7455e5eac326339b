//! The values a reminder's template is rendered with, for one participant at
//! one instant. Shared by the preview and the dispatcher so both say the same.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::{ContributionMonth, DueDateRules, Rupiah, StandingRules};
use crate::schedule::{ReminderVars, nonactive_date};
use crate::store::ParticipantRecord;

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

/// The template values for `participant` at `at`, about their first unpaid month.
pub fn reminder_vars(participant: &ParticipantRecord, ctx: &MessageContext<'_>, at: DateTime<Utc>) -> ReminderVars {
    let paid_through = ContributionMonth::from_index(participant.paid_through);
    let last_past_due = ctx.due.last_month_past_due(at, ctx.tz);
    let standing = ctx.standing.standing(paid_through, last_past_due);
    let first_unpaid = standing.first_unpaid;
    ReminderVars {
        name: participant.name.clone(),
        kpj: participant.kpj.clone(),
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
