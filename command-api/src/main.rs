//! `command-api`: serves the API, or prints a development token.

use anyhow::Context;
use clap::Parser;
use command_api::Application;
use command_api::config::{Cli, Command};
use command_api::identity::{IdentityStore, TokenIssuer};
use events::{Role, TenantId};

/// mimalloc: measurably fewer cycles in allocation-heavy request handling than glibc malloc
/// (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let _tracing = telemetry::init_traced(cli.config.log_format, &cli.config.traces, "tillstream-command-api");
            let app = Application::build(cli.config)
                .await
                .context("starting the command API")?;
            app.run_until_stopped().await
        }
        Command::Token {
            tenant,
            user,
            role,
            terminal,
            ttl_secs,
        } => {
            let tenant = TenantId::parse(tenant).context("--tenant")?;
            let role: Role =
                serde_json::from_value(serde_json::Value::String(role)).context("--role: admin, manager or cashier")?;
            // The API accepts tokens of existing tenants and users only: make sure these exist.
            let databases = cli.config.mongo.connect().await.context("connecting to MongoDB")?;
            IdentityStore::new(databases.main_database())
                .provision(tenant.as_str(), &user, role)
                .await
                .map_err(|e| anyhow::anyhow!("creating the tenant and user: {e}"))?;
            let ttl_secs = ttl_secs.unwrap_or(cli.config.access_token_ttl_secs);
            let issuer = TokenIssuer::from_config(&cli.config).with_ttl(ttl_secs);
            let token = issuer
                .token(&tenant, &user, role, terminal.as_deref())
                .context("signing the token")?;
            println!("{token}");
            Ok(())
        }
    }
}
