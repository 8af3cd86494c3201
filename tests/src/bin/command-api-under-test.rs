//! The command API binary, built inside the test package so suites can start and
//! `kill -9` it as a real process (`CARGO_BIN_EXE_command-api-under-test`).

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = command_api::config::Cli::parse();
    let _tracing = telemetry::init_traced(cli.config.log_format, &cli.config.traces, "tillstream-command-api");
    command_api::Application::build(cli.config)
        .await?
        .run_until_stopped()
        .await
}
