//! `latchkey`: see `latchkey --help`.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use latchkey_service::telemetry::{LogFormat, init_logging};

use cli::{Cli, Command, run};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // A replay raises thousands of expected alerts (offline PINs that cannot be revoked);
    // its report counts them, so its log shows only errors unless RUST_LOG asks for more.
    let default = match cli.command {
        Command::Replay(_) | Command::Bench(_) => "error",
        _ => "info,sqlx=warn",
    };
    // The service's log is read by machines; a command's, by the person who ran it.
    let format = match &cli.command {
        Command::Serve(args) => args.log_format,
        _ => LogFormat::Text,
    };
    init_logging(format, default);
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
