//! Retry schedules as data: exponential backoff with jitter, capped, honouring a
//! provider's `Retry-After`. The host's job queue applies them; the randomness is the
//! caller's, so a seeded replay retries at the same instants.

use rand::Rng;

/// How one kind of job is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay before the second attempt, in seconds.
    pub base_secs: i64,
    /// Longest delay between attempts, in seconds.
    pub cap_secs: i64,
    /// Attempts before the job becomes a dead letter; `None` retries for as long as the
    /// job says it is still relevant (a code that could still open a door).
    pub max_attempts: Option<i64>,
}

/// Jitter applied to every delay, as a fraction (±20 %), so that retries after an outage
/// do not arrive all at once.
const JITTER: f64 = 0.2;

impl RetryPolicy {
    /// The delay in seconds after failed attempt number `attempt` (1-based), at least
    /// `retry_after` when the provider asked for one.
    pub fn delay(&self, attempt: i64, retry_after: Option<i64>, rng: &mut impl Rng) -> i64 {
        let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let raw = self
            .base_secs
            .saturating_mul(1_i64 << exp)
            .min(self.cap_secs);
        let factor = 1.0 + rng.random_range(-JITTER..=JITTER);
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let jittered = ((raw as f64) * factor).round() as i64;
        jittered.max(1).max(retry_after.unwrap_or(0))
    }

    /// True when attempt number `attempt` has used the budget up.
    pub fn exhausted(&self, attempt: i64) -> bool {
        self.max_attempts.is_some_and(|max| attempt >= max)
    }
}

/// Spread, in seconds, of the jobs that wait for a lock's circuit to let a trial through:
/// the first to arrive is the trial, the rest follow within this many seconds.
const TRIAL_STAGGER_SECS: i64 = 3;

/// The delay in seconds before a job refused by an open circuit runs again: the
/// `retry_in_secs` the circuit named, plus up to [`TRIAL_STAGGER_SECS`].
pub fn at_trial(retry_in_secs: i64, rng: &mut impl Rng) -> i64 {
    retry_in_secs.max(0) + rng.random_range(0..=TRIAL_STAGGER_SECS)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn backoff_grows_caps_and_jitters_within_bounds() {
        let p = RetryPolicy {
            base_secs: 10,
            cap_secs: 120,
            max_attempts: Some(5),
        };
        let mut rng = StdRng::seed_from_u64(1);
        for (attempt, nominal) in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 120), (9, 120)] {
            let d = p.delay(attempt, None, &mut rng);
            assert!(
                (nominal * 8 / 10..=nominal * 12 / 10).contains(&d),
                "attempt {attempt}: {d}"
            );
        }
        assert_eq!(
            p.delay(1, Some(300), &mut rng),
            300,
            "Retry-After wins when longer"
        );
        assert!(!p.exhausted(4));
        assert!(p.exhausted(5));
    }

    #[test]
    fn a_job_refused_by_an_open_circuit_waits_for_its_trial_not_its_backoff() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let d = at_trial(40, &mut rng);
            assert!((40..=40 + TRIAL_STAGGER_SECS).contains(&d), "{d}");
        }
        assert!((0..=TRIAL_STAGGER_SECS).contains(&at_trial(-5, &mut rng)));
    }
}
