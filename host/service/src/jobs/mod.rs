//! Durable jobs: every provider call and every scheduled wake-up is a row in the `jobs`
//! table, enqueued in the same transaction as the state change that needs it.
//!
//! [`run_next`] claims one due job with a lease, runs it, and either deletes it (done),
//! puts it back with a backoff, or buries it as a dead letter with an alert. Each job kind
//! lives in its own file; this list is the one place that maps kinds to handlers.

mod code_target;
mod confirm_code;
mod create_code;
mod fetch_reenio;
mod poll_ical;
mod reconcile;
pub mod retry;
mod revoke_code;
mod send_notification;
mod update_code;

use latchkey_engine::{CodeState, ReservationId, Timestamp, WorkspaceId};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{Error, Result};
use crate::telemetry::metrics::{self, JobState};
use latchkey_providers::ProviderError;
use latchkey_store::alerts::{self, AlertKind, NewAlert};
use latchkey_store::jobs::{self as queue, ClaimedJob, NewJob};
use latchkey_store::{Conn, codes};
use retry::RetryPolicy;

/// How long a claimed job is leased, in seconds; a worker that dies frees it after this.
pub const LEASE_SECS: i64 = 120;

/// Revocation attempts after which a person is alerted (the job keeps retrying).
const ALERT_AFTER_REVOKE_ATTEMPTS: i64 = 5;

/// Confirmation attempts after which a pending code is reported overdue.
const ALERT_AFTER_CONFIRM_ATTEMPTS: i64 = 10;

/// A job and its arguments, stored as JSON in the job's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// Plan one reservation again.
    Reconcile {
        /// The reservation.
        reservation: ReservationId,
    },
    /// Put a pending code on its lock.
    CreateCode {
        /// Code id.
        code: i64,
    },
    /// Change a code's window on its lock.
    UpdateCode {
        /// Code id.
        code: i64,
    },
    /// Delete a code from its lock.
    RevokeCode {
        /// Code id.
        code: i64,
        /// An expired code being cleared to free a slot, not a revocation.
        cleanup: bool,
    },
    /// Read a pending code back until the lock confirms it.
    ConfirmCode {
        /// Code id.
        code: i64,
    },
    /// Plan one staff code again (its window moved on, or it was changed).
    ReconcileStaff {
        /// The staff code's name.
        name: String,
    },
    /// Send one guest message from the outbox.
    SendNotification {
        /// The message's id.
        id: i64,
    },
    /// Fetch a reenio reservation for its pending deliveries (see
    /// [`crate::sources::reenio`]).
    FetchReenio {
        /// The reenio source.
        source: String,
        /// reenio's reservation id.
        reservation: i64,
    },
    /// Fetch an `ical` source's feed and apply it; re-enqueued after each run.
    PollIcal {
        /// The source's name.
        source: String,
    },
}

