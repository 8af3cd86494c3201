//! Building and running the back office: the API client, the session store, the routes
//! and their headers, the listener and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::Request;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::api::Api;
use crate::config::Config;
use crate::pages;
use crate::security;
use crate::session::Sessions;
use crate::state::AppState;

/// A built back office, bound to its port but not yet serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
}

impl Application {
    /// Builds the state and routes and binds the listener (the API need not be up yet).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let api = Api::new(config.api_base(), config.api_timeout()).context("building the API client")?;
        let sessions = Sessions::new(
            config.max_sessions,
            Duration::from_secs(config.session_idle_secs),
            Duration::from_secs(config.session_max_secs),
            config.secure_cookies,
        );
        let projector = match &config.projector_admin_url {
            Some(url) => Some(
                Api::new(url.trim_end_matches('/').to_owned(), config.api_timeout())
                    .context("building the projector admin client")?,
            ),
            None => None,
        };
        let state = AppState {
            api,
            projector,
            sessions,
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            public_origin: config
                .public_origin
                .as_deref()
                .map(|origin| Arc::from(origin.trim_end_matches('/'))),
        };
        let router = pages::router()
            .fallback(|| async { crate::error::PageError::NotFound })
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::error::end_sessions,
            ))
            .layer(axum::middleware::from_fn(security::reload_same_site))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                tracing::info_span!("request", method = %request.method(), uri = %request.uri().path())
            }))
            .with_state(state);
        let router = security::secure(router, config.secure_cookies);
        let listener = TcpListener::bind(config.listen_addr)
            .await
            .with_context(|| format!("binding {}", config.listen_addr))?;
        let port = listener.local_addr().context("reading the bound address")?.port();
        Ok(Self { listener, router, port })
    }

    /// The port the listener is bound to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(port = self.port, "back office listening");
        axum::serve(
            self.listener,
            self.router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving the back office")
    }

    /// Serves until SIGTERM or ctrl-c.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(telemetry::shutdown_signal()).await
    }
}
