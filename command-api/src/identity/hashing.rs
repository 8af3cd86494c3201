//! [`PasswordHashing`]: argon2 work off the async runtime, with a bound.
//!
//! An argon2id hash or check takes tens of milliseconds of one core and 19 MiB of memory.
//! Run on the async runtime it stalls every other request on that worker thread (`/health`
//! went from 1.4 ms to 33 ms under a signup flood). So every hash and check runs on the
//! blocking pool (`spawn_blocking`), at most `workers` at a time; at most `queue` more
//! requests may wait for a slot. Past that the request is refused at once with 503
//! `overloaded` and `Retry-After`, instead of joining an unbounded queue that would hold
//! memory and answer long after the client gave up.
//!
//! The permit travels into the blocking task, so a client that disconnects does not free
//! its slot before the work it started has finished.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::identity::password;

/// Runs password hashing and checking on the blocking pool, bounded.
#[derive(Clone, Debug)]
pub struct PasswordHashing {
    /// Slots that may hash at the same time.
    workers: Arc<Semaphore>,
    /// Requests admitted: running plus waiting for a slot.
    admitted: Arc<Semaphore>,
}

impl PasswordHashing {
    /// `workers` hashes at a time (0: one per core), `queue` more waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = if workers == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            workers
        };
        Self {
            workers: Arc::new(Semaphore::new(workers)),
            admitted: Arc::new(Semaphore::new(workers + queue)),
        }
    }

    /// Runs `work` on the blocking pool once a slot is free; 503 `overloaded` when the
    /// slots and the queue are full.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let admitted = Arc::clone(&self.admitted).try_acquire_owned().map_err(|_| {
            metrics::counter!("password_hashing_refused_total").increment(1);
            ApiError::Overloaded
        })?;
        let slot = Arc::clone(&self.workers)
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("password hashing slots closed: {e}")))?;
        tokio::task::spawn_blocking(move || {
            let _held = (admitted, slot);
            work()
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("password hashing task: {e}")))
    }

    /// The argon2id hash of `password`.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || password::hash(&password)).await?
    }

    /// Whether `password` matches `hash`; with no hash (an unknown account) the password is
    /// checked against a decoy, so both answers take as long.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        self.run(move || match hash {
            Some(hash) => password::verify(&password, &hash),
            None => {
                // Same work as a real check; never matches.
                let _ = password::verify(&password, password::decoy());
                false
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_slots_and_the_queue_requests_are_refused_not_queued() {
        let hashing = PasswordHashing::new(1, 1);
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let first = {
            let hashing = hashing.clone();
            tokio::spawn(async move { hashing.run(move || hold.recv().is_ok()).await })
        };
        // Let the first take the slot, then queue a second.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let second = {
            let hashing = hashing.clone();
            tokio::spawn(async move { hashing.run(|| true).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(matches!(hashing.run(|| true).await, Err(ApiError::Overloaded)));
        release.send(()).expect("the first task waits");
        assert!(matches!(first.await, Ok(Ok(true))));
        assert!(matches!(second.await, Ok(Ok(true))));
        assert!(matches!(hashing.run(|| 7).await, Ok(7)), "slots come back");
    }
}
