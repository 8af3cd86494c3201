//! Read-your-writes: a query carrying the stream sequence a command returned waits
//! (bounded) until the tenant's projection checkpoint has reached it.

use std::time::Duration;

use mongodb::Database;
use tenantdb::collections::Target;
use tokio::time::Instant;

use crate::error::ApiError;

/// The tenant's checkpoint: everything up to it is in the read model.
pub async fn checkpoint(db: &Database) -> Result<u64, ApiError> {
    tenantdb::checkpoint::sequence(db, &Target::live())
        .await
        .map_err(ApiError::from)
}

/// Returns once the checkpoint is at least `wanted`, or 503 `projection_behind` after
/// `timeout`. Without a `wanted` sequence it returns at once.
pub async fn wait_for(db: &Database, wanted: Option<u64>, timeout: Duration) -> Result<(), ApiError> {
    let Some(wanted) = wanted else { return Ok(()) };
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        let current = checkpoint(db).await?;
        if current >= wanted {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ApiError::ProjectionBehind { wanted, current });
        }
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
