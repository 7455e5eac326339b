//! What a daemon's scans remember from one tick to the next, so that a tick
//! with nothing new to do costs almost nothing.
//!
//! The scan stays state-based: what it creates is decided by the database,
//! never by which ticks ran. The memo only leaves out work that provably
//! creates nothing. For each batch (rule, channel, holdout) it keeps the
//! (kelurahan, first unpaid month) pairs the last scan probed, and a
//! [`WriteMark`] taken before that scan read anything. A participant not
//! written since the mark matches those pairs exactly as it did then (every
//! column the match reads is stamped, a payment moves the paid-through
//! month), so it already holds its reminder, or is not due one. A later scan
//! therefore probes those pairs only for the participants written since,
//! and only the pairs their kelurahan and paid-through month select. Pairs
//! not probed before (a new day, a new month, a late day) are probed for
//! everyone, as without a memo.
//!
//! A probed participant keeps its reminder: reminders are never deleted,
//! except by retention, which counts each batch it deletes in the database.
//! The memo is forgotten, and the next scan probes everything, when the
//! process starts, a scan fails, the holdout group changes, that count
//! changes, or more than [`MAX_WRITTEN`] participants were written since
//! the mark.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::domain::Channel;
use crate::store::{Occurrence, RuleOccurrences, WriteMark, WrittenParticipant};

/// Above this many participants written since the last scan, probing them
/// one by one costs more than probing everyone: the scan does the latter.
pub const MAX_WRITTEN: u32 = 20_000;

/// (kelurahan code as a number, contribution month): 16 bytes, so that a
/// country's pairs (83,762 kelurahan, each rule and channel, one to three
/// months) stay a few tens of megabytes.
type Pair = (u64, i32);

/// What the last successful scan of this process left for the next.
#[derive(Debug, Default)]
pub struct ScanMemo {
    last: Option<Remembered>,
}

#[derive(Debug)]
struct Remembered {
    /// Taken before the scan read any participant.
    mark: WriteMark,
    /// The count of retention's deletions when the scan began.
    deletions: i64,
    /// The rules of the schedules then (the pending reminders of any other
    /// rule were cancelled).
    rules: Vec<String>,
    /// The holdout settings then.
    holdout: String,
    /// The pairs probed, per batch, sorted.
    probed: HashMap<BatchKey, Vec<Pair>>,
}

/// A batch's identity: the rule's fingerprint (every setting that shapes
/// its occurrences and filters), the channel and whether it spares the
/// holdout group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BatchKey {
    fingerprint: String,
    channel: Channel,
    holdout: bool,
}

impl BatchKey {
    /// The key of `batch`, with its rule's fingerprint from `fingerprints`.
    pub fn of(batch: &RuleOccurrences, fingerprints: &BTreeMap<String, String>) -> Self {
        Self {
            fingerprint: fingerprints.get(&batch.rule).cloned().unwrap_or_default(),
            channel: batch.channel,
            holdout: batch.holdout,
        }
    }
}

impl ScanMemo {
    /// The previous scan's memory, if it still holds for a scan that finds
    /// `deletions` and `holdout` settings; the memo is left empty either way
    /// (a scan that fails leaves nothing behind).
    pub fn take_for(&mut self, deletions: i64, holdout: &str) -> Option<Previous> {
        let last = self.last.take()?;
        (last.deletions == deletions && last.holdout == holdout).then_some(Previous(last))
    }

    /// Remembers a successful scan.
    pub fn remember(&mut self, next: NextMemo) {
        self.last = Some(next.0);
    }
}

/// The previous scan's memory, taken for one scan.
#[derive(Debug)]
pub struct Previous(Remembered);

impl Previous {
    /// The mark taken before the previous scan.
    pub fn mark(&self) -> &WriteMark {
        &self.0.mark
    }

    /// Whether the previous scan ran with these rules (so it cancelled the
    /// reminders of every other rule already).
    pub fn same_rules(&self, rules: &[String]) -> bool {
        self.0.rules == rules
    }

    /// Whether the previous scan probed a batch with this key.
    pub fn knows(&self, key: &BatchKey) -> bool {
        self.0.probed.contains_key(key)
    }

