//! The durable job queue: one row per job, claimed with a lease.
//!
//! A job is `queued` until its `run_at`, then claimed (`running`, with `lease_until`). A
//! worker that dies leaves its lease to run out, and the job is claimed again. Done jobs
//! are deleted; jobs out of retries stay as `dead` letters until a person retries them.
//! At most one job per dedupe key is queued at a time; enqueueing a key that is already
//! queued moves the queued job earlier if the new `run_at` is earlier.

use latchkey_engine::{Timestamp, WorkspaceId};
use serde::Serialize;

use super::Conn;
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
         VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)
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
pub async fn claim_due(
    conn: &mut Conn,
    now: Timestamp,
    lease_secs: i64,
) -> Result<Option<ClaimedJob>> {
    Ok(sqlx::query_as::<_, ClaimedJob>(
        "UPDATE jobs SET state = 'running', lease_until = ?, attempts = attempts + 1, updated_at = ?
         WHERE id = (
            SELECT id FROM jobs
            WHERE (state = 'queued' AND run_at <= ?) OR (state = 'running' AND lease_until <= ?)
            ORDER BY run_at, id LIMIT 1)
         RETURNING id, workspace_id, kind, dedupe_key, payload, attempts",
    )
    .bind(now.unix() + lease_secs)
    .bind(now.unix())
    .bind(now.unix())
    .bind(now.unix())
    .fetch_optional(&mut *conn)
    .await?)
}

/// Deletes a finished job.
pub async fn complete(conn: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM jobs WHERE id = ?")
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
        "UPDATE jobs SET state = 'queued', run_at = ?, lease_until = NULL, last_error = ?, updated_at = ?
         WHERE id = ? AND NOT EXISTS (
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
            "UPDATE jobs SET run_at = CASE WHEN ? < run_at THEN ? ELSE run_at END
             WHERE state = 'queued' AND dedupe_key = (SELECT dedupe_key FROM jobs WHERE id = ?)",
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
    sqlx::query("UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = ?, updated_at = ? WHERE id = ?")
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
         WHERE workspace_id = ? AND state = 'dead' ORDER BY id DESC",
    )
    .bind(ws.as_str())
    .fetch_all(&mut *conn)
    .await?)
}

/// The payload of a dead letter of the workspace, if `id` is one.
pub async fn dead_payload(conn: &mut Conn, ws: &WorkspaceId, id: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT payload FROM jobs WHERE id = ? AND workspace_id = ? AND state = 'dead'",
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
        "UPDATE jobs SET attempts = 0 WHERE id = ? AND workspace_id = ? AND state = 'dead'",
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
            UNION ALL SELECT MIN(lease_until) FROM jobs WHERE state = 'running')",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(at.map(Timestamp))
}

/// Number of dead letters of the workspace.
pub async fn count_dead(conn: &mut Conn, ws: &WorkspaceId) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM jobs WHERE workspace_id = ? AND state = 'dead'",
    )
    .bind(ws.as_str())
    .fetch_one(&mut *conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use latchkey_engine::{Timestamp, WorkspaceId};

    use super::*;
    use crate::store::{Durability, open};

    fn job(key: &str, at: i64) -> NewJob {
        NewJob {
            kind: "reconcile",
            dedupe_key: key.into(),
            payload: "{}".into(),
            run_at: Timestamp(at),
        }
    }

    #[tokio::test]
    async fn a_dead_workers_job_is_claimed_again_when_its_lease_runs_out() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = open(&dir.path().join("jobs.db"), Durability::Full)
            .await
            .expect("db");
        let mut conn = pool.acquire().await.expect("conn");
        let ws = WorkspaceId::parse("w").expect("id");
        enqueue(&mut conn, &ws, &job("k", 100), Timestamp(100))
            .await
            .expect("enqueue");
        assert!(
            claim_due(&mut conn, Timestamp(99), 60)
                .await
                .expect("claim")
                .is_none(),
            "not due yet"
        );
        let first = claim_due(&mut conn, Timestamp(100), 60)
            .await
            .expect("claim")
            .expect("due");
        assert_eq!(first.attempts, 1);
        // The worker dies without completing; nobody else may take it during the lease.
        assert!(
            claim_due(&mut conn, Timestamp(159), 60)
                .await
                .expect("claim")
                .is_none()
        );
        let again = claim_due(&mut conn, Timestamp(160), 60)
            .await
            .expect("claim")
            .expect("lease ran out");
        assert_eq!((again.id, again.attempts), (first.id, 2));
        complete(&mut conn, again.id).await.expect("complete");
        assert_eq!(next_due(&mut conn).await.expect("next"), None);
    }

    #[tokio::test]
    async fn one_queued_job_per_key_moves_earlier_and_a_running_one_may_have_a_successor() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = open(&dir.path().join("jobs.db"), Durability::Full)
            .await
            .expect("db");
        let mut conn = pool.acquire().await.expect("conn");
        let ws = WorkspaceId::parse("w").expect("id");
        enqueue(&mut conn, &ws, &job("k", 500), Timestamp(0))
            .await
            .expect("enqueue");
        enqueue(&mut conn, &ws, &job("k", 300), Timestamp(0))
            .await
            .expect("enqueue");
        enqueue(&mut conn, &ws, &job("k", 900), Timestamp(0))
            .await
            .expect("enqueue");
        assert_eq!(
            next_due(&mut conn).await.expect("next"),
            Some(Timestamp(300)),
            "merged, earliest wins"
        );
        let running = claim_due(&mut conn, Timestamp(300), 60)
            .await
            .expect("claim")
            .expect("due");
        enqueue(&mut conn, &ws, &job("k", 400), Timestamp(300))
            .await
            .expect("successor");
        // The running job fails and would retry at 350; the queued successor covers it.
        requeue(
            &mut conn,
            running.id,
            Timestamp(350),
            "boom",
            Timestamp(300),
        )
        .await
        .expect("requeue");
        let next = claim_due(&mut conn, Timestamp(350), 60)
            .await
            .expect("claim")
            .expect("due at 350");
        assert_ne!(
            next.id, running.id,
            "the failed job was folded into its successor"
        );
        assert!(
            claim_due(&mut conn, Timestamp(360), 60)
                .await
                .expect("claim")
                .is_none(),
            "only one was left"
        );
    }
}
