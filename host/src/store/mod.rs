//! Persistence: one SQLite file (WAL) as the embedded default.
//!
//! Each submodule owns one table. Functions take the caller's connection, so a state
//! change and the jobs it causes commit in one transaction; every function is scoped by
//! [`WorkspaceId`]. The SQL is kept portable for the PostgreSQL store to come.

pub mod access;
pub mod alerts;
pub mod assignments;
pub mod audit;
pub mod callbacks;
pub mod codes;
pub mod credentials;
pub mod events;
pub mod feeds;
pub mod jobs;
pub mod monitoring;
pub mod notifications;
pub mod plugins;
pub mod reenio;
pub mod reservations;
pub mod source_versions;
pub mod staff;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{SqliteConnection, SqlitePool};

use crate::error::Result;

/// The connection type store functions take.
pub type Conn = SqliteConnection;

/// How hard SQLite works to keep a commit across failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: a commit survives a power loss. The default for `serve`.
    Full,
    /// A commit survives a crash of the process, not a power loss (in WAL mode a commit is
    /// in the OS's hands when it returns, so `synchronous=OFF` skips only the fsyncs), and
    /// the file is held exclusively by one process. Used by `replay`, which
    /// simulates crashes of the process only and is the database's only user.
    ProcessCrash,
}

/// Opens (creating if needed) the database file at `path` and applies migrations.
///
/// # Errors
/// [`crate::Error::Database`] when the file cannot be opened, or
/// [`crate::Error::Migrate`] when the schema cannot be brought up to date.
pub async fn open(path: &Path, durability: Durability) -> Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match durability {
            Durability::Full => SqliteSynchronous::Full,
            Durability::ProcessCrash => SqliteSynchronous::Off,
        })
        // Exclusive locking spares two file-lock system calls per transaction; only a
        // process that owns the file alone may use it.
        .locking_mode(match durability {
            Durability::Full => SqliteLockingMode::Normal,
            Durability::ProcessCrash => SqliteLockingMode::Exclusive,
        })
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    // One connection: SQLite serialises writers anyway, and a single connection avoids
    // SQLITE_BUSY between our own tasks.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        // A ping before every acquire doubles the round trips to SQLite's worker thread;
        // a broken file surfaces on the next statement anyway.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}
