//! The durable job queue: one row per job, claimed with a lease.
//!
//! A job is `queued` until its `run_at`, then claimed (`running`, with `lease_until` and
//! the worker's name in `leased_by`). A worker that dies leaves its lease to run out, and
//! the job is claimed again; a worker that restarts under the same name takes its jobs back
//! at once ([`release_held`]). Whatever a holder does to its job afterwards is fenced by
//! the attempt it claimed ([`Lease`]): once another worker claimed the job again, the first
//! can no longer complete it, so a job outliving its lease is never finished twice. Done
//! jobs are deleted; jobs out of retries stay as `dead` letters until a person retries
//! them. On PostgreSQL, enqueueing a job that is due now notifies [`WAKE_CHANNEL`] when
//! the transaction commits, so every replica's worker wakes ([`Wakeups`]).
//! At most one job per dedupe key is queued at a time; enqueueing a key that is already
//! queued moves the queued job earlier if the new `run_at` is earlier.

use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;

use super::{Backend, Conn, Database};
use crate::error::{Error, Result};

/// The PostgreSQL channel notified when a job due now is committed.
pub const WAKE_CHANNEL: &str = "latchkey_jobs_due";

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Kind (`reconcile`, `create_code`, …).
    pub kind: &'static str,
    /// Deduplication key.
    pub dedupe_key: String,
    /// JSON payload.
    pub payload: String,
    /// Earliest instant to run (UTC).
    pub run_at: Timestamp,
}

/// A claimed job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    /// Id.
    pub id: i64,
    /// Workspace.
    pub workspace_id: String,
    /// Kind.
    pub kind: String,
    /// Deduplication key.
    pub dedupe_key: String,
    /// JSON payload.
    pub payload: String,
    /// Attempts including this one.
    pub attempts: i64,
}

impl ClaimedJob {
    /// What this claim holds: the job at this attempt.
    pub fn lease(&self) -> Lease {
        Lease {
            job: self.id,
            attempt: self.attempts,
        }
    }
}

/// A worker's hold on a claimed job: the job and the attempt it claimed. Completing,
/// requeueing or burying the job through its lease fails with [`Error::LeaseLost`] once
/// another worker claimed the job again (its lease ran out, and the attempt count moved
/// on), so that only the newest holder finishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The job's id.
    pub job: i64,
    /// The attempt this holder claimed (`attempts` after the claim).
    pub attempt: i64,
}

/// A dead letter, as listed for a person.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DeadJob {
    /// Id (give it to `latchkey jobs retry`).
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// Deduplication key.
    pub dedupe_key: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was buried, Unix seconds UTC.
    pub updated_at: i64,
}

/// Enqueues `job` in the caller's transaction.
pub async fn enqueue(
    conn: &mut Conn,
    ws: &WorkspaceId,
    job: &NewJob,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (workspace_id, kind, dedupe_key, payload, state, run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7)
         ON CONFLICT (dedupe_key) WHERE state = 'queued' DO UPDATE SET
            run_at = CASE WHEN excluded.run_at < jobs.run_at THEN excluded.run_at ELSE jobs.run_at END,
            payload = excluded.payload",
    )
    .bind(ws.as_str())
    .bind(job.kind)
    .bind(&job.dedupe_key)
    .bind(&job.payload)
    .bind(job.run_at.unix())
    .bind(now.unix())
    .bind(now.unix())
    .execute(&mut *conn)
    .await?;
    if job.run_at <= now {
        wake(conn).await?;
    }
    Ok(())
}

