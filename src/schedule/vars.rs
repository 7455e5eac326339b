//! The variables a reminder template can use, and their values for one
//! participant.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::domain::month::INDONESIAN_MONTHS;
use crate::domain::{ContributionMonth, Rupiah, money::format_rupiah};

/// A variable a template may name, written `{name}` in the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variable {
    /// The participant's name as imported (`SITI AMINAH`).
    Name,
    /// The KPJ membership number; empty when unknown.
    Kpj,
    /// The contribution month the reminder is about, `Juli 2025`.
    Month,
    /// The participant's monthly contribution, `Rp16.800`.
    Amount,
    /// The due date of [`Variable::Month`], `15 Juli 2025`.
    DueDate,
    /// The kelurahan's name, `Yosomulyo`.
    Kelurahan,
    /// Months whose due date has passed unpaid, `2`.
    MonthsInArrears,
    /// What it costs to be up to date: amount × months in arrears, at least
    /// one month (before the due date the month about to fall due is owed).
    AmountDue,
    /// The earliest unpaid month, `Juli 2025`.
    FirstUnpaidMonth,
    /// The last month paid, `Juni 2025`.
    PaidThroughMonth,
    /// The kelurahan's collective-payment coordinator; empty when none.
    Coordinator,
    /// The first day without cover if nothing is paid, `16 September 2025`.
    NonactiveDate,
}

impl Variable {
    /// Every variable, in the order they are documented.
    pub const ALL: [Variable; 12] = [
        Self::Name,
        Self::Kpj,
        Self::Month,
        Self::Amount,
        Self::DueDate,
        Self::Kelurahan,
        Self::MonthsInArrears,
        Self::AmountDue,
        Self::FirstUnpaidMonth,
        Self::PaidThroughMonth,
        Self::Coordinator,
        Self::NonactiveDate,
    ];

    /// The name written between braces.
    pub fn name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Kpj => "kpj",
            Self::Month => "month",
            Self::Amount => "amount",
            Self::DueDate => "due_date",
            Self::Kelurahan => "kelurahan",
            Self::MonthsInArrears => "months_in_arrears",
            Self::AmountDue => "amount_due",
            Self::FirstUnpaidMonth => "first_unpaid_month",
            Self::PaidThroughMonth => "paid_through_month",
            Self::Coordinator => "coordinator",
            Self::NonactiveDate => "nonactive_date",
        }
    }

    /// The variable called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// Whether the value comes from the participant's own record (and so
    /// may hold characters the operator never saw), as opposed to numbers
    /// and dates this crate formats itself.
    pub(crate) fn is_free_text(self) -> bool {
        matches!(self, Self::Name | Self::Kelurahan | Self::Coordinator | Self::Kpj)
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The values of every variable for one reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderVars {
    /// The participant's name.
    pub name: String,
    /// The KPJ number, when known.
    pub kpj: Option<String>,
    /// The contribution month the reminder is about (normally the first unpaid month).
    pub month: ContributionMonth,
    /// The participant's monthly contribution.
    pub amount: Rupiah,
    /// The due date of `month`, with the kelurahan's holidays applied.
    pub due_date: NaiveDate,
    /// The kelurahan's name.
    pub kelurahan: String,
    /// Months whose due date has passed unpaid.
    pub months_in_arrears: u32,
    /// The earliest unpaid month.
    pub first_unpaid_month: ContributionMonth,
    /// The last month paid.
    pub paid_through_month: ContributionMonth,
    /// The coordinator to pay through collectively, when the kelurahan has one.
    pub coordinator: Option<String>,
    /// The first day the participant is (or will be) non-active if nothing is
    /// paid; see [`super::rules::nonactive_date`].
    pub nonactive_date: NaiveDate,
}

impl ReminderVars {
    /// A realistic participant for `check-config` and template tests: SITI
    /// AMINAH of Yosomulyo (Metro Pusat, Kota Metro), one month behind on
    /// the common Rp16.800 package.
    pub fn sample() -> Self {
        // July 2025: index year * 12 + month - 1.
        let july = ContributionMonth::from_index(2025 * 12 + 6);
        let date = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap_or_default();
        Self {
            name: "SITI AMINAH".into(),
            kpj: Some("19012345678".into()),
            month: july,
            amount: Rupiah::new(16_800).expect("a positive constant is a valid amount"),
            due_date: date(7, 15),
            kelurahan: "Yosomulyo".into(),
            months_in_arrears: 1,
            first_unpaid_month: july,
            paid_through_month: july.prev(),
            coordinator: Some("Ratna Dewi".into()),
            nonactive_date: date(9, 16),
        }
    }

    /// Amount × months in arrears, at least one month.
    pub fn amount_due(&self) -> i64 {
        self.amount.amount() * i64::from(self.months_in_arrears.max(1))
    }

    /// The formatted value of `var`; empty for an absent optional value.
    pub fn value(&self, var: Variable) -> String {
        match var {
            Variable::Name => self.name.clone(),
            Variable::Kpj => self.kpj.clone().unwrap_or_default(),
            Variable::Month => self.month.indonesian_name(),
            Variable::Amount => format_rupiah(self.amount.amount()),
            Variable::DueDate => indonesian_date(self.due_date),
            Variable::Kelurahan => self.kelurahan.clone(),
            Variable::MonthsInArrears => self.months_in_arrears.to_string(),
            Variable::AmountDue => format_rupiah(self.amount_due()),
            Variable::FirstUnpaidMonth => self.first_unpaid_month.indonesian_name(),
            Variable::PaidThroughMonth => self.paid_through_month.indonesian_name(),
            Variable::Coordinator => self.coordinator.clone().unwrap_or_default(),
            Variable::NonactiveDate => indonesian_date(self.nonactive_date),
        }
    }
}

/// `15 Juli 2025`.
pub fn indonesian_date(date: NaiveDate) -> String {
    format!(
        "{} {} {}",
        date.day(),
        INDONESIAN_MONTHS[date.month0() as usize],
        date.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for v in Variable::ALL {
            assert_eq!(Variable::from_name(v.name()), Some(v));
        }
        assert_eq!(Variable::from_name("nama"), None);
    }

    #[test]
    fn sample_values_are_formatted_the_indonesian_way() {
        let s = ReminderVars::sample();
        let v = |var| s.value(var);
        assert_eq!(v(Variable::Name), "SITI AMINAH");
        assert_eq!(v(Variable::Month), "Juli 2025");
        assert_eq!(v(Variable::Amount), "Rp16.800");
        assert_eq!(v(Variable::DueDate), "15 Juli 2025");
        assert_eq!(v(Variable::Kelurahan), "Yosomulyo");
        assert_eq!(v(Variable::PaidThroughMonth), "Juni 2025");
        assert_eq!(v(Variable::NonactiveDate), "16 September 2025");
        assert_eq!(v(Variable::AmountDue), "Rp16.800");
    }

    #[test]
    fn amount_due_is_at_least_one_month() {
        let mut s = ReminderVars::sample();
        s.months_in_arrears = 0;
        assert_eq!(s.amount_due(), 16_800);
        s.months_in_arrears = 3;
        assert_eq!(s.value(Variable::AmountDue), "Rp50.400");
    }

    #[test]
    fn absent_optional_values_are_empty() {
        let mut s = ReminderVars::sample();
        s.kpj = None;
        s.coordinator = None;
        assert_eq!(s.value(Variable::Kpj), "");
        assert_eq!(s.value(Variable::Coordinator), "");
    }
}