impl JobSpec {
    /// The kind, as stored in the `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            JobSpec::Reconcile { .. } => "reconcile",
            JobSpec::CreateCode { .. } => "create_code",
            JobSpec::UpdateCode { .. } => "update_code",
            JobSpec::RevokeCode { .. } => "revoke_code",
            JobSpec::ConfirmCode { .. } => "confirm_code",
            JobSpec::ReconcileStaff { .. } => "reconcile_staff",
            JobSpec::SendNotification { .. } => "send_notification",
            JobSpec::FetchReenio { .. } => "fetch_reenio",
            JobSpec::PollIcal { .. } => "poll_ical",
        }
    }

    fn dedupe_key(&self, ws: &WorkspaceId) -> String {
        match self {
            JobSpec::Reconcile { reservation } => format!("reconcile:{ws}:{reservation}"),
            JobSpec::ReconcileStaff { name } => format!("reconcile_staff:{ws}:{name}"),
            JobSpec::SendNotification { id } => format!("send_notification:{ws}:{id}"),
            JobSpec::FetchReenio {
                source,
                reservation,
            } => format!("fetch_reenio:{ws}:{source}:{reservation}"),
            JobSpec::PollIcal { source } => format!("poll_ical:{ws}:{source}"),
            JobSpec::CreateCode { code }
            | JobSpec::UpdateCode { code }
            | JobSpec::RevokeCode { code, .. }
            | JobSpec::ConfirmCode { code } => format!("{}:{ws}:{code}", self.kind()),
        }
    }

    /// The retry schedule. Code jobs retry for as long as the code matters (each handler
    /// checks that its window is not over), with a short cap so that a lock coming back
    /// from an outage is served within minutes.
    pub fn policy(&self) -> RetryPolicy {
        match self {
            JobSpec::Reconcile { .. } | JobSpec::ReconcileStaff { .. } => RetryPolicy {
                base_secs: 5,
                cap_secs: 300,
                max_attempts: Some(10),
            },
            JobSpec::SendNotification { .. } => crate::notify::SEND_POLICY,
            // reenio's limit is per minute: a 429's Retry-After (up to 60 s) sets the pace,
            // and a day of failures reaches a person as a dead letter.
            JobSpec::FetchReenio { .. } => RetryPolicy {
                base_secs: 5,
                cap_secs: 600,
                max_attempts: Some(150),
            },
            JobSpec::ConfirmCode { .. } => RetryPolicy {
                base_secs: 30,
                cap_secs: 60,
                max_attempts: None,
            },
            _ => RetryPolicy {
                base_secs: 5,
                cap_secs: 120,
                max_attempts: None,
            },
        }
    }
}

/// Enqueues `spec` to run at `run_at`, in the caller's transaction.
pub async fn enqueue(
    conn: &mut Conn,
    ws: &WorkspaceId,
    spec: &JobSpec,
    run_at: Timestamp,
    now: Timestamp,
) -> Result<()> {
    let payload = serde_json::to_string(spec).map_err(|e| Error::Internal(e.to_string()))?;
    let job = NewJob {
        kind: spec.kind(),
        dedupe_key: spec.dedupe_key(ws),
        payload,
        run_at,
    };
    Ok(queue::enqueue(conn, ws, &job, now).await?)
}

/// Moves the queued job of `spec`, if there is one, to run at `now`: a provider webhook
/// saying the work is done makes the read-back worth doing at once. Unlike [`enqueue`] it
/// never creates a job, since a job whose turn has not come (a confirmation before its
/// code's update) must not run out of order. Returns whether a job was moved.
///
/// # Errors
/// Database errors.
pub async fn bring_forward(
    conn: &mut Conn,
    ws: &WorkspaceId,
    spec: &JobSpec,
    now: Timestamp,
) -> Result<bool> {
    let moved = sqlx::query(
        "UPDATE jobs SET run_at = $1, updated_at = $2
         WHERE workspace_id = $3 AND dedupe_key = $4 AND state = 'queued' AND run_at > $5",
    )
    .bind(now.unix())
    .bind(now.unix())
    .bind(ws.as_str())
    .bind(spec.dedupe_key(ws))
    .bind(now.unix())
    .execute(&mut *conn)
    .await?;
    Ok(moved.rows_affected() > 0)
}

/// Retries dead letter `id` by hand: a fresh retry budget, due now, and a code it had
/// marked `failed` back to `pending` (a message back to `queued`), so the job acts on it
/// again. Returns false when `id`
/// is not a dead letter of the workspace.
///
/// # Errors
/// Database errors.
pub async fn retry_dead_letter(
    conn: &mut Conn,
    ws: &WorkspaceId,
    id: i64,
    now: Timestamp,
) -> Result<bool> {
    let Some(payload) = queue::dead_payload(conn, ws, id).await? else {
        return Ok(false);
    };
    match serde_json::from_str(&payload) {
        Ok(JobSpec::CreateCode { code } | JobSpec::UpdateCode { code }) => {
            codes::transition(conn, code, &[CodeState::Failed], CodeState::Pending, now).await?;
        }
        Ok(JobSpec::SendNotification { id }) => {
            latchkey_store::notifications::reopen(conn, id).await?;
        }
        _ => {}
    }
    Ok(queue::retry_dead(conn, ws, id, now).await?)
}

