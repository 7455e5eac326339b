//! The reminders' effect: the difference between the share of reminded
//! participants who paid and the share of held-out participants who paid,
//! with its 95% confidence interval.
//!
//! The interval is Newcombe's hybrid score interval for a difference of two
//! independent proportions (Newcombe 1998, "Interval estimation for the
//! difference between independent proportions", method 10), built from
//! each group's Wilson score interval. It is chosen over the simple Wald
//! interval (difference ± 1.96 standard errors) because the held-out groups
//! are small (10% of a kelurahan is often a few dozen people) and the
//! shares paid are often near 0% or 100%, where the Wald interval is too
//! narrow and can reach past 0% or 100%; Newcombe's interval keeps close to
//! its nominal 95% coverage there. A bootstrap was not chosen: it is random
//! (two runs would print different intervals) and no better for
//! proportions of this size.

/// The 97.5th percentile of the standard normal distribution: 95% two-sided.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// How many of a group paid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupOutcome {
    /// Participants in the group.
    pub total: u64,
    /// Of them, how many paid.
    pub paid: u64,
}

impl GroupOutcome {
    /// The share paid (0 to 1); `None` for an empty group.
    pub fn share(self) -> Option<f64> {
        (self.total > 0).then(|| self.paid as f64 / self.total as f64)
    }
}

/// A difference of two shares in percentage points, with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// Reminded share minus held-out share, in percentage points.
    pub estimate_pp: f64,
    /// Lower end of the 95% interval, in percentage points.
    pub low_pp: f64,
    /// Upper end of the 95% interval, in percentage points.
    pub high_pp: f64,
}

impl Difference {
    /// The interval's width in percentage points.
    pub fn width_pp(&self) -> f64 {
        self.high_pp - self.low_pp
    }

    /// Whether the interval contains `pp`.
    pub fn covers(&self, pp: f64) -> bool {
        self.low_pp <= pp && pp <= self.high_pp
    }
}

/// Wilson's score interval (95%) of a share `paid / total`: (low, high), 0 to 1.
pub fn wilson(g: GroupOutcome) -> Option<(f64, f64)> {
    let p = g.share()?;
    let n = g.total as f64;
    let z2 = Z_95 * Z_95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z_95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Newcombe's hybrid score interval for `reminded` minus `held_out`;
/// `None` when either group is empty.
pub fn difference(reminded: GroupOutcome, held_out: GroupOutcome) -> Option<Difference> {
    let (p1, p2) = (reminded.share()?, held_out.share()?);
    let (l1, u1) = wilson(reminded)?;
    let (l2, u2) = wilson(held_out)?;
    let d = p1 - p2;
    let low = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let high = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some(Difference {
        estimate_pp: d * 100.0,
        low_pp: low * 100.0,
        high_pp: high * 100.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(paid: u64, total: u64) -> GroupOutcome {
        GroupOutcome { total, paid }
    }

    #[test]
    fn wilson_matches_the_published_example() {
        // Newcombe (1998), table II: 81/263 gives 0.2553 to 0.3662.
        let (l, u) = wilson(g(81, 263)).unwrap();
        assert!((l - 0.2553).abs() < 5e-4, "{l}");
        assert!((u - 0.3662).abs() < 5e-4, "{u}");
    }

    #[test]
    fn newcombe_matches_the_published_example() {
        // Newcombe (1998), table II, example (a): 56/70 − 48/80, method 10:
        // +0.0524 to +0.3339.
        let d = difference(g(56, 70), g(48, 80)).unwrap();
        assert!((d.estimate_pp - 20.0).abs() < 1e-9);
        assert!((d.low_pp - 5.24).abs() < 0.05, "{d:?}");
        assert!((d.high_pp - 33.39).abs() < 0.05, "{d:?}");
    }

    #[test]
    fn stays_within_bounds_at_the_edges() {
        let d = difference(g(10, 10), g(0, 10)).unwrap();
        assert!(d.high_pp <= 100.0 && d.low_pp > 0.0, "{d:?}");
        assert!(difference(g(1, 2), g(0, 0)).is_none());
        assert!(d.covers(d.estimate_pp));
    }
}
