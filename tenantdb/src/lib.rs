//! A tenant's MongoDB database: where it lives ([`TenantDatabases`]) and what it holds
//! (the typed read model: [`docs`], [`collections`], [`checkpoint`]).
//!
//! The read model is written by the projector only and read by the command API's queries,
//! the projector's replays and admin endpoints, and the tests, all through the types here:
//! no other crate names a collection, a field or a status in a string.
//!
//! [`TenantDatabases`]: where each tenant's database lives, with one shared client (and so
//! one connection pool) per MongoDB deployment, whatever the number of tenants.
//!
//! This is the seed's tenant connection cache, minus its flaw: a Mongoose connection per
//! tenant means a pool per tenant, so 10,000 tenants meant up to 100,000 connections. Here
//! a database handle is a name on a shared client; connections are bounded by the pool
//! size of each deployment.
//!
//! The placement map (collection `tenant_placements` of the main database: `{_id: tenant,
//! uri}`) lets a tenant live on another deployment; tenants without an entry use the main
//! one. It is re-read periodically.
//!
//! # Layout
//! - [`args`]: [`MongoArgs`], the MongoDB command-line flags, and connecting with them.
//! - [`docs`]: the documents of the read model, their status and kind enums and field
//!   names.
//! - [`collections`]: the collections a tenant database holds, typed handles on them and
//!   the shadow [`collections::Target`] of a replay.
//! - [`checkpoint`]: the projection's [`checkpoint::Checkpoint`] and its one reader.
//! - [`indexes`]: the indexes.

pub mod args;
pub mod checkpoint;
pub mod collections;
pub mod docs;
pub mod indexes;

pub use args::MongoArgs;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use events::TenantId;
use futures::TryStreamExt;
use mongodb::event::EventHandler;
use mongodb::event::cmap::{CmapEvent, ConnectionCheckoutFailedEvent};
use mongodb::options::{ClientOptions, Credential, WriteConcern};
use mongodb::{Client, Database};
use serde::Serialize;

/// Pool settings applied to every client (the seed's defaults).
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Most connections per deployment.
    pub max_pool_size: u32,
    /// Connections kept open.
    pub min_pool_size: u32,
    /// Longest a tenant's batch may spend in MongoDB. The Rust driver has no
    /// `socketTimeoutMS`; bounding each batch's work is its equivalent here.
    pub socket_timeout: Duration,
    /// How long to wait for a usable server.
    pub server_selection_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_pool_size: 10,
            min_pool_size: 2,
            socket_timeout: Duration::from_secs(45),
            server_selection_timeout: Duration::from_secs(5),
        }
    }
}

/// Connection pool counters, summed over deployments.
#[derive(Debug, Default)]
struct PoolCounters {
    created: AtomicU64,
    closed: AtomicU64,
    checked_out: AtomicU64,
    checked_in: AtomicU64,
    checkout_failed: AtomicU64,
    pool_cleared: AtomicU64,
}

/// A snapshot of the pool counters.
#[derive(Debug, Clone, Serialize)]
pub struct PoolStats {
    /// Connections opened so far.
    pub connections_created: u64,
    /// Connections closed so far.
    pub connections_closed: u64,
    /// Connections open now.
    pub connections_open: u64,
    /// Connections in use now.
    pub connections_in_use: u64,
    /// Failed checkouts (pool exhausted or server unreachable).
    pub checkout_failures: u64,
    /// Times a pool was cleared after an error.
    pub pool_clears: u64,
    /// Deployments with a client.
    pub deployments: usize,
    /// Tenant databases used since start.
    pub active_tenant_databases: usize,
    /// Tenants placed on another deployment.
    pub placed_tenants: usize,
}

/// Tenant databases on shared clients.
pub struct TenantDatabases {
    main: Client,
    main_uri: String,
    main_db: String,
    settings: PoolSettings,
    counters: Arc<PoolCounters>,
    clients: Mutex<HashMap<String, Client>>,
    placements: RwLock<BTreeMap<String, String>>,
    /// Tenants whose databases this process used.
    used: Mutex<HashSet<String>>,
    /// Tenants whose databases this process knows to be set up (see
    /// [`TenantDatabases::is_set_up`]).
    set_up: Mutex<HashSet<String>>,
    /// The service's own user, for deployments whose URI names none.
    credential: Option<Credential>,
}

