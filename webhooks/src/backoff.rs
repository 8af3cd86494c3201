//! When a failed delivery is tried again: exponential backoff with jitter.
//!
//! After the `n`-th failed attempt (n ≥ 1) the next one waits a random time between half
//! and all of `min(base · 2^(n-1), max)` ("equal jitter"): spread out so that many
//! deliveries failing together (a receiver down) do not all come back at the same instant,
//! yet never sooner than half the nominal delay. With the defaults (base 30 s, max 2 h, 12
//! attempts) the tries span about 8 hours before the delivery is dead-lettered.

use std::time::Duration;

use rand_core::{OsRng, RngCore};

/// The retry schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Nominal wait after the first failure.
    pub base: Duration,
    /// Longest nominal wait.
    pub max: Duration,
    /// Attempts in all, the first included; after the last failure the delivery is dead.
    pub max_attempts: u32,
}

impl Backoff {
    /// The nominal wait after `failures` failed attempts (without jitter).
    pub fn nominal(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exponent).min(self.max)
    }

    /// The wait after `failures` failed attempts, with jitter: in `[nominal / 2, nominal]`.
    pub fn delay(&self, failures: u32) -> Duration {
        let nominal = self.nominal(failures);
        let half = nominal / 2;
        let spread = u64::try_from((nominal - half).as_millis()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            OsRng.next_u64() % (spread + 1)
        };
        half + Duration::from_millis(jitter)
    }

    /// Whether a delivery that failed `failures` times is dead.
    pub fn exhausted(&self, failures: u32) -> bool {
        failures >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_jitter_stays_within_half_and_whole() {
        let backoff = Backoff {
            base: Duration::from_secs(30),
            max: Duration::from_secs(7200),
            max_attempts: 12,
        };
        assert_eq!(backoff.nominal(1), Duration::from_secs(30));
        assert_eq!(backoff.nominal(2), Duration::from_secs(60));
        assert_eq!(backoff.nominal(5), Duration::from_secs(480));
        assert_eq!(backoff.nominal(9), Duration::from_secs(7200));
        assert_eq!(backoff.nominal(40), Duration::from_secs(7200));
        for failures in 1..12 {
            let delay = backoff.delay(failures);
            let nominal = backoff.nominal(failures);
            assert!(delay >= nominal / 2 && delay <= nominal, "{failures}: {delay:?}");
        }
        assert!(!backoff.exhausted(11));
        assert!(backoff.exhausted(12));
        let total: Duration = (1..12).map(|n| backoff.nominal(n)).sum();
        assert!(total > Duration::from_secs(6 * 3600), "{total:?}");
    }
}