    /// Splits `batch` for a scan that knows `written` (the participants
    /// written since the mark): the occurrences to probe for everyone, and
    /// those to probe for the written participants only. Each is `None`
    /// when it has no occurrence.
    pub fn split(
        &self,
        batch: &RuleOccurrences,
        key: &BatchKey,
        written: &Written,
    ) -> (Option<RuleOccurrences>, Option<RuleOccurrences>) {
        let Some(probed) = self.0.probed.get(key) else {
            return (Some(batch.clone()), None);
        };
        let (old, new): (Vec<&Occurrence>, Vec<&Occurrence>) = batch
            .occurrences
            .iter()
            .partition(|o| pair(o).is_some_and(|p| probed.binary_search(&p).is_ok()));
        let old: Vec<&Occurrence> = old
            .into_iter()
            .filter(|o| pair(o).is_some_and(|p| written.pairs.contains(&p)))
            .collect();
        (with(batch, new), with(batch, old))
    }
}

/// The participants written since the previous scan's mark.
#[derive(Debug, Default)]
pub struct Written {
    /// Their ids.
    pub ids: Vec<i64>,
    /// The (kelurahan, first unpaid month) each is in now.
    pairs: HashSet<Pair>,
}

impl Written {
    /// From the store's rows.
    pub fn new(rows: Vec<WrittenParticipant>) -> Self {
        let pairs = rows
            .iter()
            .filter_map(|p| Some((code_number(&p.kelurahan_code)?, p.paid_through + 1)))
            .collect();
        Self {
            ids: rows.into_iter().map(|p| p.id).collect(),
            pairs,
        }
    }

    /// Whether no participant was written.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// What a scan in progress will leave for the next: built as it goes,
/// kept only if it succeeds.
#[derive(Debug)]
pub struct NextMemo(Remembered);

impl NextMemo {
    /// A memo for a scan that took `mark` and found `deletions` before
    /// reading anything else.
    pub fn new(mark: WriteMark, deletions: i64, rules: Vec<String>, holdout: String) -> Self {
        Self(Remembered {
            mark,
            deletions,
            rules,
            holdout,
            probed: HashMap::new(),
        })
    }

