//! Login attempts per email and per client address, in memory: a fixed budget per window.
//! Each API process counts its own attempts; behind N processes the effective budget is N
//! times larger (documented trade-off: no shared store on the login path).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use moka::sync::Cache;

/// Counts attempts and says when a key has used its budget.
#[derive(Clone)]
pub struct RateLimiter {
    by_email: Cache<String, Arc<AtomicU32>>,
    by_address: Cache<IpAddr, Arc<AtomicU32>>,
    per_email: u32,
    per_address: u32,
    window: Duration,
}

impl RateLimiter {
    /// `per_email` and `per_address` attempts per `window`.
    pub fn new(per_email: u32, per_address: u32, window: Duration) -> Self {
        Self {
            by_email: Cache::builder().max_capacity(100_000).time_to_live(window).build(),
            by_address: Cache::builder().max_capacity(100_000).time_to_live(window).build(),
            per_email,
            per_address,
            window,
        }
    }

    /// Records an attempt; `Err(retry_after)` when the email or the address is over budget.
    pub fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let count = |counter: Arc<AtomicU32>| counter.fetch_add(1, Ordering::Relaxed) + 1;
        let by_email = count(self.by_email.get_with(email.to_owned(), || Arc::new(AtomicU32::new(0))));
        let by_address = address.map_or(0, |ip| {
            count(self.by_address.get_with(ip, || Arc::new(AtomicU32::new(0))))
        });
        if by_email > self.per_email || by_address > self.per_address {
            Err(self.window)
        } else {
            Ok(())
        }
    }

    /// Forgets an email's failures after a successful login.
    pub fn succeeded(&self, email: &str) {
        self.by_email.invalidate(email);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_per_email_and_per_address() {
        let limiter = RateLimiter::new(3, 5, Duration::from_secs(60));
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..3 {
            assert!(limiter.attempt("a@example.com", Some(ip)).is_ok());
        }
        assert!(limiter.attempt("a@example.com", Some(ip)).is_err());
        assert!(limiter.attempt("b@example.com", Some(ip)).is_ok());
        assert!(
            limiter.attempt("c@example.com", Some(ip)).is_err(),
            "the address has used its 5"
        );
        limiter.succeeded("b@example.com");
    }
}
