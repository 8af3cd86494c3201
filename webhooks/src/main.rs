//! `webhooks`: the webhook worker.

use anyhow::Context;
use clap::Parser;
use webhooks::Worker;
use webhooks::config::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _tracing = telemetry::init_traced(cli.config.log_format, &cli.config.traces, "tillstream-webhooks");
    let worker = Worker::build(cli.config).await.context("starting the webhook worker")?;
    worker.run_until_stopped().await
}
