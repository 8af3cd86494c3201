//! The projector binary, built inside the test package so suites can start and `kill -9`
//! it as a real process (`CARGO_BIN_EXE_projector-under-test`). Same code as `projector`.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = projector::config::Cli::parse();
    let _tracing = telemetry::init_traced(cli.config.log_format, &cli.config.traces, "tillstream-projector");
    projector::Projector::build(cli.config)
        .await?
        .run_until(telemetry::shutdown_signal())
        .await
}
