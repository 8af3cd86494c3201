//! The state every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use eventstore::EventStore;
use metrics_exporter_prometheus::PrometheusHandle;

use tenantdb::TenantDatabases;

use crate::auth::JwtKeys;
use crate::catalog_ages::CatalogAges;
use crate::identity::Identity;

/// Shared application state.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Where events are appended.
    pub store: EventStore,
    /// Token verification keys.
    pub keys: Arc<JwtKeys>,
    /// Age restrictions of products.
    pub catalog: CatalogAges,
    /// Tenant databases (read models), with the placement map.
    pub databases: Arc<TenantDatabases>,
    /// How long a query waits for its `min_sequence`.
    pub read_your_writes_timeout: std::time::Duration,
    /// Signup, login, tokens and users.
    pub identity: Arc<Identity>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
}
