//! The store's errors: the database's own, or a row that no longer reads as the model
//! (an id that does not parse, an unknown name): never input from a caller.

/// What went wrong reading or writing the state.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed, or refused the statement.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value on record does not read as the model: the database was written otherwise.
    #[error("state on record does not read: {0}")]
    Corrupt(String),
    /// The change conflicts with the state on record (a name already taken).
    #[error("{0}")]
    Conflict(String),
    /// A job's lease ran out and another worker claimed it: this holder may no longer
    /// complete, requeue or bury it (see `Lease` in the jobs module). Roll back what was done
    /// under the lease; the new holder does the work.
    #[error("job {job} was claimed again after attempt {attempt}'s lease ran out")]
    LeaseLost {
        /// The job.
        job: i64,
        /// The attempt whose lease was lost.
        attempt: i64,
    },
}

/// Shorthand for store results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
