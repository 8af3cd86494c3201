//! Operations on the stream as a whole: its state, and erasing a tenant (its events and
//! its idempotency keys).

use events::TenantId;

use crate::error::StreamError;
use crate::store::EventStore;

/// What the stream holds right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamState {
    /// Messages stored.
    pub messages: u64,
    /// Sequence of the newest message (0 for a stream that never held one).
    pub last_sequence: u64,
}

impl EventStore {
    /// The stream's current state, asked of the server.
    pub async fn state(&self) -> Result<StreamState, StreamError> {
        let info = self
            .stream()
            .get_info()
            .await
            .map_err(|e| StreamError::new(format!("reading the state of stream {}", self.stream_name()), e))?;
        Ok(StreamState {
            messages: info.state.messages,
            last_sequence: info.state.last_sequence,
        })
    }

    /// Removes every message on `tenant`'s subjects from the stream (erasure; single
    /// events can never be deleted). Returns how many were removed.
    pub async fn purge_tenant(&self, tenant: &TenantId) -> Result<u64, StreamError> {
        let purged = self
            .stream()
            .purge()
            .filter(self.scheme().tenant_filter(tenant))
            .await
            .map_err(|e| StreamError::new(format!("purging {tenant}'s messages"), e))?;
        self.purge_tenant_keys(tenant).await?;
        Ok(purged.purged)
    }

    /// Removes `tenant`'s idempotency keys (nothing to do if the bucket was never made).
    async fn purge_tenant_keys(&self, tenant: &TenantId) -> Result<(), StreamError> {
        let (stream, filter) = self.keys().tenant_filter(tenant);
        match self.jetstream().get_stream(&stream).await {
            Ok(keys) => {
                keys.purge()
                    .filter(filter)
                    .await
                    .map_err(|e| StreamError::new(format!("purging {tenant}'s idempotency keys"), e))?;
                Ok(())
            }
            Err(err)
                if matches!(err.kind(), async_nats::jetstream::context::GetStreamErrorKind::JetStream(e)
                    if e.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND) =>
            {
                tracing::debug!(%stream, "no idempotency keys to purge");
                Ok(())
            }
            Err(err) => Err(StreamError::new(format!("opening {stream}"), err)),
        }
    }
}
