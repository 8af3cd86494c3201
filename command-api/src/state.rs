//! The state every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use eventstore::EventStore;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::JwtKeys;
use crate::catalog_ages::CatalogAges;

/// Shared application state.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Where events are appended.
    pub store: EventStore,
    /// Token verification keys.
    pub keys: Arc<JwtKeys>,
    /// Age restrictions of products.
    pub catalog: CatalogAges,
    /// MongoDB (read models), for readiness.
    pub mongo: mongodb::Client,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
}
