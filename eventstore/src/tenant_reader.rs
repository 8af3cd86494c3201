//! Reading every message of one tenant back in stream order: what replays, exports and
//! verifications fold or copy.

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::{Ordered, OrderedConfig};
use events::TenantId;
use futures::StreamExt;

use crate::delivery::Delivery;
use crate::error::StreamError;
use crate::store::EventStore;

/// An ordered reader of one tenant's subjects (control markers included): ephemeral,
/// flow-controlled and recreated by the client on a gap. It delivers what was stored when
/// it opened and whatever is stored after; [`Delivery::pending`] says how much is left.
pub struct TenantReader {
    tenant: TenantId,
    /// `None` when there was nothing to read at opening.
    messages: Option<Ordered>,
    pending: u64,
}

impl EventStore {
    /// A reader of every message on `tenant`'s subjects from stream sequence `from` on.
    pub async fn tenant_reader(&self, tenant: &TenantId, from: u64) -> Result<TenantReader, StreamError> {
        self.open_tenant_reader(tenant, from, false).await
    }

    /// Like [`EventStore::tenant_reader`], but a reader that found nothing to read at
    /// opening still waits for what is stored after: the tail a long-poll or a live feed
    /// follows. [`TenantReader::next`] then only ends when the reader stops; bound it with
    /// a timeout.
    pub async fn tenant_follower(&self, tenant: &TenantId, from: u64) -> Result<TenantReader, StreamError> {
        self.open_tenant_reader(tenant, from, true).await
    }

    async fn open_tenant_reader(
        &self,
        tenant: &TenantId,
        from: u64,
        follow: bool,
    ) -> Result<TenantReader, StreamError> {
        let deliver_policy = if from <= 1 {
            DeliverPolicy::All
        } else {
            DeliverPolicy::ByStartSequence { start_sequence: from }
        };
        let failed = |e: async_nats::Error| StreamError::new(format!("opening a reader of {tenant}"), e);
        let consumer = self
            .stream()
            .create_consumer(OrderedConfig {
                filter_subject: self.scheme().tenant_filter(tenant),
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|e| failed(e.into()))?;
        let pending = consumer.cached_info().num_pending;
        let messages = if pending > 0 || follow {
            Some(consumer.messages().await.map_err(|e| failed(e.into()))?)
        } else {
            None
        };
        Ok(TenantReader {
            tenant: tenant.clone(),
            messages,
            pending,
        })
    }
}

impl TenantReader {
    /// How many messages there were to read when the reader opened.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// The next message; `None` when the reader had nothing to read at opening or stopped.
    /// Waits for one to be stored otherwise: bound it with a timeout.
    pub async fn next(&mut self) -> Option<Result<Delivery, StreamError>> {
        let message = self.messages.as_mut()?.next().await?;
        let failed = |e: async_nats::Error| StreamError::new(format!("reading {}'s messages", self.tenant), e);
        Some(
            message
                .map_err(|e| failed(e.into()))
                .and_then(|message| Delivery::with_info(message).map_err(failed)),
        )
    }
}
