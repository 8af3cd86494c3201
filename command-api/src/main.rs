//! `command-api`: reads its configuration, sets up logging and serves until stopped.

use anyhow::Context;
use clap::Parser;
use command_api::{Application, Config, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init(config.log_format);
    let app = Application::build(config)
        .await
        .context("starting the command API")?;
    app.run_until_stopped().await
}
