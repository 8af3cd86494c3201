//! [`MongoArgs`]: where the read models are, as command-line flags (each with its
//! environment variable), declared once and flattened into every binary's configuration,
//! with the one way to connect with them.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::{PoolSettings, TenantDatabases};

/// The main MongoDB deployment, the shared database, and the pool settings of every
/// deployment's client.
#[derive(Debug, Clone, clap::Args)]
pub struct MongoArgs {
    /// MongoDB deployment holding the main database and, unless placed elsewhere, the
    /// tenant databases.
    #[arg(
        long,
        global = true,
        env = "MONGODB_URI",
        default_value = "mongodb://127.0.0.1:27017"
    )]
    pub mongodb_uri: String,

    /// The shared database (organizations, users, pending signups, tenant placements).
    #[arg(long, global = true, env = "MAIN_DB", default_value = "liquor_pos_main")]
    pub main_db: String,

    /// Most connections per MongoDB deployment.
    #[arg(long, global = true, env = "MONGO_MAX_POOL_SIZE", default_value_t = 10)]
    pub max_pool_size: u32,

    /// Connections kept open per deployment.
    #[arg(long, global = true, env = "MONGO_MIN_POOL_SIZE", default_value_t = 2)]
    pub min_pool_size: u32,

    /// Longest a tenant's batch (or a request) may spend in MongoDB, seconds.
    #[arg(long, global = true, env = "MONGO_SOCKET_TIMEOUT_SECS", default_value_t = 45)]
    pub socket_timeout_secs: u64,

    /// How long to wait for a usable server before giving up, seconds (the command API
    /// then answers 503).
    #[arg(
        long,
        global = true,
        env = "MONGO_SERVER_SELECTION_TIMEOUT_SECS",
        default_value_t = 5
    )]
    pub server_selection_timeout_secs: u64,

    /// MongoDB user of this service (a deployment with users: scripts/mongo-users,
    /// compose.yaml), authenticated against the `admin` database on every deployment whose
    /// URI carries no credentials of its own; unset connects as the URI says.
    #[arg(long, global = true, env = "MONGODB_USER", requires = "mongodb_password")]
    pub mongodb_user: Option<String>,

    /// Password of `MONGODB_USER`.
    #[arg(
        long,
        global = true,
        env = "MONGODB_PASSWORD",
        hide_env_values = true,
        requires = "mongodb_user"
    )]
    pub mongodb_password: Option<SecretString>,
}

impl MongoArgs {
    /// The pool settings these flags describe.
    pub fn pool(&self) -> PoolSettings {
        PoolSettings {
            max_pool_size: self.max_pool_size,
            min_pool_size: self.min_pool_size,
            socket_timeout: Duration::from_secs(self.socket_timeout_secs),
            server_selection_timeout: Duration::from_secs(self.server_selection_timeout_secs),
        }
    }

    /// The tenant databases, on a client of the main deployment (no connection is made
    /// before the first request).
    pub async fn connect(&self) -> mongodb::error::Result<TenantDatabases> {
        TenantDatabases::new_as(&self.mongodb_uri, &self.main_db, self.pool(), self.credential()).await
    }

    /// The credential of `MONGODB_USER` / `MONGODB_PASSWORD`, if set.
    pub fn credential(&self) -> Option<mongodb::options::Credential> {
        let (user, password) = (self.mongodb_user.as_ref()?, self.mongodb_password.as_ref()?);
        Some(
            mongodb::options::Credential::builder()
                .username(user.clone())
                .password(password.expose_secret().to_owned())
                .source("admin".to_owned())
                .build(),
        )
    }
}