    /// Records that every pair of `batch` was probed (for everyone, or
    /// earlier and since for the written participants).
    pub fn probed(&mut self, key: BatchKey, batch: &RuleOccurrences) {
        let pairs = self.0.probed.entry(key).or_default();
        pairs.extend(batch.occurrences.iter().filter_map(pair));
        pairs.sort_unstable();
        pairs.dedup();
        pairs.shrink_to_fit();
    }
}

/// An occurrence's pair; `None` for a code not in the PP.KK.CC.DDDD form
/// (never remembered, so always probed for everyone).
fn pair(o: &Occurrence) -> Option<Pair> {
    Some((code_number(&o.kelurahan_code)?, o.contribution_month))
}

/// A kelurahan code's digits as one number: the code's parts have fixed
/// widths, so two codes give the same number only when they are equal.
/// Read without allocating: a country's scan reads about a million.
fn code_number(code: &str) -> Option<u64> {
    const DOTS: [usize; 3] = [2, 5, 8];
    let bytes = code.as_bytes();
    if bytes.len() != 13 || !DOTS.iter().all(|&i| bytes[i] == b'.') {
        return None;
    }
    bytes
        .iter()
        .enumerate()
        .filter(|(i, _)| !DOTS.contains(i))
        .try_fold(0u64, |n, (_, &b)| {
            b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
        })
}

/// `batch` with only `occurrences`, or `None` when there are none.
fn with(batch: &RuleOccurrences, occurrences: Vec<&Occurrence>) -> Option<RuleOccurrences> {
    (!occurrences.is_empty()).then(|| RuleOccurrences {
        rule: batch.rule.clone(),
        rule_offset: batch.rule_offset,
        channel: batch.channel,
        funding: batch.funding.clone(),
        occurrences: occurrences.into_iter().cloned().collect(),
        holdout: batch.holdout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "18.72.01.1001";
    const B: &str = "18.72.01.1002";
    const C: &str = "51.71.01.1001";

    fn occ(k: &str, m: i32) -> Occurrence {
        Occurrence {
            kelurahan_code: k.into(),
            contribution_month: m,
            occurrence_date: 1,
            send_date: 1,
            planned_at: 1,
            expires_at: None,
            skip_reason: None,
        }
    }

    fn batch(occurrences: Vec<Occurrence>) -> RuleOccurrences {
        RuleOccurrences {
            rule: "h-7".into(),
            rule_offset: -7,
            channel: Channel::Sms,
            funding: None,
            occurrences,
            holdout: false,
        }
    }

    fn fingerprints(hex: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("h-7".to_string(), hex.to_string())])
    }

    fn memo_of(b: &RuleOccurrences, hex: &str) -> ScanMemo {
        let mut next = NextMemo::new(WriteMark("5".into()), 3, vec!["h-7".into()], String::new());
        next.probed(BatchKey::of(b, &fingerprints(hex)), b);
        let mut memo = ScanMemo::default();
        memo.remember(next);
        memo
    }

    fn written(rows: &[(i64, &str, i32)]) -> Written {
        Written::new(
            rows.iter()
                .map(|(id, k, pt)| WrittenParticipant {
                    id: *id,
                    kelurahan_code: (*k).into(),
                    paid_through: *pt,
                })
                .collect(),
        )
    }

    #[test]
    fn probed_pairs_are_probed_again_only_where_someone_was_written() {
        let before = batch(vec![occ(A, 10), occ(B, 10)]);
        let mut memo = memo_of(&before, "f1");
        let previous = memo.take_for(3, "").expect("same day, same holdout");
        let now = batch(vec![occ(A, 10), occ(B, 10), occ(C, 10)]);
        let key = BatchKey::of(&now, &fingerprints("f1"));
        let (everyone, only_written) = previous.split(&now, &key, &written(&[(1, B, 9), (2, A, 3)]));
        let everyone = everyone.expect("c is new");
        assert_eq!(everyone.occurrences, vec![occ(C, 10)]);
        let only_written = only_written.expect("b's participant moved onto month 10");
        assert_eq!(only_written.occurrences, vec![occ(B, 10)]);
    }

    #[test]
    fn nothing_written_leaves_nothing_to_probe_in_probed_pairs() {
        let before = batch(vec![occ(A, 10)]);
        let mut memo = memo_of(&before, "f1");
        let previous = memo.take_for(3, "").expect("memo holds");
        let key = BatchKey::of(&before, &fingerprints("f1"));
        assert_eq!(previous.split(&before, &key, &Written::default()), (None, None));
        assert!(memo.take_for(3, "").is_none(), "taking it empties the memo");
    }

    #[test]
    fn an_edited_rule_is_probed_in_full() {
        let before = batch(vec![occ(A, 10)]);
        let mut memo = memo_of(&before, "f1");
        let previous = memo.take_for(3, "").expect("memo holds");
        let key = BatchKey::of(&before, &fingerprints("f2"));
        assert_eq!(
            previous.split(&before, &key, &Written::default()),
            (Some(before.clone()), None)
        );
    }

    #[test]
    fn codes_become_distinct_numbers_and_odd_codes_are_never_remembered() {
        assert_eq!(code_number(A), Some(1_872_011_001));
        assert_ne!(code_number(A), code_number(B));
        assert_eq!(code_number("18.72.1.10011"), None);
        assert_eq!(code_number("1872011001"), None);
        assert_eq!(code_number("18.72.0a.1001"), None);
        let odd = batch(vec![occ("x", 10)]);
        let mut memo = memo_of(&odd, "f1");
        let previous = memo.take_for(3, "").expect("memo holds");
        let key = BatchKey::of(&odd, &fingerprints("f1"));
        assert_eq!(
            previous.split(&odd, &key, &Written::default()),
            (Some(odd.clone()), None)
        );
    }

    #[test]
    fn deletions_new_holdout_settings_or_a_new_process_forget_the_memo() {
        let before = batch(vec![occ(A, 10)]);
        assert!(memo_of(&before, "f1").take_for(4, "").is_none());
        assert!(memo_of(&before, "f1").take_for(3, "fraction 0.1").is_none());
        assert!(
            ScanMemo::default().take_for(3, "").is_none(),
            "a new process remembers nothing"
        );
    }
}
