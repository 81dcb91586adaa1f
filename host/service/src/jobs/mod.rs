//! Running durable jobs: every provider call and every scheduled wake-up is a row in the
//! `jobs` table, enqueued ([`crate::queue`]) in the same transaction as the state change
//! that needs it.
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
mod revoke_code;
mod send_notification;
mod update_code;
pub mod worker;

pub use worker::{run_due, work};

use latchkey_engine::{Timestamp, WorkspaceId};
use latchkey_providers::ProviderError;
use latchkey_store::alerts::{self, AlertKind, NewAlert};
use latchkey_store::jobs::{self as queue, ClaimedJob};
use latchkey_store::{Conn, codes};

use crate::app::App;
use crate::error::{Error, Result};
use crate::queue::JobSpec;
use crate::telemetry::metrics::{self, JobState};

/// How long a claimed job is leased, in seconds; a worker that dies frees it after this.
pub const LEASE_SECS: i64 = 120;

/// Revocation attempts after which a person is alerted (the job keeps retrying).
const ALERT_AFTER_REVOKE_ATTEMPTS: i64 = 5;

/// Confirmation attempts after which a pending code is reported overdue.
const ALERT_AFTER_CONFIRM_ATTEMPTS: i64 = 10;

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
        queue::claim_due(&mut conn, now, LEASE_SECS, &app.worker).await?
    };
    let Some(job) = claimed else { return Ok(false) };
    let spec: JobSpec = match serde_json::from_str(&job.payload) {
        Ok(spec) => spec,
        Err(e) => {
            let mut conn = app.pool.acquire().await?;
            queue::bury(
                &mut conn,
                job.lease(),
                &format!("unreadable payload: {e}"),
                now,
            )
            .await?;
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
        Err(JobError::Store(Error::LeaseLost { .. })) => lease_lost(&job, &spec),
        Err(e) => match fail(app, &job, &spec, e).await {
            Err(Error::LeaseLost { .. }) => lease_lost(&job, &spec),
            other => other?,
        },
    };
    metrics::job_ran(spec.kind(), state);
    Ok(true)
}

/// A run that outlived its lease: another worker holds the job now, and what this run
/// wrote under the lease was rolled back with the transaction that could not complete it.
/// (What it did at a lock cloud is repeated harmlessly: calls carry idempotency markers.)
fn lease_lost(job: &ClaimedJob, spec: &JobSpec) -> JobState {
    tracing::warn!(
        job = job.id,
        kind = spec.kind(),
        attempt = job.attempts,
        "job outlived its lease; the worker that claimed it again finishes it"
    );
    JobState::LeaseLost
}

/// Deletes a job whose work turned out to be done or moot.
async fn complete(app: &App, job: &ClaimedJob) -> Result<(), JobError> {
    let mut conn = app.pool.acquire().await?;
    queue::complete(&mut conn, job.lease()).await?;
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
            queue::requeue(&mut tx, job.lease(), now.plus(delay), &message, now).await?;
            escalate(&mut tx, ws, job, spec, &message, now).await?;
            JobState::Retry
        }
        _ => {
            tracing::warn!(job = job.id, kind = spec.kind(), error = %message, "job moved to dead letters");
            queue::bury(&mut tx, job.lease(), &message, now).await?;
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
                        crate::outbox::after_code_change(app, &mut tx, &row.code.reservation)
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
