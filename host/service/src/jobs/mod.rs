//! Running durable jobs: every provider call and every scheduled wake-up is a row in the
//! `jobs` table, enqueued ([`crate::queue`]) in the same transaction as the state change
//! that needs it.
//!
//! [`run_next`] claims one due job with a lease, runs it, and either deletes it (done),
//! puts it back with a backoff, or buries it as a dead letter with an alert. Each job kind
//! is described (kind, dedupe key, retry policy, payload) by its [`JobSpec`] variant in
//! [`crate::queue`], which every part that causes work can enqueue without depending on
//! the handlers; how it runs is a [`Job`] in a file of its own here, and [`handler`] is
//! the one list that maps kinds to them.

mod check_arrival;
mod code_target;
mod confirm_code;
mod create_code;
mod fetch_reenio;
mod forecast_capacity;
mod poll_ical;
mod reconcile;
mod refill_backups;
mod revoke_code;
mod send_notification;
mod update_code;
pub mod worker;

pub use worker::{run_due, work};

use std::sync::Arc;

use latchkey_engine::{Timestamp, WorkspaceId};
use latchkey_providers::ProviderError;
use latchkey_store::Conn;
use latchkey_store::alerts::{self, AlertKind, NewAlert};
use latchkey_store::jobs::{self as queue, ClaimedJob};

use crate::app::App;
use crate::error::{Error, Result};
use crate::queue::JobSpec;
use crate::telemetry::metrics::{self, JobState};
use code_target::{PendingChange, PendingCode};

/// How long a claimed job is leased, in seconds; a worker that dies frees it after this.
pub const LEASE_SECS: i64 = 120;

/// How the worker runs one kind of job, and what its failures do.
#[async_trait::async_trait]
trait Job: Send + Sync {
    /// Does the work. The handler completes its job (through its lease) in the
    /// transaction that records the work's effect, so the two commit together.
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError>;

    /// What burying the job does to its subject, in the burying transaction (a code
    /// marked failed, a message recorded as failed). Nothing by default.
    async fn on_dead_letter(
        &self,
        _app: &App,
        _tx: &mut Conn,
        _job: &ClaimedJob,
        _error: &str,
    ) -> Result<()> {
        Ok(())
    }

    /// What a failed attempt that will be retried does to its subject, in the requeueing
    /// transaction (a code that keeps failing makes sure its guest is told the doors that
    /// work in time). Nothing by default.
    async fn on_retry(&self, _app: &App, _tx: &mut Conn, _job: &ClaimedJob) -> Result<()> {
        Ok(())
    }

    /// Undoes [`Job::on_dead_letter`] when a person retries the dead letter, so the job
    /// acts on its subject again. Nothing by default.
    async fn on_retry_by_hand(&self, _conn: &mut Conn, _now: Timestamp) -> Result<()> {
        Ok(())
    }

    /// The alert raised while the job keeps failing and retrying; none by default.
    fn escalation(&self) -> Option<Escalation> {
        None
    }
}

/// An alert raised once, when a job that keeps retrying reaches `after_attempts` failed
/// attempts: a security action (a revocation) or a code that should be on its lock by now.
struct Escalation {
    /// The alert.
    kind: AlertKind,
    /// Failed attempts that raise it.
    after_attempts: i64,
    /// The code the job acts on.
    code: i64,
}

