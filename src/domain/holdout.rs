//! Who is in the holdout group: a fixed share of each kelurahan's BPU
//! participants who are not sent the early reminders, so that what the
//! reminders achieve can be measured against them.
//!
//! The choice is deterministic: each participant's key is SHA-256 of the
//! salt and the NIK, so the same NIK and salt give the same key on every
//! instance, after every restart and every re-import, and nobody can pick
//! who is held out. Within each kelurahan the participants are ranked by
//! key and the lowest `round(fraction × n)` are held out: the group is
//! stratified by kelurahan, its size within one participant of
//! `fraction × n` in each. A participant's group changes only when the salt
//! or the fraction changes, or when others joining or leaving the
//! kelurahan move the rank boundary past them.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// The largest share of participants that may be held out.
pub const MAX_FRACTION: f64 = 0.2;

/// One BPU participant, as the assignment sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The stored participant id.
    pub id: i64,
    /// The NIK, 16 digits.
    pub nik: String,
    /// The kelurahan code, dotted.
    pub kelurahan_code: String,
}

/// The participant's ranking key: the first 8 bytes of SHA-256 over the
/// salt, a separator and the NIK, read big-endian.
pub fn key(nik: &str, salt: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update([0u8]);
    hasher.update(nik.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// How many of `n` participants are held out at `fraction`: `fraction × n`
/// rounded half up.
pub fn held_out_count(n: usize, fraction: f64) -> usize {
    let fraction = fraction.clamp(0.0, MAX_FRACTION);
    ((n as f64) * fraction).round() as usize
}

/// The holdout group: per kelurahan, the `held_out_count` candidates with
/// the lowest keys (ties, which need a SHA-256 collision, broken by NIK).
/// Returned as (participant id, kelurahan code), ordered by id.
pub fn assign(candidates: &[Candidate], fraction: f64, salt: &str) -> Vec<(i64, String)> {
    let mut by_kelurahan: BTreeMap<&str, Vec<(u64, &str, i64)>> = BTreeMap::new();
    for c in candidates {
        by_kelurahan
            .entry(c.kelurahan_code.as_str())
            .or_default()
            .push((key(&c.nik, salt), c.nik.as_str(), c.id));
    }
    let mut held: Vec<(i64, String)> = Vec::new();
    for (code, mut members) in by_kelurahan {
        members.sort_unstable();
        let k = held_out_count(members.len(), fraction);
        held.extend(members.into_iter().take(k).map(|(_, _, id)| (id, code.to_string())));
    }
    held.sort_unstable();
    held
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(kelurahan: &str, n: usize, first_id: i64) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                id: first_id + i as i64,
                nik: format!("3201{:012}", first_id as usize + i),
                kelurahan_code: kelurahan.to_string(),
            })
            .collect()
    }

    #[test]
    fn keys_are_fixed_values() {
        // A fixed value guards against a change of hash or encoding, which
        // would silently move everyone between groups.
        assert_eq!(
            key("3201010101010001", "kota-metro-2026"),
            key("3201010101010001", "kota-metro-2026")
        );
        assert_ne!(key("3201010101010001", "a"), key("3201010101010001", "b"));
        assert_eq!(key("", ""), 0x6e34_0b9c_ffb3_7a98);
    }

    #[test]
    fn each_kelurahan_gets_its_share_within_one() {
        let mut all = people("18.72.01.1001", 137, 1);
        all.extend(people("18.72.01.1005", 41, 1000));
        all.extend(people("51.71.01.1001", 3, 2000));
        let held = assign(&all, 0.1, "salt");
        let count = |code: &str| held.iter().filter(|(_, k)| k == code).count() as f64;
        assert!((count("18.72.01.1001") - 13.7).abs() <= 1.0);
        assert!((count("18.72.01.1005") - 4.1).abs() <= 1.0);
        assert!((count("51.71.01.1001") - 0.3).abs() <= 1.0);
    }

    #[test]
    fn same_salt_same_group_whatever_the_order() {
        let all = people("18.72.01.1001", 200, 1);
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(assign(&all, 0.15, "x"), assign(&reversed, 0.15, "x"));
        assert_ne!(assign(&all, 0.15, "x"), assign(&all, 0.15, "y"));
        assert!(assign(&all, 0.0, "x").is_empty());
    }
}
