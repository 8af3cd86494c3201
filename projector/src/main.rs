//! `projector`: runs the projector, or inspects parked events.

use anyhow::Context;
use clap::Parser;
use events::TenantId;
use projector::config::{Cli, Command, ParkedAction};
use projector::{Projector, parked, startup, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.config.log_format);
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let projector = Projector::build(cli.config)
                .await
                .context("starting the projector")?;
            projector.run_until(shutdown_signal()).await
        }
        Command::Parked {
            action: ParkedAction::List { tenant, unroutable },
        } => {
            let databases = startup::databases(&cli.config).await?;
            let db = if unroutable {
                databases.main_client().database(&cli.config.projector_db)
            } else {
                let tenant = TenantId::parse(tenant.unwrap_or_default()).context("--tenant")?;
                databases.main_client().database(&tenant.database_name())
            };
            let events = parked::list(&db, 10_000)
                .await
                .context("reading parked events")?;
            println!("{}", serde_json::to_string_pretty(&events)?);
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
