//! `latchkey bench`: the service's performance measured in one run on one machine
//! (issue 8, item 4).
//!
//! In order:
//!
//! 1. [`noop`]: an axum server in this process answering 204 without reading the
//!    request, the ceiling any handler is compared with;
//! 2. durable ingest on SQLite: `latchkey serve` started as a child ([`child`]) on a fresh
//!    database file, loaded by [`load`] with signed webhooks; a 2xx answer means the
//!    webhook is on disk;
//! 3. the same on PostgreSQL with 1, 2, … replicas of `serve` on one fresh database
//!    ([`pg`]), the load spread over them in turn;
//! 4. rule evaluations per second: the property's rule on its sample input, one thread;
//! 5. the resort replay, as `latchkey replay` runs it by default, in this process;
//! 6. peak resident memory ([`rss`]) of every `serve` under load, and of this process.
//!
//! During each measured load period [`cpu`] records where the machine's CPU went: this
//! process (the load generator), the `serve` children, and the rest (PostgreSQL).
//!
//! [`figures`] holds what was measured, [`report`] the goals and the rows that hold
//! each figure to its goal, [`table`] prints them. A phase that fails is reported and
//! the others still run.

pub mod child;
pub mod cpu;
pub mod figures;
pub mod load;
pub mod noop;
mod phases;
pub mod report;
pub mod rss;
pub mod table;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use phases::run;

use load::LoadSpec;

/// What to measure, and how.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The `latchkey` binary to start as `serve` (normally this one).
    pub exe: PathBuf,
    /// Property directory (property.toml, its rule, rule-input.json).
    pub property: PathBuf,
    /// Load for every ingest run.
    pub load: LoadSpec,
    /// PostgreSQL server URL (a database to connect to first, as a user that may create
    /// databases); `None` skips the PostgreSQL runs.
    pub postgres: Option<String>,
    /// The largest number of `serve` replicas on one PostgreSQL database (runs 1 to this).
    pub replicas: usize,
    /// How long to evaluate the rule, in seconds.
    pub rule_secs: f64,
    /// The bookings CSV for the replay; `None` skips the replay.
    pub bookings: Option<PathBuf>,
    /// Where the `serve` children's logs are kept; `None` puts them in the temporary
    /// directory, removed at the end.
    pub logs: Option<PathBuf>,
}
