//! `peer`: the cqrs-es + postgres-es fixture of issue 22 (see the crate docs and
//! `bench/peer/README.md`). A measurement fixture, not part of tillstream.

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use cqrs_es::persist::GenericQuery;
use peer::auth::JwtKeys;
use peer::config::Config;
use peer::http::{AppState, router};
use peer::views::{SCHEMA, SaleView, StockQuery};
use postgres_es::PostgresViewRepository;
use secrecy::ExposeSecret;
use sqlx::postgres::PgPoolOptions;

/// The same allocator as tillstream's binaries and the load generator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,peer=info".into()),
        )
        .init();
    let keys = Arc::new(JwtKeys::from_config(&config)?);
    let pool = PgPoolOptions::new()
        .max_connections(config.pool_size)
        .connect(config.database_url.expose_secret())
        .await
        .context("connecting to PostgreSQL")?;
    for statement in SCHEMA {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .context("creating the schema")?;
    }
    let sales = Arc::new(PostgresViewRepository::<SaleView, _>::new("sale_view", pool.clone()));
    let mut sale_query = GenericQuery::new(Arc::clone(&sales));
    sale_query.use_error_handler(Box::new(|error| tracing::error!(%error, "sale view update failed")));
    let cqrs = Arc::new(postgres_es::postgres_cqrs(
        pool.clone(),
        vec![Box::new(sale_query), Box::new(StockQuery::new(pool))],
        (),
    ));
    let app = router(AppState { keys, cqrs, sales });
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("binding {}", config.listen_addr))?;
    tracing::info!(address = %listener.local_addr()?, "peer listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")?;
    Ok(())
}