/// Why a job did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Try again later (after at least `retry_after` seconds when given).
    #[error("{error}")]
    Retry {
        /// What went wrong.
        error: String,
        /// The provider's `Retry-After`, in seconds.
        retry_after: Option<i64>,
    },
    /// Retrying cannot help.
    #[error("{0}")]
    Permanent(String),
    /// The store failed; retried.
    #[error(transparent)]
    Store(#[from] Error),
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::Store(Error::Database(e))
    }
}

impl From<latchkey_store::error::Error> for JobError {
    fn from(e: latchkey_store::error::Error) -> Self {
        JobError::Store(e.into())
    }
}

impl From<ProviderError> for JobError {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::RateLimited(secs) => JobError::Retry {
                error: e.to_string(),
                retry_after: Some(secs),
            },
            e if e.is_retryable() => JobError::Retry {
                error: e.to_string(),
                retry_after: None,
            },
            e => JobError::Permanent(e.to_string()),
        }
    }
}

/// Claims one due job and runs it. Returns `false` when no job is due.
///
/// # Errors
/// Database errors while claiming or recording the outcome.
pub async fn run_next(app: &App) -> Result<bool> {
    let now = app.clock.now();
    let claimed = {
        let mut conn = app.pool.acquire().await?;
        queue::claim_due(&mut conn, now, LEASE_SECS).await?
    };
    let Some(job) = claimed else { return Ok(false) };
    let spec: JobSpec = match serde_json::from_str(&job.payload) {
        Ok(spec) => spec,
        Err(e) => {
            let mut conn = app.pool.acquire().await?;
            queue::bury(&mut conn, job.id, &format!("unreadable payload: {e}"), now).await?;
            metrics::job_ran(&job.kind, JobState::Dead);
            return Ok(true);
        }
    };
    // Run the handler as its own task so that a panic fails this job, not the worker.
    let task = {
        let (app, job, spec) = (app.clone(), job.clone(), spec.clone());
        tokio::spawn(async move { dispatch(&app, &job, &spec).await })
    };
    let outcome = match task.await {
        Ok(outcome) => outcome,
        Err(join) => Err(JobError::Permanent(format!("job panicked: {join}"))),
    };
    let state = match outcome {
        Ok(()) => JobState::Done,
        Err(e) => fail(app, &job, &spec, e).await?,
    };
    metrics::job_ran(spec.kind(), state);
    Ok(true)
}

/// Deletes a job whose work turned out to be done or moot.
async fn complete(app: &App, job: &ClaimedJob) -> Result<(), JobError> {
    let mut conn = app.pool.acquire().await?;
    queue::complete(&mut conn, job.id).await?;
    Ok(())
}

async fn dispatch(app: &App, job: &ClaimedJob, spec: &JobSpec) -> Result<(), JobError> {
    match spec {
        JobSpec::Reconcile { reservation } => reconcile::run(app, job, reservation).await,
        JobSpec::ReconcileStaff { name } => reconcile::run_staff(app, job, name).await,
        JobSpec::CreateCode { code } => create_code::run(app, job, *code).await,
        JobSpec::UpdateCode { code } => update_code::run(app, job, *code).await,
        JobSpec::RevokeCode { code, cleanup } => revoke_code::run(app, job, *code, *cleanup).await,
        JobSpec::ConfirmCode { code } => confirm_code::run(app, job, *code).await,
        JobSpec::SendNotification { id } => send_notification::run(app, job, *id).await,
        JobSpec::FetchReenio {
            source,
            reservation,
        } => fetch_reenio::run(app, job, source, *reservation).await,
        JobSpec::PollIcal { source } => poll_ical::run(app, job, source).await,
    }
}

