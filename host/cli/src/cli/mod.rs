//! The `latchkey` command line. `main.rs` only parses and calls [`run`].

mod access;
mod admin;
mod bench;
mod credentials;
mod monitoring;
mod replay;
mod rules;
mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use latchkey_store as store;

/// Latchkey: door access for guests' reservations.
///
/// Booking platforms send signed webhooks; the workspace's rule decides which locks open
/// and when; Latchkey creates, changes and revokes the PIN codes on the locks.
#[derive(Debug, Parser)]
#[command(name = "latchkey", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: webhooks in, codes out.
    ///
    /// With no flags it listens on 127.0.0.1:8080, keeps its state in ./latchkey.db and
    /// serves the example hotel (examples/hotel) with simulated locks.
    Serve(serve::ServeArgs),
    /// Work with rules.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Inspect and retry durable jobs.
    #[command(subcommand)]
    Jobs(admin::JobsCommand),
    /// Inspect reservations: state, events received (with rule errors), codes.
    #[command(subcommand)]
    Reservations(admin::ReservationsCommand),
    /// List the alerts a person must see (offline locks, batteries, codes that cannot be
    /// revoked, doors opened outside any grant, …), newest first.
    Alerts(StoreArgs),
    /// List every lock's status (online, battery) as the last lock sync stored it.
    Locks(StoreArgs),
    /// Ask the running service to sync every lock now (status, battery, activity log).
    Sync(monitoring::SyncArgs),
    /// Replay real hotel bookings through the service under a simulated clock, and check
    /// every stay with an independent oracle. Exits 1 if any violation is found.
    Replay(replay::ReplayArgs),
    /// Create, list and revoke API keys (roles platform, partner, admin, desk).
    #[command(subcommand)]
    Keys(access::KeysCommand),
    /// Add, list and remove dashboard users (sign-in with a password).
    #[command(subcommand)]
    Users(access::UsersCommand),
    /// Store and list lock-cloud account credentials (sealed with LATCHKEY_CREDENTIALS_KEY).
    #[command(subcommand)]
    Credentials(credentials::CredentialsCommand),
    /// Measure the service on this machine: a table of figures against their goals.
    ///
    /// Durable webhook ingest on SQLite and PostgreSQL (req/s, p50 and p99 in ms) against a
    /// no-op handler, 1 to 3 replicas on PostgreSQL, rule evaluations/s, the resort replay
    /// (s), peak memory (MB). Exits 1 only when a measurement fails, not on unmet goals.
    Bench(bench::BenchArgs),
}

/// Where the state lives: shared by commands that read a running service's database.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Database: a SQLite file (created if missing), or a PostgreSQL server as
    /// `postgres://user:password@host:port/database`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "latchkey.db",
        value_name = "FILE|URL"
    )]
    pub database: store::Database,
    /// Property directory (holds property.toml).
    #[arg(long, env = "LATCHKEY_PROPERTY", default_value = "examples/hotel")]
    pub property: PathBuf,
}

/// Runs the parsed command; the exit code is 0 on success.
///
/// # Errors
/// Whatever the command reports, with context for a person.
pub async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Rules(cmd) => rules::run(cmd),
        Command::Jobs(cmd) => admin::jobs(cmd).await,
        Command::Reservations(cmd) => admin::reservations(cmd).await,
        Command::Alerts(args) => monitoring::alerts(args).await,
        Command::Locks(args) => monitoring::locks(args).await,
        Command::Sync(args) => monitoring::sync(args).await,
        Command::Replay(args) => replay::run(args).await,
        Command::Credentials(cmd) => credentials::run(cmd).await,
        Command::Keys(cmd) => access::keys(cmd).await,
        Command::Users(cmd) => access::users(cmd).await,
        Command::Bench(args) => bench::run(args).await,
    }
}
