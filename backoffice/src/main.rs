//! `backoffice`: serves the back office.

use anyhow::Context;
use backoffice::{Application, Config};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init(config.log_format);
    let app = Application::build(config).await.context("starting the back office")?;
    app.run_until_stopped().await
}
