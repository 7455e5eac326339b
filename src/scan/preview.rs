//! A preview counts what a scan would send, so it leaves out what the scan
//! would supersede: a participant gets one message per channel per day, the
//! most urgent one (see [`super::urgency`]). Everyone an occurrence reaches
//! shares its kelurahan, first unpaid month and send date, and so meets the
//! same rival occurrences; only the rivals' funding filters tell who among
//! them a rival also reaches. So each occurrence keeps the fundings no
//! more urgent rival covers, and a batch splits by what it keeps.

use std::collections::{BTreeMap, HashMap};

use super::batches::{batch, rule_fundings};
use super::urgency::outranks;
use crate::domain::Funding;
use crate::schedule::Rule;
use crate::store::{Occurrence, RuleOccurrences};

/// Where rival occurrences meet: kelurahan, first unpaid month, send date.
type Day<'a> = (&'a str, i32, i32);

/// Every funding, as stored.
const ALL_FUNDINGS: [Funding; 3] = [Funding::SelfPaid, Funding::Collective, Funding::Budget];

/// The preview's batches: `occurrences[i]` belongs to `rules[i]` (enabled
/// rules in file order); each occurrence appears only for the fundings
/// that no more urgent occurrence on its channel, kelurahan, month and send
/// date takes.
pub(super) fn without_outranked(rules: &[&Rule], occurrences: &[Vec<Occurrence>]) -> Vec<RuleOccurrences> {
    // The (rule index, occurrence date) of every occurrence of a day.
    let mut rivals: HashMap<Day<'_>, Vec<(usize, i32)>> = HashMap::new();
    for (i, occ) in occurrences.iter().enumerate() {
        for o in occ {
            rivals
                .entry((&*o.kelurahan_code, o.contribution_month, o.send_date))
                .or_default()
                .push((i, o.occurrence_date));
        }
    }
    let mut batches = Vec::new();
    for (i, (rule, occ)) in rules.iter().zip(occurrences).enumerate() {
        for channel in &rule.channels {
            let mut by_kept: BTreeMap<Vec<&str>, Vec<Occurrence>> = BTreeMap::new();
            for o in occ {
                let key = (&*o.kelurahan_code, o.contribution_month, o.send_date);
                let taken: Vec<Funding> = rivals[&key]
                    .iter()
                    .filter(|(j, date)| {
                        *j != i && rules[*j].has_channel(*channel) && outranks((*date, *j), (o.occurrence_date, i))
                    })
                    .flat_map(|(j, _)| fundings(rules[*j]))
                    .collect();
                let kept: Vec<&str> = fundings(rule)
                    .into_iter()
                    .filter(|f| !taken.contains(f))
                    .map(Funding::as_str)
                    .collect();
                if !kept.is_empty() {
                    by_kept.entry(kept).or_default().push(o.clone());
                }
            }
            let all: Vec<&str> = fundings(rule).into_iter().map(Funding::as_str).collect();
            for (kept, occ) in by_kept {
                let funding = if kept == all {
                    rule_fundings(rule)
                } else {
                    Some(kept.iter().map(|f| f.to_string()).collect())
                };
                batches.push(batch(rule, *channel, funding, occ));
            }
        }
    }
    batches
}

/// The fundings a rule reminds, in a fixed order.
fn fundings(rule: &Rule) -> Vec<Funding> {
    ALL_FUNDINGS
        .into_iter()
        .filter(|f| rule.funding.as_ref().is_none_or(|only| only.contains(f)))
        .collect()
}
