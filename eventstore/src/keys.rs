//! Client idempotency keys, per tenant and across aggregates.
//!
//! A command sent with an `Idempotency-Key` claims the key before it runs: the tenant's
//! key is created in a JetStream key-value bucket (`<stream>_KEYS`) with the request's
//! fingerprint as its value, an atomic "create if absent". Under an existing key, the same
//! fingerprint is the same request (the command then runs and finds its own event: the
//! original answer) and another fingerprint is a different request (409), whatever
//! aggregate it names. Events keep their key forever too, so within one aggregate a retry
//! is recognised however old; the bucket adds the check across aggregates for as long as
//! it keeps a key ([`StreamSettings::key_retention`](crate::StreamSettings), 30 days by
//! default).
//!
//! Bucket keys are `<tenant>.<SHA-256 of the client's key>`, so any client string is a
//! valid key and a tenant's keys can be purged together.

use std::time::Duration;

use async_nats::jetstream::kv::{self, CreateErrorKind};
use async_nats::jetstream::{self, stream::StorageType};
use events::TenantId;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::error::AppendError;

/// What claiming a key found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key was free and is now this request's; `revision` releases it
    /// ([`EventStore::release_key`](crate::EventStore::release_key)) if the command is refused.
    New {
        /// The key's revision in the bucket.
        revision: u64,
    },
    /// The key was claimed by a request with the same fingerprint: a retry.
    Same,
    /// The key was claimed by a different request.
    Different,
}

/// The tenant keys' bucket, created on first use.
pub(crate) struct IdempotencyKeys {
    bucket: String,
    replicas: usize,
    retention: Duration,
    store: OnceCell<kv::Store>,
}

impl IdempotencyKeys {
    pub(crate) fn new(stream: &str, replicas: usize, retention: Duration) -> Self {
        Self {
            bucket: bucket_name(stream),
            replicas,
            retention,
            store: OnceCell::new(),
        }
    }

    async fn store(&self, jetstream: &jetstream::Context) -> Result<&kv::Store, AppendError> {
        self.store
            .get_or_try_init(|| async {
                jetstream
                    .create_or_update_key_value(kv::Config {
                        bucket: self.bucket.clone(),
                        description: "tillstream: client idempotency keys per tenant".to_owned(),
                        history: 1,
                        max_age: self.retention,
                        storage: StorageType::File,
                        num_replicas: self.replicas,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| AppendError::Unavailable(e.into()))
            })
            .await
    }

    /// Claims `key` of `tenant` for the request with `fingerprint`.
    pub(crate) async fn claim(
        &self,
        jetstream: &jetstream::Context,
        tenant: &TenantId,
        key: &str,
        fingerprint: &str,
    ) -> Result<KeyClaim, AppendError> {
        let store = self.store(jetstream).await?;
        let name = entry_name(tenant, key);
        match store.create(&name, fingerprint.as_bytes().to_vec().into()).await {
            Ok(revision) => Ok(KeyClaim::New { revision }),
            Err(err) if err.kind() == CreateErrorKind::AlreadyExists => {
                let held = store.get(&name).await.map_err(|e| AppendError::Unavailable(e.into()))?;
                match held {
                    Some(value) if value.as_ref() == fingerprint.as_bytes() => Ok(KeyClaim::Same),
                    Some(_) => Ok(KeyClaim::Different),
                    // Released between the two reads: the next attempt will claim it.
                    None => Ok(KeyClaim::Same),
                }
            }
            Err(err) if err.kind() == CreateErrorKind::InvalidKey => Err(AppendError::Rejected(err.into())),
            Err(err) => Err(AppendError::Unavailable(err.into())),
        }
    }

    /// Gives `key` back, if it is still at `revision` (the claim of a refused command).
    pub(crate) async fn release(
        &self,
        jetstream: &jetstream::Context,
        tenant: &TenantId,
        key: &str,
        revision: u64,
    ) -> Result<(), AppendError> {
        let store = self.store(jetstream).await?;
        store
            .delete_expect_revision(entry_name(tenant, key), Some(revision))
            .await
            .map_err(|e| AppendError::Unavailable(e.into()))
    }

    /// The subject filter of `tenant`'s keys in the bucket's stream, and that stream's name.
    pub(crate) fn tenant_filter(&self, tenant: &TenantId) -> (String, String) {
        (format!("KV_{}", self.bucket), format!("$KV.{}.{tenant}.>", self.bucket))
    }
}

/// The bucket of the event stream `stream`.
pub fn bucket_name(stream: &str) -> String {
    format!("{stream}_KEYS")
}

fn entry_name(tenant: &TenantId, key: &str) -> String {
    format!("{tenant}.{}", hex::encode(Sha256::digest(key.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_per_tenant_and_valid_whatever_the_client_sent() {
        let a = TenantId::parse("tenant-a").expect("a valid tenant");
        let b = TenantId::parse("tenant-b").expect("a valid tenant");
        let odd = "key with spaces/dots.and*wildcards>";
        assert_ne!(entry_name(&a, odd), entry_name(&b, odd));
        assert_eq!(entry_name(&a, odd), entry_name(&a, odd));
        let name = entry_name(&a, odd);
        assert!(name.starts_with("tenant-a."));
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        );
    }
}
