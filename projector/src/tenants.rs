//! The tenants the projector keeps, for the admin server's `GET /v1/tenants`: each one's
//! placement, stream head, checkpoint, lag, parked events and a replay in progress.
//!
//! A tenant is kept when it has a database: `tenant_<id>` on the main deployment, or on
//! the deployment the placement map names. The list is in tenant id order and paged
//! (`after` the last id of the previous page, at most [`MAX_PAGE`] per page), since every
//! row costs a few requests (the stream head from NATS, the checkpoint, the parked count and
//! the collection names from MongoDB).
//!
//! A replay in progress is seen in the tenant's database itself: it rebuilds into shadow
//! collections (`replay_*`) whose own checkpoint tells how far it got; the collections are
//! renamed over the live ones when the live projector reaches the replay's marker, so
//! they exist exactly while the replay runs.

use std::collections::BTreeSet;

use bson::doc;
use events::TenantId;
use eventstore::EventStore;
use futures::StreamExt;
use serde::Serialize;
use tenantdb::collections::{self, Target};

use crate::replay::SHADOW_PREFIX;
use crate::store::TenantDatabases;

/// Most tenants on one page.
pub const MAX_PAGE: usize = 200;
/// Tenants read at once for a page.
const CONCURRENCY: usize = 8;

/// One tenant's row.
#[derive(Debug, Clone, Serialize)]
pub struct TenantRow {
    /// The tenant id.
    pub tenant: String,
    /// The deployment holding its database, without credentials (`main` for the main one).
    pub placement: String,
    /// The stream sequence of its newest message (0 when it has none).
    pub stream_head: u64,
    /// The sequence its read model has applied.
    pub checkpoint: u64,
    /// `stream_head - checkpoint`.
    pub lag: u64,
    /// Parked events.
    pub parked: u64,
    /// A replay in progress, if any.
    pub replay: Option<ReplayProgress>,
}

/// How far a replay (a rebuild into shadow collections) got.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayProgress {
    /// The sequence the shadow read model has applied.
    pub checkpoint: u64,
    /// The tenant's stream head.
    pub stream_head: u64,
    /// `checkpoint / stream_head` in percent, rounded down.
    pub percent: u64,
}

/// A page of tenants.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// The rows, by tenant id.
    pub tenants: Vec<TenantRow>,
    /// The `after` of the next page, when there may be more.
    pub next_after: Option<String>,
}

/// A failed listing.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// MongoDB failed.
    #[error(transparent)]
    Mongo(#[from] mongodb::error::Error),
    /// NATS failed.
    #[error(transparent)]
    Stream(#[from] eventstore::ReadError),
}

/// The deployment `uri` without its user and password.
pub fn placement_label(uri: &str, main_uri: &str) -> String {
    if uri == main_uri {
        return "main".to_owned();
    }
    match uri.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            let host = host.split(['/', '?']).next().unwrap_or(host);
            format!("{scheme}://{host}")
        }
        None => "(unparsable uri)".to_owned(),
    }
}

/// Up to `limit` tenants (at most [`MAX_PAGE`]) whose id sorts after `after`.
pub async fn list(
    store: &EventStore,
    databases: &TenantDatabases,
    after: Option<&str>,
    limit: usize,
) -> Result<Page, ListError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let prefix = TenantId::DATABASE_PREFIX;
    let mut ids: BTreeSet<String> = databases
        .main_client()
        .list_database_names()
        .filter(doc! {"name": {"$regex": format!("^{prefix}")}})
        .await?
        .into_iter()
        .filter_map(|name| name.strip_prefix(prefix).map(str::to_owned))
        .collect();
    ids.extend(databases.placed_tenants());
    let chosen: Vec<TenantId> = ids
        .into_iter()
        .filter(|id| after.is_none_or(|after| id.as_str() > after))
        .filter_map(|id| TenantId::parse(id).ok())
        .take(limit + 1)
        .collect();
    let more = chosen.len() > limit;
    let rows: Vec<Result<TenantRow, ListError>> = futures::stream::iter(chosen.into_iter().take(limit))
        .map(|tenant| async move { row(store, databases, &tenant).await })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let tenants = rows.into_iter().collect::<Result<Vec<_>, _>>()?;
    let next_after = if more {
        tenants.last().map(|row| row.tenant.clone())
    } else {
        None
    };
    Ok(Page { tenants, next_after })
}

async fn row(store: &EventStore, databases: &TenantDatabases, tenant: &TenantId) -> Result<TenantRow, ListError> {
    let uri = databases.uri_of(tenant);
    // Read only: no first-use work (indexes) for a tenant this process does not project.
    let db = databases.client_for(&uri).await?.database(&tenant.database_name());
    let stream_head = store.tenant_head(tenant).await?.unwrap_or(0);
    let checkpoint = tenantdb::checkpoint::sequence(&db, &Target::live()).await?;
    let parked = db
        .collection::<bson::Document>(collections::PARKED)
        .count_documents(doc! {})
        .await?;
    let shadow = Target::shadow(SHADOW_PREFIX);
    let replaying = !db
        .list_collection_names()
        .filter(doc! {"name": shadow.name(collections::CHECKPOINTS)})
        .await?
        .is_empty();
    let replay = if replaying {
        let done = tenantdb::checkpoint::sequence(&db, &shadow).await?;
        Some(ReplayProgress {
            checkpoint: done,
            stream_head,
            percent: (done.min(stream_head) * 100).checked_div(stream_head).unwrap_or(100),
        })
    } else {
        None
    };
    Ok(TenantRow {
        tenant: tenant.to_string(),
        placement: placement_label(&uri, databases.main_uri()),
        stream_head,
        checkpoint,
        lag: stream_head.saturating_sub(checkpoint),
        parked,
        replay,
    })
}

#[cfg(test)]
mod tests {
    use super::placement_label;

    #[test]
    fn a_placement_shows_no_credentials() {
        assert_eq!(placement_label("mongodb://a:1", "mongodb://a:1"), "main");
        assert_eq!(
            placement_label("mongodb://user:secret@db2.example:27017/?tls=true", "mongodb://a:1"),
            "mongodb://db2.example:27017"
        );
        assert_eq!(placement_label("garbage", "mongodb://a:1"), "(unparsable uri)");
    }
}
