//! `command-api`: serves the API, or prints a development token.

use anyhow::Context;
use clap::Parser;
use command_api::Application;
use command_api::auth::Claims;
use command_api::config::{Cli, Command};
use events::{Role, TenantId};
use secrecy::ExposeSecret;

/// mimalloc: measurably fewer cycles in allocation-heavy request handling than glibc malloc
/// (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init(cli.config.log_format);
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
            let now = jsonwebtoken::get_current_timestamp();
            let claims = Claims {
                user_id: user,
                organization_id: tenant.to_string(),
                role,
                terminal_id: terminal,
                iss: cli.config.jwt_issuer.clone(),
                aud: cli.config.jwt_audience.clone(),
                exp: now + ttl_secs,
                nbf: None,
                iat: Some(now),
            };
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            header.kid = Some(cli.config.jwt_default_kid.clone());
            let key = jsonwebtoken::EncodingKey::from_secret(cli.config.jwt_secret.expose_secret().as_bytes());
            println!(
                "{}",
                jsonwebtoken::encode(&header, &claims, &key).context("signing the token")?
            );
            Ok(())
        }
    }
}