/// On PostgreSQL, tells every listening worker that a job is due, once the caller's
/// transaction commits (`NOTIFY` is transactional, and repeats within one transaction are
/// delivered once). On SQLite there is one process: its own wake-up does.
async fn wake(conn: &mut Conn) -> Result<()> {
    if Backend::of(conn) == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(WAKE_CHANNEL)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Claims the next due job (queued and due, or running with an expired lease), leasing it
/// to `worker` for `lease_secs` seconds.
///
/// Replicas sharing a PostgreSQL database each claim a different job: the candidate row
/// is locked with `FOR UPDATE SKIP LOCKED`, so a replica passes over a row another one is
/// claiming instead of waiting for it and then claiming it again
/// (<https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE>). On
/// SQLite the single writer gives the same guarantee.
pub async fn claim_due(
    conn: &mut Conn,
    now: Timestamp,
    lease_secs: i64,
    worker: &str,
) -> Result<Option<ClaimedJob>> {
    let skip_locked = match Backend::of(conn) {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    Ok(sqlx::query_as::<_, ClaimedJob>(&format!(
        "UPDATE jobs SET state = 'running', lease_until = $1, attempts = attempts + 1, updated_at = $2,
            leased_by = $3
         WHERE id = (
            SELECT id FROM jobs
            WHERE (state = 'queued' AND run_at <= $2) OR (state = 'running' AND lease_until <= $2)
            ORDER BY run_at, id LIMIT 1 {skip_locked})
         RETURNING id, workspace_id, kind, dedupe_key, payload, attempts"
    ))
    .bind(now.unix() + lease_secs)
    .bind(now.unix())
    .bind(worker)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Makes the jobs `worker` held when it stopped claimable now, and returns how many: a
/// process that restarts under the same name takes its work back at once instead of
/// waiting out the leases of the jobs it was running when it died.
pub async fn release_held(conn: &mut Conn, worker: &str, now: Timestamp) -> Result<u64> {
    let released = sqlx::query(
        "UPDATE jobs SET lease_until = $1 WHERE state = 'running' AND leased_by = $2 AND lease_until > $1",
    )
    .bind(now.unix())
    .bind(worker)
    .execute(&mut *conn)
    .await?;
    Ok(released.rows_affected())
}

/// Deletes a finished job.
///
/// # Errors
/// [`Error::LeaseLost`] when another worker claimed the job again meanwhile.
pub async fn complete(conn: &mut Conn, lease: Lease) -> Result<()> {
    let deleted = sqlx::query("DELETE FROM jobs WHERE id = $1 AND attempts = $2")
        .bind(lease.job)
        .bind(lease.attempt)
        .execute(&mut *conn)
        .await?;
    fenced(deleted.rows_affected(), lease)
}

fn fenced(rows: u64, lease: Lease) -> Result<()> {
    if rows == 0 {
        return Err(Error::LeaseLost {
            job: lease.job,
            attempt: lease.attempt,
        });
    }
    Ok(())
}

/// Puts a job back in the queue to run at `run_at`. If a job with the same key was queued
/// meanwhile, that one already covers the work: this one is dropped and the queued one is
/// moved earlier if needed.
///
/// # Errors
/// [`Error::LeaseLost`] when another worker claimed the job again meanwhile.
pub async fn requeue(
    conn: &mut Conn,
    lease: Lease,
    run_at: Timestamp,
    error: &str,
    now: Timestamp,
) -> Result<()> {
    let moved = sqlx::query(
        "UPDATE jobs SET state = 'queued', run_at = $1, lease_until = NULL, last_error = $2, updated_at = $3
         WHERE id = $4 AND attempts = $5 AND NOT EXISTS (
            SELECT 1 FROM jobs AS other WHERE other.dedupe_key = jobs.dedupe_key AND other.state = 'queued')",
    )
    .bind(run_at.unix())
    .bind(error)
    .bind(now.unix())
    .bind(lease.job)
    .bind(lease.attempt)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() == 0 {
        sqlx::query(
            "UPDATE jobs SET run_at = CASE WHEN $1 < run_at THEN $2 ELSE run_at END
             WHERE state = 'queued' AND dedupe_key = (SELECT dedupe_key FROM jobs WHERE id = $3)",
        )
        .bind(run_at.unix())
        .bind(run_at.unix())
        .bind(lease.job)
        .execute(&mut *conn)
        .await?;
        // Fenced: a holder whose lease was lost moves nothing, once its caller rolls back.
        complete(conn, lease).await?;
    }
    if run_at <= now {
        wake(conn).await?;
    }
    Ok(())
}

/// Moves a job to the dead letters.
///
/// # Errors
/// [`Error::LeaseLost`] when another worker claimed the job again meanwhile.
pub async fn bury(conn: &mut Conn, lease: Lease, error: &str, now: Timestamp) -> Result<()> {
    let buried = sqlx::query(
        "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = $1, updated_at = $2
         WHERE id = $3 AND attempts = $4",
    )
    .bind(error)
    .bind(now.unix())
    .bind(lease.job)
    .bind(lease.attempt)
    .execute(&mut *conn)
    .await?;
    fenced(buried.rows_affected(), lease)
}

/// Dead letters of the workspace, newest first.
pub async fn dead(conn: &mut Conn, ws: &WorkspaceId) -> Result<Vec<DeadJob>> {
    Ok(sqlx::query_as::<_, DeadJob>(
        "SELECT id, kind, dedupe_key, attempts, last_error, updated_at FROM jobs
         WHERE workspace_id = $1 AND state = 'dead' ORDER BY id DESC",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?)
}

/// The payload of a dead letter of the workspace, if `id` is one.
pub async fn dead_payload(conn: &mut Conn, ws: &WorkspaceId, id: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT payload FROM jobs WHERE id = $1 AND workspace_id = $2 AND state = 'dead'",
    )
    .bind(id)
    .bind(ws.as_str())
    .fetch_optional(&mut *conn)
    .await?)
}

/// Gives a dead letter a fresh retry budget, due now. Returns false when `id` is not a
/// dead letter of the workspace.
pub async fn retry_dead(
    conn: &mut Conn,
    ws: &WorkspaceId,
    id: i64,
    now: Timestamp,
) -> Result<bool> {
    let reset = sqlx::query(
        "UPDATE jobs SET attempts = 0 WHERE id = $1 AND workspace_id = $2 AND state = 'dead'",
    )
    .bind(id)
    .bind(ws.as_str())
    .execute(&mut *conn)
    .await?;
    if reset.rows_affected() == 0 {
        return Ok(false);
    }
    // A dead letter has no holder: its attempts were just reset to 0.
    let lease = Lease {
        job: id,
        attempt: 0,
    };
    requeue(conn, lease, now, "retried by hand", now).await?;
    Ok(true)
}

/// The earliest instant at which some job becomes claimable, if any.
pub async fn next_due(conn: &mut Conn) -> Result<Option<Timestamp>> {
    let at = sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MIN(t) FROM (
            SELECT MIN(run_at) AS t FROM jobs WHERE state = 'queued'
            UNION ALL SELECT MIN(lease_until) FROM jobs WHERE state = 'running') AS due",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(at.map(Timestamp))
}

/// Number of dead letters of the workspace.
pub async fn count_dead(conn: &mut Conn, ws: &WorkspaceId) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM jobs WHERE workspace_id = $1 AND state = 'dead'",
    )
    .bind(ws.as_str())
    .fetch_one(&mut *conn)
    .await?)
}

/// This process's ear for jobs committed by any replica: on PostgreSQL a `LISTEN` on
/// [`WAKE_CHANNEL`] (<https://www.postgresql.org/docs/current/sql-notify.html>); on SQLite
/// nothing, since the one process wakes itself.
pub struct Wakeups(Option<sqlx::postgres::PgListener>);

impl std::fmt::Debug for Wakeups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Wakeups").field(&self.0.is_some()).finish()
    }
}

impl Wakeups {
    /// Listens on the database's channel (PostgreSQL; on SQLite nothing is opened).
    ///
    /// # Errors
    /// The server cannot be reached or refuses the `LISTEN`.
    pub async fn listen(database: &Database) -> Result<Wakeups> {
        match database {
            Database::Sqlite(_) => Ok(Wakeups(None)),
            Database::Postgres(url) => {
                let mut listener = sqlx::postgres::PgListener::connect(url).await?;
                listener.listen(WAKE_CHANNEL).await?;
                Ok(Wakeups(Some(listener)))
            }
        }
    }

    /// Resolves when a job due now was committed, by any replica; never on SQLite.
    ///
    /// # Errors
    /// The connection failed; the next call reconnects (and the worker's periodic poll
    /// covers what was missed meanwhile).
    pub async fn next(&mut self) -> Result<()> {
        match &mut self.0 {
            Some(listener) => {
                listener.recv().await?;
                Ok(())
            }
            None => std::future::pending().await,
        }
    }
}
