//! Which reminder keeps a participant's channel for a day when several fall
//! on it (at most one message per participant, channel and local day): the
//! most urgent, that is the one whose rule falls **latest** for the
//! participant's first unpaid month, by the real calendar (due dates moved
//! past weekends and holidays, the non-active day under
//! `standing.nonactive_after_months`). On the same date, the rule written
//! later in schedules.toml wins. A reminder already under way (sending,
//! sent, or settled) keeps its day whatever its rank.
//!
//! The store's supersede statement applies this order in SQL on the stored
//! `occurrence_date` and the rules' positions; the preview applies it here.

/// Whether an occurrence on date `a.0` (days since 1970-01-01) of the rule
/// at position `a.1` of the schedules outranks one on `b.0` of rule `b.1`.
pub fn outranks(a: (i32, usize), b: (i32, usize)) -> bool {
    a > b
}

#[cfg(test)]
mod tests {
    use super::outranks;

    #[test]
    fn a_later_date_wins_then_a_later_rule() {
        assert!(outranks((20_680, 0), (20_679, 6)), "the later date, whatever the rule");
        assert!(outranks((20_680, 5), (20_680, 4)), "same date: the rule written later");
        assert!(!outranks((20_680, 4), (20_680, 4)));
        assert!(!outranks((20_679, 6), (20_680, 0)));
    }
}