impl TenantDatabases {
    /// Connects to the main deployment (lazily; the driver connects on first use).
    pub async fn new(main_uri: &str, main_db: &str, settings: PoolSettings) -> mongodb::error::Result<Self> {
        Self::new_as(main_uri, main_db, settings, None).await
    }

    /// Like [`TenantDatabases::new`], authenticating with `credential` on every deployment
    /// whose URI names no user (the service's own MongoDB user).
    pub async fn new_as(
        main_uri: &str,
        main_db: &str,
        settings: PoolSettings,
        credential: Option<Credential>,
    ) -> mongodb::error::Result<Self> {
        let counters = Arc::new(PoolCounters::default());
        let main = client(main_uri, settings, &counters, credential.as_ref()).await?;
        let databases = Self {
            main: main.clone(),
            main_uri: main_uri.to_owned(),
            main_db: main_db.to_owned(),
            settings,
            counters,
            clients: Mutex::new(HashMap::from([(main_uri.to_owned(), main)])),
            placements: RwLock::new(BTreeMap::new()),
            used: Mutex::new(HashSet::new()),
            set_up: Mutex::new(HashSet::new()),
            credential,
        };
        Ok(databases)
    }

    /// The main deployment's client.
    pub fn main_client(&self) -> &Client {
        &self.main
    }

    /// The main (shared) database, `liquor_pos_main` by default.
    pub fn main_database(&self) -> Database {
        self.main.database(&self.main_db)
    }

