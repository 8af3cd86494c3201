//! Re-sealing every endpoint's signing secrets under the current `WEBHOOK_SECRET_KEY`: the
//! step that lets an old key be retired (docs/webhooks.md, "Changing the key").
//!
//! Each endpoint's `secret` and `previous_secret` are read and, when plain or sealed with a
//! retired key, sealed again with the current key ([`crate::sealing::Keyring::reseal`]).
//! The write is a compare-and-set on the two stored values: an endpoint rotated meanwhile
//! (whose new values the API sealed itself) is left as the rotation wrote it. A value no
//! key of the ring opens is left untouched and reported, so the operator knows the old key
//! is still needed (or that the endpoint's secret must be rotated).

use bson::doc;
use futures::TryStreamExt;
use serde::Serialize;

use crate::sealing::{Keyring, Resealed};
use crate::store::{Endpoint, WebhookStore};

/// What a pass did, counted over the platform's endpoints. Endpoint ids only: no secret,
/// no tenant data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResealReport {
    /// Endpoints read.
    pub endpoints: u64,
    /// Endpoints whose secrets were written again under the current key.
    pub resealed: u64,
    /// Endpoints whose secrets were all under the current key already.
    pub current: u64,
    /// Endpoints changed (rotated, deleted) between the read and the write: left as they are.
    pub changed_meanwhile: u64,
    /// Endpoints with a secret no key opens: left as they are (ids).
    pub unopenable: Vec<String>,
}

/// Why a pass could not run.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    /// No key is configured: there is nothing to seal with.
    #[error("WEBHOOK_SECRET_KEY is not configured: there is no key to seal with")]
    NoKey,
    /// MongoDB failed.
    #[error("reading or writing webhook endpoints")]
    Store(#[from] mongodb::error::Error),
}

/// The endpoint's two stored values under the current key; `None` when nothing changes;
/// an error when a value does not open.
fn resealed(keys: &Keyring, endpoint: &Endpoint) -> Result<Option<(String, Option<String>)>, ()> {
    let secret = keys.reseal(&endpoint.id, &endpoint.secret).map_err(|_| ())?;
    let previous = match &endpoint.previous_secret {
        Some(stored) => Some(keys.reseal(&endpoint.id, stored).map_err(|_| ())?),
        None => None,
    };
    if secret == Resealed::Current && previous.as_ref().is_none_or(|p| *p == Resealed::Current) {
        return Ok(None);
    }
    let value = |resealed: Resealed, stored: &str| match resealed {
        Resealed::Current => stored.to_owned(),
        Resealed::Sealed(value) => value,
    };
    let secret = value(secret, &endpoint.secret);
    let previous = previous
        .zip(endpoint.previous_secret.as_deref())
        .map(|(r, stored)| value(r, stored));
    Ok(Some((secret, previous)))
}

/// Re-seals every endpoint of the platform (or of one tenant) under the store's current key.
pub async fn reseal_all(store: &WebhookStore, tenant: Option<&str>) -> Result<ResealReport, ResealError> {
    let keys = store.keyring().ok_or(ResealError::NoKey)?;
    let mut report = ResealReport::default();
    let filter = match tenant {
        Some(tenant) => doc! {"organization_id": tenant},
        None => doc! {},
    };
    let mut endpoints = store.endpoints().find(filter).await?;
    while let Some(endpoint) = endpoints.try_next().await? {
        report.endpoints += 1;
        let (secret, previous) = match resealed(keys, &endpoint) {
            Ok(Some(values)) => values,
            Ok(None) => {
                report.current += 1;
                continue;
            }
            Err(()) => {
                tracing::warn!(
                    endpoint = %endpoint.id,
                    "a signing secret of this endpoint opens with no configured key: left as it is"
                );
                report.unopenable.push(endpoint.id);
                continue;
            }
        };
        let written = store
            .endpoints()
            .update_one(
                doc! {"_id": &endpoint.id, "secret": &endpoint.secret, "previous_secret": endpoint.previous_secret.as_deref()},
                doc! {"$set": match previous {
                    Some(previous) => doc! {"secret": secret, "previous_secret": previous},
                    None => doc! {"secret": secret},
                }},
            )
            .await?;
        if written.matched_count == 1 {
            report.resealed += 1;
        } else {
            report.changed_meanwhile += 1;
        }
        if report.endpoints % 1000 == 0 {
            tracing::info!(
                endpoints = report.endpoints,
                resealed = report.resealed,
                "re-sealing webhook secrets"
            );
        }
    }
    Ok(report)
}
