//! Building and running the application: connections, state, routes, middleware, the
//! listener and graceful shutdown.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router, middleware};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::auth::{JwtKeys, Subjects};
use crate::config::{Config, HttpLimits};
use crate::error::ApiError;
use crate::folded::Folded;
use crate::identity::{
    self, ApiKeys, Identity, IdentityStore, Limit, LoginPolicy, Mailer, PasswordHashing, Throttle, TokenIssuer,
};
use crate::routes;
use crate::server::{self, requests::RequestLimits};
use crate::state::{AppState, Shared};
use telemetry::OpsToken;
use tenantdb::TenantDatabases;

/// A built application, bound to its port but not yet serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
    databases: Arc<TenantDatabases>,
    http: HttpLimits,
}

/// How often the placement map is re-read.
const PLACEMENT_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

impl Application {
    /// Connects to NATS (creating the stream if needed) and MongoDB, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let keys = Arc::new(JwtKeys::from_config(&config).context("loading JWT keys")?);
        let store = config
            .stream
            .connect("tillstream-command-api", config.publish_timeout())
            .await?;
        let databases = Arc::new(config.mongo.connect().await.context("configuring the MongoDB client")?);
        if let Err(err) = databases.refresh_placements().await {
            tracing::warn!(error = %err, "cannot read the placement map yet; using the main deployment");
        }

        let ttl = std::time::Duration::from_secs(config.catalog_cache_ttl_secs);
        let locations = Folded::new(store.clone(), config.catalog_cache_capacity, ttl);
        let jurisdictions = Folded::new(store.clone(), config.catalog_cache_capacity, ttl);
        let products = Folded::new(store.clone(), config.catalog_cache_capacity, ttl);
        let sales_settings = Folded::new(store.clone(), config.catalog_cache_capacity, ttl);
        let metrics = telemetry::metrics_recorder();
        let identity = Arc::new(identity(&config, &databases).await?);
        let placements = Arc::clone(&databases);
        let subjects = Arc::new(Subjects::new(
            databases.main_database(),
            std::time::Duration::from_secs(config.token_recheck_secs),
            100_000,
        ));
        let webhook_key = config
            .webhook_secret_key
            .key_or_warn()
            .context("reading WEBHOOK_SECRET_KEY")?;
        let webhooks = webhooks::store::WebhookStore::new(databases.main_database()).with_secret_key(webhook_key);
        if let Err(err) = webhooks.ensure_indexes().await {
            tracing::warn!(error = %err, "cannot create the webhook indexes yet");
        }
        let state = AppState::new(Shared {
            webhooks,
            webhook_allow_private_hosts: config.webhook_allow_private_hosts,
            store,
            keys,
            subjects,
            locations,
            jurisdictions,
            products,
            sales_settings,
            databases,
            read_your_writes_timeout: std::time::Duration::from_millis(config.read_your_writes_timeout_ms),
            feed_max_wait: std::time::Duration::from_millis(config.feed_max_wait_ms).min(
                config
                    .http
                    .query_timeout()
                    .saturating_sub(std::time::Duration::from_secs(1)),
            ),
            feed_stream_max: std::time::Duration::from_millis(config.feed_stream_max_ms),
            metrics,
            identity,
        });

        let (api, openapi) = routes::router().split_for_parts();
        let openapi = Arc::new(openapi);
        let limits = RequestLimits::new(&config.http, config.body_limit_bytes, config.batch_body_limit_bytes);
        let metrics_token = OpsToken::new(config.metrics_token.as_ref());
        if !metrics_token.is_configured() {
            tracing::info!("no METRICS_TOKEN: /metrics refuses every request");
        }
        // Layers run outermost last-added first: the request span in its trace, the trace
        // layer, request metrics (so refusals
        // are counted with their status), the request limits, the body limit.
        let router = api
            .route(
                "/openapi.json",
                get(move || {
                    let doc = Arc::clone(&openapi);
                    async move { Json(doc.as_ref().clone()) }
                }),
            )
            .route("/metrics", routes::metrics::route(metrics_token))
            .fallback(not_found)
            // The larger of the two limits; `server::requests::limit` holds each route to its own.
            .layer(DefaultBodyLimit::max(
                config.body_limit_bytes.max(config.batch_body_limit_bytes),
            ))
            .layer(middleware::from_fn_with_state(limits, server::requests::limit))
            .layer(middleware::from_fn(routes::metrics::track))
            // The request span is opened by `server::trace::propagate` (outside), under the
            // client's traceparent; the trace layer logs in it.
            .layer(TraceLayer::new_for_http().make_span_with(|_: &Request<_>| tracing::Span::current()))
            .layer(middleware::from_fn(server::trace::propagate))
            .with_state(state);
        let router = server::headers::secure(router);

