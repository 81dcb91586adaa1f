//! `latchkey jobs …` and `latchkey reservations …`: read and repair a service's state
//! directly in its database (the same data as the HTTP API).

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use latchkey_engine::{Timestamp, WorkspaceId};
use latchkey_service::catalog::CatalogFile;
use latchkey_store::{self as store, Durability, codes, events, jobs, reservations};

use super::StoreArgs;

/// `latchkey jobs …`
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List dead letters: jobs that ran out of retries.
    Dead(StoreArgs),
    /// Give a dead letter a fresh set of retries; a running service picks it up.
    Retry {
        /// The job id, as listed by `latchkey jobs dead`.
        id: i64,
        /// Where the state lives.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `latchkey reservations …`
#[derive(Debug, Subcommand)]
pub enum ReservationsCommand {
    /// Show a reservation's state, the events received (with rule errors) and its codes.
    Show {
        /// The reservation id, as the platform sends it.
        id: String,
        /// Where the state lives.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Opens the database of the property in `args` and names its workspace.
pub(super) async fn open(args: &StoreArgs) -> anyhow::Result<(store::Pool, WorkspaceId)> {
    let workspace = CatalogFile::load(&args.property)?.workspace;
    anyhow::ensure!(args.database.exists(), "no database at {}", args.database);
    let pool = store::open(&args.database, Durability::Full)
        .await
        .with_context(|| format!("opening {}", args.database))?;
    Ok((pool, workspace))
}

pub(super) async fn jobs(cmd: JobsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        JobsCommand::Dead(args) => {
            let (pool, ws) = open(&args).await?;
            let dead = jobs::dead(&mut *pool.acquire().await?, &ws).await?;
            if dead.is_empty() {
                println!("no dead letters");
            }
            for j in dead {
                println!(
                    "{:>6}  {:<13} {:<32} attempts {:>3}  since {}\n        {}",
                    j.id,
                    j.kind,
                    j.dedupe_key,
                    j.attempts,
                    Timestamp(j.updated_at),
                    j.last_error.unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Retry { id, store } => {
            let (pool, ws) = open(&store).await?;
            let now = Timestamp(chrono::Utc::now().timestamp());
            if latchkey_service::jobs::retry_dead_letter(&mut *pool.acquire().await?, &ws, id, now)
                .await?
            {
                println!("job {id} queued again");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("job {id} is not a dead letter of workspace `{ws}`");
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

pub(super) async fn reservations(cmd: ReservationsCommand) -> anyhow::Result<ExitCode> {
    let ReservationsCommand::Show { id, store } = cmd;
    let (pool, ws) = open(&store).await?;
    let mut conn = pool.acquire().await?;
    let Some(row) = reservations::get(&mut conn, &ws, &id).await? else {
        eprintln!("no reservation `{id}` in workspace `{ws}`");
        return Ok(ExitCode::FAILURE);
    };
    let r = &row.state;
    println!(
        "reservation {id}  v{}  {}  {:?}  {} .. {}",
        r.version,
        r.status.as_str(),
        r.resources,
        r.check_in,
        r.check_out
    );
    if let Some(e) = &row.rule_error {
        println!("rule error: {e}");
    }
    println!("\nevents:");
    for e in events::for_reservation(&mut conn, &ws, &id).await? {
        println!(
            "  {:>6}  {}  {:<25} v{:<3} {:<8} {}",
            e.id,
            Timestamp(e.received_at),
            e.event_type,
            e.version,
            e.outcome,
            e.error.unwrap_or_default()
        );
    }
    println!("\ncodes:");
    for c in codes::for_reservation(&mut conn, &ws, &id).await? {
        let c = c.code;
        println!(
            "  {:>6}  {:<16} PIN {:<8} {} .. {}  {}",
            c.id,
            c.lock,
            c.pin.as_ref().map_or("-", |p| p.as_str()),
            c.window.starts_at,
            c.window.ends_at,
            c.state.as_str()
        );
    }
    Ok(ExitCode::SUCCESS)
}
