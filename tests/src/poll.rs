//! Waiting for a condition with a deadline instead of sleeping.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Polls `check` until it returns `Ok(Some(value))`, or fails once `timeout` has passed,
/// reporting what was last seen. `Ok(None)` means "not yet"; `Err` aborts at once.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn returns_the_value_once_the_condition_holds() {
        let calls = AtomicU32::new(0);
        let value = eventually("third call", Duration::from_secs(5), || async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            Ok((n >= 3).then_some(n))
        })
        .await
        .expect("condition holds");
        assert_eq!(value, 3);
    }

    #[tokio::test]
    async fn fails_with_the_description_after_the_deadline() {
        let err = eventually::<(), _, _>("never", Duration::from_millis(30), || async { Ok(None) })
            .await
            .expect_err("times out");
        assert!(err.to_string().contains("never"), "{err}");
    }
}