/// Requeues or buries a failed job; returns which.
async fn fail(app: &App, job: &ClaimedJob, spec: &JobSpec, e: JobError) -> Result<JobState> {
    let now = app.clock.now();
    let ws = &app.catalog.workspace;
    let policy = spec.policy();
    let message = e.to_string();
    let mut tx = app.pool.begin().await?;
    let retry_after = match &e {
        JobError::Retry { retry_after, .. } => Some(*retry_after),
        JobError::Store(_) => Some(None),
        JobError::Permanent(_) => None,
    };
    let state = match retry_after {
        Some(retry_after) if !policy.exhausted(job.attempts) => {
            let delay = {
                let mut rng = app.rng.lock().unwrap_or_else(|p| p.into_inner());
                policy.delay(job.attempts, retry_after, &mut *rng)
            };
            tracing::debug!(job = job.id, kind = spec.kind(), attempt = job.attempts, delay, error = %message, "job will be retried");
            queue::requeue(&mut tx, job.id, now.plus(delay), &message, now).await?;
            escalate(&mut tx, ws, job, spec, &message, now).await?;
            JobState::Retry
        }
        _ => {
            tracing::warn!(job = job.id, kind = spec.kind(), error = %message, "job moved to dead letters");
            queue::bury(&mut tx, job.id, &message, now).await?;
            match spec {
                JobSpec::CreateCode { code } | JobSpec::UpdateCode { code } => {
                    codes::transition(
                        &mut tx,
                        *code,
                        &[latchkey_engine::CodeState::Pending],
                        latchkey_engine::CodeState::Failed,
                        now,
                    )
                    .await?;
                    // The guest may now be told of the doors that did work.
                    if let Some(row) = codes::get(&mut tx, ws, *code).await? {
                        crate::notify::decide::after_code_change(
                            app,
                            &mut tx,
                            &row.code.reservation,
                        )
                        .await?;
                    }
                }
                JobSpec::SendNotification { id } => {
                    let detail = format!("gave up after {} attempts: {message}", job.attempts);
                    latchkey_store::notifications::finish(
                        &mut tx,
                        *id,
                        latchkey_store::notifications::MessageState::Failed,
                        Some(&detail),
                        now,
                    )
                    .await?;
                }
                _ => {}
            }
            let alert = NewAlert {
                kind: AlertKind::DeadLetter,
                dedupe_key: format!("dead:{}", job.id),
                lock: None,
                reservation: None,
                code: None,
                message: format!(
                    "job {} ({}) gave up after {} attempts: {message}",
                    job.id,
                    spec.kind(),
                    job.attempts
                ),
            };
            alerts::raise(&mut tx, ws, &alert, now).await?;
            JobState::Dead
        }
    };
    tx.commit().await?;
    Ok(state)
}

/// Tells a person when a security action keeps failing; the job keeps retrying.
async fn escalate(
    conn: &mut Conn,
    ws: &WorkspaceId,
    job: &ClaimedJob,
    spec: &JobSpec,
    error: &str,
    now: Timestamp,
) -> Result<()> {
    let (kind, threshold, code) = match spec {
        JobSpec::RevokeCode {
            code,
            cleanup: false,
        } => (
            AlertKind::RevocationFailing,
            ALERT_AFTER_REVOKE_ATTEMPTS,
            *code,
        ),
        JobSpec::ConfirmCode { code } => (
            AlertKind::ConfirmationOverdue,
            ALERT_AFTER_CONFIRM_ATTEMPTS,
            *code,
        ),
        _ => return Ok(()),
    };
    if job.attempts != threshold {
        return Ok(());
    }
    // The front desk looks for its lock and its guest, not for a code number.
    let row = codes::get(conn, ws, code).await?;
    let lock = row.as_ref().map(|r| r.code.lock.to_string());
    let reservation = row.as_ref().map(|r| r.code.reservation.to_string());
    let alert = NewAlert {
        kind,
        dedupe_key: format!("{}:{code}", kind.as_str()),
        lock: lock.as_deref(),
        reservation: reservation.as_deref(),
        code: Some(code),
        message: format!(
            "code {code}{}: {} failed {} times, still retrying: {error}",
            lock.as_deref()
                .map(|l| format!(" on lock `{l}`"))
                .unwrap_or_default(),
            spec.kind(),
            job.attempts
        ),
    };
    alerts::raise(conn, ws, &alert, now).await?;
    Ok(())
}
