//! `latchkey`: see `latchkey --help`.

use std::process::ExitCode;

use clap::Parser;
use latchkey_host::cli::{Cli, Command, run};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // A replay raises thousands of expected alerts (offline PINs that cannot be revoked);
    // its report counts them, so its log shows only errors unless RUST_LOG asks for more.
    let default = match cli.command {
        Command::Replay(_) => "error",
        _ => "info,sqlx=warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
