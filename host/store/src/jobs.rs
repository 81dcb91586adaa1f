//! The durable job queue: one row per job, claimed with a lease.
//!
//! A job is `queued` until its `run_at`, then claimed (`running`, with `lease_until`). A
//! worker that dies leaves its lease to run out, and the job is claimed again. Done jobs
//! are deleted; jobs out of retries stay as `dead` letters until a person retries them.
//! At most one job per dedupe key is queued at a time; enqueueing a key that is already
//! queued moves the queued job earlier if the new `run_at` is earlier.

use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;

use super::{Backend, Conn};
use crate::error::Result;

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
    Ok(())
}

/// Claims the next due job (queued and due, or running with an expired lease), leasing it
/// for `lease_secs` seconds.
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
) -> Result<Option<ClaimedJob>> {
    let skip_locked = match Backend::of(conn) {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    Ok(sqlx::query_as::<_, ClaimedJob>(&format!(
        "UPDATE jobs SET state = 'running', lease_until = $1, attempts = attempts + 1, updated_at = $2
         WHERE id = (
            SELECT id FROM jobs
            WHERE (state = 'queued' AND run_at <= $2) OR (state = 'running' AND lease_until <= $2)
            ORDER BY run_at, id LIMIT 1 {skip_locked})
         RETURNING id, workspace_id, kind, dedupe_key, payload, attempts"
    ))
    .bind(now.unix() + lease_secs)
    .bind(now.unix())
    .fetch_optional(&mut *conn)
    .await?)
}

/// Deletes a finished job.
pub async fn complete(conn: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Puts a job back in the queue to run at `run_at`. If a job with the same key was queued
/// meanwhile, that one already covers the work: this one is dropped and the queued one is
/// moved earlier if needed.
pub async fn requeue(
    conn: &mut Conn,
    id: i64,
    run_at: Timestamp,
    error: &str,
    now: Timestamp,
) -> Result<()> {
    let moved = sqlx::query(
        "UPDATE jobs SET state = 'queued', run_at = $1, lease_until = NULL, last_error = $2, updated_at = $3
         WHERE id = $4 AND NOT EXISTS (
            SELECT 1 FROM jobs AS other WHERE other.dedupe_key = jobs.dedupe_key AND other.state = 'queued')",
    )
    .bind(run_at.unix())
    .bind(error)
    .bind(now.unix())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() == 0 {
        sqlx::query(
            "UPDATE jobs SET run_at = CASE WHEN $1 < run_at THEN $2 ELSE run_at END
             WHERE state = 'queued' AND dedupe_key = (SELECT dedupe_key FROM jobs WHERE id = $3)",
        )
        .bind(run_at.unix())
        .bind(run_at.unix())
        .bind(id)
        .execute(&mut *conn)
        .await?;
        complete(conn, id).await?;
    }
    Ok(())
}

/// Moves a job to the dead letters.
pub async fn bury(conn: &mut Conn, id: i64, error: &str, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = $1, updated_at = $2 WHERE id = $3")
        .bind(error)
        .bind(now.unix())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
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
    requeue(conn, id, now, "retried by hand", now).await?;
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
