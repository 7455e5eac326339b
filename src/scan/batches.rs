//! A plan's output: one batch of occurrences per rule and channel, each
//! for the rule's fundings, as the store inserts them.

use crate::schedule::{Channel, Rule};
use crate::store::{Occurrence, RuleOccurrences};

/// One batch per rule and channel with occurrences, each for the rule's
/// fundings.
pub(super) fn batches(rules: &[&Rule], occurrences: Vec<Vec<Occurrence>>) -> Vec<RuleOccurrences> {
    let mut batches = Vec::new();
    for (rule, mut occ) in rules.iter().zip(occurrences) {
        if occ.is_empty() {
            continue;
        }
        let mut channels = rule.channels.iter().peekable();
        while let Some(channel) = channels.next() {
            // The last channel takes the list itself: a copy only for each
            // channel before it.
            let occ = match channels.peek() {
                Some(_) => occ.clone(),
                None => std::mem::take(&mut occ),
            };
            batches.push(batch(rule, *channel, rule_fundings(rule), occ));
        }
    }
    batches
}

/// The batch of `rule` on `channel` for participants of `funding` (`None`: any).
pub(super) fn batch(
    rule: &Rule,
    channel: Channel,
    funding: Option<Vec<String>>,
    occurrences: Vec<Occurrence>,
) -> RuleOccurrences {
    RuleOccurrences {
        rule: rule.name.clone(),
        rule_offset: rule.offset_days,
        channel,
        funding,
        occurrences,
        holdout: false,
    }
}

/// The rule's funding filter as stored words; `None` for any funding.
pub(super) fn rule_fundings(rule: &Rule) -> Option<Vec<String>> {
    rule.funding
        .as_ref()
        .map(|f| f.iter().map(|x| x.as_str().to_string()).collect())
}