    /// Re-reads the placement map every `every` until `stop` completes, logging (and
    /// outliving) failures: the one placement refresher both services run.
    pub async fn refresh_placements_until(&self, every: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
            if let Err(err) = self.refresh_placements().await {
                tracing::warn!(error = %err, "refreshing the placement map failed");
            }
        }
    }

    /// Re-reads the placement map from the main database.
    pub async fn refresh_placements(&self) -> mongodb::error::Result<()> {
        #[derive(serde::Deserialize)]
        struct Placement {
            #[serde(rename = "_id")]
            tenant: String,
            uri: String,
        }
        let found: Vec<Placement> = self
            .main_database()
            .collection::<Placement>("tenant_placements")
            .find(bson::doc! {})
            .await?
            .try_collect()
            .await?;
        let map = found.into_iter().map(|p| (p.tenant, p.uri)).collect();
        if let Ok(mut placements) = self.placements.write() {
            *placements = map;
        }
        Ok(())
    }

    /// The URI of the deployment holding `tenant`.
    pub fn uri_of(&self, tenant: &TenantId) -> String {
        self.placements
            .read()
            .ok()
            .and_then(|placements| placements.get(tenant.as_str()).cloned())
            .unwrap_or_else(|| self.main_uri.clone())
    }

    /// The shared client of the deployment `uri`.
    pub async fn client_for(&self, uri: &str) -> mongodb::error::Result<Client> {
        let existing = self.clients.lock().ok().and_then(|clients| clients.get(uri).cloned());
        if let Some(client) = existing {
            return Ok(client);
        }
        let client = client(uri, self.settings, &self.counters, self.credential.as_ref()).await?;
        if let Ok(mut clients) = self.clients.lock() {
            return Ok(clients.entry(uri.to_owned()).or_insert_with(|| client.clone()).clone());
        }
        Ok(client)
    }

    /// Points `tenant` at the deployment `uri` in the placement map (no entry when `uri`
    /// is the main deployment), for this process at once and for the others at their next
    /// refresh.
    pub async fn place(&self, tenant: &TenantId, uri: &str) -> mongodb::error::Result<()> {
        let placements = self.main_database().collection::<bson::Document>("tenant_placements");
        if uri == self.main_uri {
            placements.delete_one(bson::doc! {"_id": tenant.as_str()}).await?;
        } else {
            placements
                .update_one(bson::doc! {"_id": tenant.as_str()}, bson::doc! {"$set": {"uri": uri}})
                .upsert(true)
                .await?;
        }
        if let Ok(mut map) = self.placements.write() {
            if uri == self.main_uri {
                map.remove(tenant.as_str());
            } else {
                map.insert(tenant.to_string(), uri.to_owned());
            }
        }
        self.forget(tenant);
        Ok(())
    }

    /// Tenants in the placement map.
    pub fn placed_tenants(&self) -> Vec<String> {
        self.placements
            .read()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The URI of the main deployment.
    pub fn main_uri(&self) -> &str {
        &self.main_uri
    }

    /// The database of `tenant`, on its deployment.
    pub async fn database(&self, tenant: &TenantId) -> mongodb::error::Result<Database> {
        let client = self.client_for(&self.uri_of(tenant)).await?;
        if let Ok(mut used) = self.used.lock()
            && !used.contains(tenant.as_str())
        {
            used.insert(tenant.to_string());
        }
        Ok(client.database(&tenant.database_name()))
    }

    /// Whether this process noted `tenant`'s database as set up (the projector: its
    /// indexes exist) since it started, or since the tenant was last forgotten.
    pub fn is_set_up(&self, tenant: &TenantId) -> bool {
        self.set_up
            .lock()
            .map(|set| set.contains(tenant.as_str()))
            .unwrap_or(false)
    }

    /// Notes `tenant`'s database as set up.
    pub fn mark_set_up(&self, tenant: &TenantId) {
        if let Ok(mut set) = self.set_up.lock() {
            set.insert(tenant.to_string());
        }
    }

    /// Forgets what this process knew of `tenant`'s database (after it was dropped or
    /// moved), so it is set up again on its next use.
    pub fn forget(&self, tenant: &TenantId) {
        for set in [&self.used, &self.set_up] {
            if let Ok(mut set) = set.lock() {
                set.remove(tenant.as_str());
            }
        }
    }

    /// Longest a tenant's batch may spend in MongoDB before it is retried.
    pub fn operation_timeout(&self) -> Duration {
        self.settings.socket_timeout
    }

    /// Pool and placement statistics.
    pub fn stats(&self) -> PoolStats {
        let c = &self.counters;
        let created = c.created.load(Ordering::Relaxed);
        let closed = c.closed.load(Ordering::Relaxed);
        let out = c.checked_out.load(Ordering::Relaxed);
        let back = c.checked_in.load(Ordering::Relaxed);
        PoolStats {
            connections_created: created,
            connections_closed: closed,
            connections_open: created.saturating_sub(closed),
            connections_in_use: out.saturating_sub(back),
            checkout_failures: c.checkout_failed.load(Ordering::Relaxed),
            pool_clears: c.pool_cleared.load(Ordering::Relaxed),
            deployments: self.clients.lock().map(|c| c.len()).unwrap_or_default(),
            active_tenant_databases: self.used.lock().map(|s| s.len()).unwrap_or_default(),
            placed_tenants: self.placements.read().map(|p| p.len()).unwrap_or_default(),
        }
    }
}

async fn client(
    uri: &str,
    settings: PoolSettings,
    counters: &Arc<PoolCounters>,
    credential: Option<&Credential>,
) -> mongodb::error::Result<Client> {
    let mut options = ClientOptions::parse(uri).await?;
    if options.credential.is_none() {
        options.credential = credential.cloned();
    }
    options.app_name = Some("tillstream-projector".to_owned());
    options.max_pool_size = Some(settings.max_pool_size);
    options.min_pool_size = Some(settings.min_pool_size);
    options.server_selection_timeout = Some(settings.server_selection_timeout);
    // A batch is acknowledged to JetStream only after its writes are durable.
    if options.write_concern.is_none() {
        options.write_concern = Some(WriteConcern::majority());
    }
    let counters = Arc::clone(counters);
    options.cmap_event_handler = Some(EventHandler::callback(move |event: CmapEvent| {
        let counter = match event {
            CmapEvent::ConnectionCreated(_) => &counters.created,
            CmapEvent::ConnectionClosed(_) => &counters.closed,
            CmapEvent::ConnectionCheckedOut(_) => &counters.checked_out,
            CmapEvent::ConnectionCheckedIn(_) => &counters.checked_in,
            CmapEvent::ConnectionCheckoutFailed(ConnectionCheckoutFailedEvent { .. }) => &counters.checkout_failed,
            CmapEvent::PoolCleared(_) => &counters.pool_cleared,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }));
    Client::with_options(options)
}
