//! `webhooks`: the webhook worker.

use anyhow::Context;
use clap::Parser;
use webhooks::Worker;
use webhooks::config::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _tracing = telemetry::init_traced(cli.config.log_format, &cli.config.traces, "tillstream-webhooks");
    match cli.command {
        None => {
            let worker = Worker::build(cli.config).await.context("starting the webhook worker")?;
            worker.run_until_stopped().await
        }
        Some(Command::Reseal { tenant }) => {
            let report = webhooks::worker::reseal(&cli.config, tenant.as_deref()).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&report).context("printing the report")?
            );
            if !report.unopenable.is_empty() {
                std::process::exit(2);
            }
            Ok(())
        }
    }
}
