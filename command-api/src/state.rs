//! The state every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use eventstore::EventStore;
use metrics_exporter_prometheus::PrometheusHandle;

use tenantdb::TenantDatabases;

use crate::auth::{JwtKeys, Subjects};
use crate::commands::catalog::ProductState;
use crate::commands::locations::LocationState;
use crate::commands::sales::settings::{SalesSettingsId, SalesSettingsState};
use crate::commands::taxes::JurisdictionState;
use crate::folded::Folded;
use crate::identity::Identity;
use events::tax::JurisdictionId;
use events::{LocationId, Sku};

/// Shared application state: one allocation, so that handing it to a request (axum clones
/// the state for every extractor that asks for it) is one reference count, not one per
/// field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Wraps the parts.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for Arc<JwtKeys> {
    fn from_ref(state: &AppState) -> Self {
        state.keys.clone()
    }
}

impl FromRef<AppState> for Arc<Subjects> {
    fn from_ref(state: &AppState) -> Self {
        state.subjects.clone()
    }
}

impl FromRef<AppState> for Arc<Identity> {
    fn from_ref(state: &AppState) -> Self {
        state.identity.clone()
    }
}

/// What the state holds.
pub struct Shared {
    /// Where events are appended.
    pub store: EventStore,
    /// Token verification keys.
    pub keys: Arc<JwtKeys>,
    /// Whether a token's tenant, user and session still exist (cached briefly).
    pub subjects: Arc<Subjects>,
    /// Locations: whether commands may name them, and their business day.
    pub locations: Folded<LocationId, LocationState>,
    /// Tax jurisdictions, for quotes and the pricing of sales.
    pub jurisdictions: Folded<JurisdictionId, JurisdictionState>,
    /// Products (price, tax class, container, minimum age), for sales and quotes.
    pub products: Folded<Sku, ProductState>,
    /// The tenant's sales settings (the back-dating window), for sales.
    pub sales_settings: Folded<SalesSettingsId, SalesSettingsState>,
    /// Tenant databases (read models), with the placement map.
    pub databases: Arc<TenantDatabases>,
    /// How long a query waits for its `min_sequence`.
    pub read_your_writes_timeout: std::time::Duration,
    /// Longest a feed page waits for a new event (`FEED_MAX_WAIT_MS`, kept under the
    /// query timeout).
    pub feed_max_wait: std::time::Duration,
    /// How long a feed event stream stays open before the server closes it (the client
    /// reconnects with `Last-Event-ID`).
    pub feed_stream_max: std::time::Duration,
    /// Webhook endpoints and deliveries (the shared database).
    pub webhooks: webhooks::store::WebhookStore,
    /// Whether webhook endpoints may be on private hosts (`WEBHOOK_ALLOW_PRIVATE_HOSTS`).
    pub webhook_allow_private_hosts: bool,
    /// Signup, login, tokens and users.
    pub identity: Arc<Identity>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
}
