//! What every handler shares.

use std::net::IpAddr;
use std::sync::Arc;

use crate::api::Api;
use crate::session::Sessions;

/// The application state.
#[derive(Clone)]
pub struct AppState {
    /// The command API.
    pub api: Api,
    /// The projector's admin server (operator console), when configured.
    pub projector: Option<Api>,
    /// The session store.
    pub sessions: Sessions,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<IpAddr>>,
    /// The only origin forms may come from, when configured (else the `Host`'s).
    pub public_origin: Option<Arc<str>>,
}
