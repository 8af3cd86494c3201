//! Where the shared test servers are, and clients connected to them.
//!
//! The addresses come from `NATS_URL` and `MONGODB_URI` (exported by `scripts/test` from
//! what `scripts/services up` started), defaulting to the script's default ports.

use anyhow::Context;

/// NATS address used when `NATS_URL` is unset: `scripts/services`' default port.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";
/// MongoDB address used when `MONGODB_URI` is unset: `scripts/services`' default port.
pub const DEFAULT_MONGODB_URI: &str = "mongodb://127.0.0.1:27017";

/// The NATS server the tests use.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| DEFAULT_NATS_URL.to_owned())
}

/// The MongoDB server the tests use (credentials, if any, come from `MONGODB_USER` /
/// `MONGODB_PASSWORD`, see [`mongo_client`]).
pub fn mongodb_uri() -> String {
    std::env::var("MONGODB_URI").unwrap_or_else(|_| DEFAULT_MONGODB_URI.to_owned())
}

/// A NATS connection to the test server, as `NATS_USER` / `NATS_PASSWORD` when both are set
/// (a server with users: the tests need the `ops` user's rights).
pub async fn nats_client() -> anyhow::Result<async_nats::Client> {
    let url = nats_url();
    let options = match (std::env::var("NATS_USER"), std::env::var("NATS_PASSWORD")) {
        (Ok(user), Ok(password)) => async_nats::ConnectOptions::with_user_and_password(user, password),
        _ => async_nats::ConnectOptions::new(),
    };
    options
        .connection_timeout(std::time::Duration::from_secs(5))
        .connect(&url)
        .await
        .with_context(|| format!("connecting to NATS at {url} (is `scripts/services up` running?)"))
}

/// A MongoDB client for the test server; it fails fast if the server is not there.
pub async fn mongo_client() -> anyhow::Result<mongodb::Client> {
    mongo_client_at(&mongodb_uri()).await
}

/// A MongoDB client for the shared test deployment at `uri` (the main one or
/// `MONGODB_URI_SECONDARY`), as `MONGODB_USER` when set; it fails fast if the server is not
/// there.
pub async fn mongo_client_at(uri: &str) -> anyhow::Result<mongodb::Client> {
    let uri = uri.to_owned();
    let mut options = mongodb::options::ClientOptions::parse(&uri)
        .await
        .with_context(|| format!("parsing MONGODB_URI {uri}"))?;
    options.server_selection_timeout = Some(std::time::Duration::from_secs(5));
    options.app_name = Some("tillstream-tests".to_owned());
    // A deployment with users (scripts/services with TILLSTREAM_MONGO_AUTH=1): the
    // operator's, from the environment, like the services' MONGODB_USER / MONGODB_PASSWORD.
    if let (None, Ok(user), Ok(password)) = (
        &options.credential,
        std::env::var("MONGODB_USER"),
        std::env::var("MONGODB_PASSWORD"),
    ) {
        options.credential = Some(
            mongodb::options::Credential::builder()
                .username(user)
                .password(password)
                .source("admin".to_owned())
                .build(),
        );
    }
    let client = mongodb::Client::with_options(options).context("building the MongoDB client")?;
    client
        .database("admin")
        .run_command(bson::doc! {"ping": 1})
        .await
        .with_context(|| format!("pinging MongoDB at {uri} (is `scripts/services up` running?)"))?;
    Ok(client)
}

/// Both servers, connected.
#[derive(Clone)]
pub struct Servers {
    /// Core NATS connection.
    pub nats: async_nats::Client,
    /// JetStream context on that connection.
    pub jetstream: async_nats::jetstream::Context,
    /// MongoDB client (one pool for every database).
    pub mongo: mongodb::Client,
}

impl Servers {
    /// Connects to both servers.
    pub async fn connect() -> anyhow::Result<Self> {
        let nats = nats_client().await?;
        let jetstream = async_nats::jetstream::new(nats.clone());
        let mongo = mongo_client().await?;
        Ok(Self { nats, jetstream, mongo })
    }
}