        let listener = server::bind(config.listen_addr, config.http.max_connections)
            .with_context(|| format!("binding {}", config.listen_addr))?;
        let port = listener.local_addr().context("reading the bound address")?.port();
        Ok(Self {
            listener,
            router,
            port,
            databases: placements,
            http: config.http,
        })
    }

    /// The port the listener is bound to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight (see
    /// [`server`] for the timeouts and caps).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(port = self.port, "command API listening");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let databases = self.databases;
        let refresher = tokio::spawn(async move {
            let mut stopped = stopped;
            databases
                .refresh_placements_until(PLACEMENT_REFRESH, async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await;
        });
        let shutdown = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        server::serve(self.listener, self.router, &self.http, shutdown).await;
        let _ = refresher.await;
        Ok(())
    }

    /// Serves until SIGTERM or ctrl-c.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(telemetry::shutdown_signal()).await
    }
}

/// Builds the identity services; creates the identity indexes.
async fn identity(config: &Config, databases: &TenantDatabases) -> anyhow::Result<Identity> {
    use secrecy::ExposeSecret;
    let store = IdentityStore::new(databases.main_database());
    if let Err(err) = store.ensure_indexes().await {
        tracing::warn!(error = %err, "cannot create the identity indexes yet");
    }
    let token_key = match &config.jwt_refresh_secret {
        Some(secret) => secret.expose_secret().as_bytes().to_vec(),
        None => identity::secrets::keyed_hash(config.jwt_secret.expose_secret().as_bytes(), "refresh-token-key")
            .into_bytes(),
    };
    let throttle = Throttle::new(&databases.main_database(), &token_key);
    if let Err(err) = throttle.ensure_indexes().await {
        tracing::warn!(error = %err, "cannot create the rate-limit index yet");
    }
    let api_keys = ApiKeys::new(&databases.main_database(), token_key.clone());
    if let Err(err) = api_keys.ensure_indexes().await {
        tracing::warn!(error = %err, "cannot create the API-key index yet");
    }
    let signup_window = std::time::Duration::from_secs(config.signup_window_secs);
    Ok(Identity {
        store,
        api_keys,
        mailer: Mailer::new(
            config.smtp_url.as_ref().map(|url| url.expose_secret()),
            config.smtp_allow_plaintext,
            &config.mail_from,
            databases.main_database(),
        )?,
        issuer: TokenIssuer::from_config(config),
        hashing: PasswordHashing::new(config.password_hash_workers, config.password_hash_queue),
        login: LoginPolicy {
            free_attempts: config.login_free_attempts,
            max_backoff: std::time::Duration::from_secs(config.login_backoff_max_secs),
            per_address: config.login_attempts_per_address,
            window: std::time::Duration::from_secs(config.login_window_secs),
        },
        throttle,
        signup_per_email: Limit {
            attempts: config.signup_attempts_per_email,
            window: signup_window,
        },
        signup_per_address: Limit {
            attempts: config.signup_attempts_per_address,
            window: signup_window,
        },
        reset_per_email: Limit {
            attempts: config.password_reset_attempts_per_email,
            window: signup_window,
        },
        reset_per_address: Limit {
            attempts: config.password_reset_attempts_per_address,
            window: signup_window,
        },
        reset_ttl: std::time::Duration::from_secs(config.password_reset_ttl_secs),
        trusted_proxies: config.trusted_proxies.clone(),
        token_key,
        public_url: config.public_url.trim_end_matches('/').to_owned(),
        refresh_ttl: std::time::Duration::from_secs(config.refresh_token_ttl_secs),
        refresh_grace: std::time::Duration::from_secs(config.refresh_reuse_grace_secs),
        verification_ttl: std::time::Duration::from_secs(config.verification_ttl_secs),
    })
}

async fn not_found() -> ApiError {
    ApiError::NotFound {
        resource: "route",
        id: StatusCode::NOT_FOUND.to_string(),
    }
}
