//! Shutdown plumbing: a `watch` flag that tasks wait on between units of work.

use tokio::sync::watch;

/// Completes once `flag` is true (or its sender is gone).
pub async fn requested(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|stop| *stop).await;
}