/// The registration list: the handler of each job kind.
fn handler(spec: &JobSpec) -> Box<dyn Job> {
    match spec.clone() {
        JobSpec::Reconcile { reservation } => Box::new(reconcile::Reconcile { reservation }),
        JobSpec::ReconcileStaff { name } => Box::new(reconcile::ReconcileStaff { name }),
        JobSpec::CreateCode { code } => Box::new(PendingCode {
            code,
            change: PendingChange::Create,
        }),
        JobSpec::UpdateCode { code } => Box::new(PendingCode {
            code,
            change: PendingChange::Update,
        }),
        JobSpec::RevokeCode { code, cleanup } => {
            Box::new(revoke_code::RevokeCode { code, cleanup })
        }
        JobSpec::ConfirmCode { code } => Box::new(confirm_code::ConfirmCode { code }),
        JobSpec::SendNotification { id } => Box::new(send_notification::SendNotification { id }),
        JobSpec::FetchReenio {
            source,
            reservation,
        } => Box::new(fetch_reenio::FetchReenio {
            source,
            reservation,
        }),
        JobSpec::PollIcal { source } => Box::new(poll_ical::PollIcal { source }),
        JobSpec::ForecastCapacity => Box::new(forecast_capacity::ForecastCapacity),
        JobSpec::CheckArrival { reservation } => {
            Box::new(check_arrival::CheckArrival { reservation })
        }
        JobSpec::RefillBackups { lock } => Box::new(refill_backups::RefillBackups { lock }),
    }
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
    /// Nothing was tried: the lock's circuit is open. Run again when it lets a trial
    /// through, in `retry_in_secs` seconds, rather than after the job's backoff, so that a
    /// lock that answers again is used within one cool-down.
    #[error("{error}")]
    CircuitOpen {
        /// What the circuit said.
        error: String,
        /// Seconds until the circuit lets a call through.
        retry_in_secs: i64,
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
            ProviderError::CircuitOpen { retry_in_secs, .. } => JobError::CircuitOpen {
                error: e.to_string(),
                retry_in_secs,
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
    let handler: Arc<dyn Job> = Arc::from(handler(&spec));
    // Run the handler as its own task so that a panic fails this job, not the worker.
    let task = {
        let (app, job, handler) = (app.clone(), job.clone(), Arc::clone(&handler));
        tokio::spawn(async move { handler.run(&app, &job).await })
    };
    let outcome = match task.await {
        Ok(outcome) => outcome,
        Err(join) => Err(JobError::Permanent(format!("job panicked: {join}"))),
    };
    let state = match outcome {
        Ok(()) => JobState::Done,
        Err(JobError::Store(Error::LeaseLost { .. })) => lease_lost(&job, &spec),
        Err(e) => match fail(app, &job, &spec, &*handler, e).await {
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

/// Requeues or buries a failed job; returns which.
async fn fail(
    app: &App,
    job: &ClaimedJob,
    spec: &JobSpec,
    handler: &dyn Job,
    e: JobError,
) -> Result<JobState> {
    let now = app.clock.now();
    let ws = &app.catalog.workspace;
    let policy = spec.policy();
    // The whole chain: "database error" alone tells the person reading the dead letter
    // nothing.
    let message = crate::error::display_chain(&e);
    let mut tx = app.pool.begin().await?;
    let retry = match &e {
        JobError::Retry { retry_after, .. } => Some(Retry::Backoff(*retry_after)),
        JobError::Store(_) => Some(Retry::Backoff(None)),
        JobError::CircuitOpen { retry_in_secs, .. } => Some(Retry::AtTrial(*retry_in_secs)),
        JobError::Permanent(_) => None,
    };
    let state = match retry {
        Some(retry) if !policy.exhausted(job.attempts) => {
            let delay = {
                let mut rng = app.rng.lock().unwrap_or_else(|p| p.into_inner());
                match retry {
                    Retry::Backoff(retry_after) => {
                        policy.delay(job.attempts, retry_after, &mut *rng)
                    }
                    Retry::AtTrial(secs) => latchkey_engine::retry::at_trial(secs, &mut *rng),
                }
            };
            tracing::debug!(job = job.id, kind = spec.kind(), attempt = job.attempts, delay, error = %message, "job will be retried");
            queue::requeue(&mut tx, job.lease(), now.plus(delay), &message, now).await?;
            handler.on_retry(app, &mut tx, job).await?;
            if let Some(escalation) = handler.escalation()
                && job.attempts == escalation.after_attempts
            {
                escalate(&mut tx, ws, job, spec, &escalation, &message, now).await?;
            }
            JobState::Retry
        }
        _ => {
            tracing::warn!(job = job.id, kind = spec.kind(), error = %message, "job moved to dead letters");
            queue::bury(&mut tx, job.lease(), &message, now).await?;
            handler.on_dead_letter(app, &mut tx, job, &message).await?;
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

/// When a failed job runs again.
enum Retry {
    /// After the job's backoff, and at least the provider's `Retry-After` (seconds).
    Backoff(Option<i64>),
    /// When the lock's circuit lets a trial through, in this many seconds.
    AtTrial(i64),
}

/// Tells a person that a job keeps failing (it keeps retrying).
async fn escalate(
    conn: &mut Conn,
    ws: &WorkspaceId,
    job: &ClaimedJob,
    spec: &JobSpec,
    escalation: &Escalation,
    error: &str,
    now: Timestamp,
) -> Result<()> {
    let Escalation { kind, code, .. } = *escalation;
    // The front desk looks for its lock and its guest, not for a code number.
    let row = latchkey_store::codes::get(conn, ws, code).await?;
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

/// Retries dead letter `id` by hand: a fresh retry budget, due now, and its subject
/// reopened by its job ([`Job::on_retry_by_hand`]: a code marked `failed` back to
/// `pending`, a message back to `queued`), so the job acts on it again. Returns false when
/// `id` is not a dead letter of the workspace.
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
    // An unreadable payload stays unreadable: retried, it is buried again at once.
    if let Ok(spec) = serde_json::from_str::<JobSpec>(&payload) {
        handler(&spec).on_retry_by_hand(conn, now).await?;
    }
    Ok(queue::retry_dead(conn, ws, id, now).await?)
}
