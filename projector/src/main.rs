//! `projector`: runs the projector, or performs a tenant operation (replay, verify, move,
//! export, import, delete, parked events).

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use events::TenantId;
use projector::config::{Cli, Command, ParkedAction};
use projector::replay::{ReplayError, jobs};
use projector::{Projector, parked, startup};

/// mimalloc: measurably fewer cycles in allocation-heavy request handling than glibc malloc
/// (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let _tracing = telemetry::init_traced(cli.config.log_format, &cli.config.traces, "tillstream-projector");
    match run(cli).await {
        Ok(code) => code,
        Err(err) => {
            // One line: an operator's mistake (a wrong tenant id, an import into a
            // tenant that has events) is not a crash, and no backtrace helps with it.
            let refused = err
                .chain()
                .any(|cause| matches!(cause.downcast_ref::<ReplayError>(), Some(ReplayError::Refused(_))));
            eprintln!("projector: {err:#}");
            if refused { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
    }
}

/// Runs the subcommand; an error is reported on one line by `main` (exit status 2 for a
/// refusal, 1 for a failure).
async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config;
    let interactive = std::io::stderr().is_terminal();
    let tenant = |raw: &str| TenantId::parse(raw).with_context(|| format!("--tenant {raw:?}"));
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let projector = Projector::build(config).await.context("starting the projector")?;
            projector.run_until(telemetry::shutdown_signal()).await?;
        }
        Command::Parked {
            action: ParkedAction::List { tenant: id, unroutable },
        } => {
            let databases = startup::databases(&config).await?;
            let db = if unroutable {
                databases.main_client().database(&config.projector_db)
            } else {
                databases.database(&tenant(&id.unwrap_or_default())?).await?
            };
            let events = parked::list(&db, 10_000).await.context("reading parked events")?;
            println!("{}", serde_json::to_string_pretty(&events)?);
        }
        Command::Replay {
            tenant: id,
            all,
            concurrency,
            offline,
        } => {
            let store = startup::event_store(&config).await?;
            let databases = startup::databases(&config).await?;
            if all {
                let failed = jobs::replay_all(&store, &databases, concurrency, offline).await?;
                for (tenant, error) in &failed {
                    eprintln!("{tenant}: {error}");
                }
                if !failed.is_empty() {
                    return Ok(ExitCode::FAILURE);
                }
            } else {
                let tenant = tenant(&id.unwrap_or_default())?;
                let sequence = jobs::replay(&store, &databases, &tenant, offline, interactive).await?;
                eprintln!("{tenant}: rebuilt read model in place from sequence {sequence}");
            }
        }
        Command::Verify { tenant: id } => {
            let tenant = tenant(&id)?;
            let store = startup::event_store(&config).await?;
            let databases = startup::databases(&config).await?;
            let differences = jobs::verify(&store, &databases, &tenant, interactive).await?;
            if differences.is_empty() {
                println!("{tenant}: the live read model equals a rebuild from the stream");
            } else {
                println!("{tenant}: the live read model differs from a rebuild from the stream:");
                for line in &differences {
                    println!("  {line}");
                }
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Move {
            tenant: id,
            to,
            offline,
        } => {
            let tenant = tenant(&id)?;
            let store = startup::event_store(&config).await?;
            let databases = startup::databases(&config).await?;
            databases.refresh_placements().await?;
            let sequence = jobs::move_tenant(&store, &databases, &tenant, &to, offline, interactive).await?;
            eprintln!("{tenant}: moved at sequence {sequence}");
        }
        Command::Export { tenant: id, out } => {
            let tenant = tenant(&id)?;
            let store = startup::event_store(&config).await?;
            let count = jobs::export(&store, &tenant, &out, interactive).await?;
            eprintln!("{tenant}: {count} events written to {}", out.display());
        }
        Command::Import { input, as_tenant } => {
            let rename = as_tenant.as_deref().map(tenant).transpose()?;
            let store = startup::event_store(&config).await?;
            let (tenant, count) = jobs::import(&store, &input, rename.as_ref(), interactive).await?;
            eprintln!("{tenant}: {count} events imported from {}", input.display());
        }
        Command::Delete { tenant: id, confirm } => {
            let tenant = tenant(&id)?;
            let store = startup::event_store(&config).await?;
            let databases = startup::databases(&config).await?;
            databases.refresh_placements().await?;
            let purged = jobs::delete(&store, &databases, &tenant, &confirm, &config.consumer_prefix).await?;
            eprintln!("{tenant}: {purged} events purged, database dropped");
        }
    }
    Ok(ExitCode::SUCCESS)
}
