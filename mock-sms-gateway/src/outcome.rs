//! The deterministic delivered/undelivered decision.
//!
//! The outcome is a function of the seed, the recipient and the text, not of
//! arrival order, so a test (or an end-to-end run with a concurrent
//! dispatcher) knows which messages end delivered whatever order they arrive
//! in. `GET /messages` shows each decision as `final_status`.

/// A recipient reduced to the digits that identify it: separators and a
/// leading `+` or `00` dropped, and a national `0` prefix replaced by
/// Indonesia's 62 (the traffic this gateway stands in for). `+62 812-3456-7890`, `6281234567890`
/// and `081234567890` share one key.
pub fn number_key(to: &str) -> String {
    let digits: String = to.chars().filter(char::is_ascii_digit).collect();
    if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("62{rest}")
    } else {
        digits
    }
}

/// Whether the message to `to` with `text` ends delivered, for a gateway run
/// with `seed` and `delivered_ratio` (clamped to 0.0..=1.0).
pub fn decides_delivered(seed: u64, delivered_ratio: f64, to: &str, text: &str) -> bool {
    if delivered_ratio >= 1.0 {
        return true;
    }
    if delivered_ratio.is_nan() || delivered_ratio <= 0.0 {
        return false;
    }
    let mut hash = Fnv::new(seed);
    hash.write(number_key(to).as_bytes());
    hash.write(&[0xff]);
    hash.write(text.as_bytes());
    // 53 well-mixed bits give a uniform number in [0, 1).
    let unit = (splitmix64(hash.0) >> 11) as f64 / (1u64 << 53) as f64;
    unit < delivered_ratio
}

/// FNV-1a, chosen because its output is fixed forever (std's hasher is not
/// guaranteed stable across releases).
struct Fnv(u64);

impl Fnv {
    fn new(seed: u64) -> Self {
        let mut fnv = Self(0xcbf2_9ce4_8422_2325);
        fnv.write(&seed.to_le_bytes());
        fnv
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The SplitMix64 finaliser: spreads FNV's weak low bits over the word.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_keys_ignore_the_written_form() {
        assert_eq!(number_key("+62 812-3456-7890"), "6281234567890");
        assert_eq!(number_key("081234567890"), "6281234567890");
        assert_eq!(number_key("006281234567890"), "6281234567890");
    }

    #[test]
    fn the_decision_is_stable_and_follows_the_ratio() {
        let texts: Vec<String> = (0..10_000).map(|i| format!("pesan {i}")).collect();
        let delivered = texts
            .iter()
            .filter(|t| decides_delivered(7, 0.9, "+6281234567890", t))
            .count();
        assert!((8_800..=9_200).contains(&delivered), "{delivered} of 10000 delivered");
        let again = texts
            .iter()
            .filter(|t| decides_delivered(7, 0.9, "081234567890", t))
            .count();
        assert_eq!(delivered, again);
        let differs = texts
            .iter()
            .any(|t| decides_delivered(7, 0.9, "+6281234567890", t) != decides_delivered(8, 0.9, "+6281234567890", t));
        assert!(differs, "another seed decides differently");
        assert!(decides_delivered(1, 1.0, "x", "y"));
        assert!(!decides_delivered(1, 0.0, "x", "y"));
    }
}
