//! The durable queue as the rest of the service sees it: what a job is ([`JobSpec`]:
//! its kind, dedupe key and retry policy) and putting one on the queue in the caller's
//! transaction ([`enqueue`]). Running jobs is the `jobs` module's work; this one knows
//! none of the handlers, so that every part that causes work can enqueue it without
//! depending on the parts that do it.

use std::sync::Arc;

use latchkey_engine::retry::RetryPolicy;
use latchkey_engine::{LockId, ReservationId, Timestamp, WorkspaceId};
use latchkey_store::Conn;
use latchkey_store::jobs::{self as stored, NewJob};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::error::{Error, Result};

/// How a message send is retried: 30 s doubling to 6 h, 21 attempts over about 2.9 days.
pub const SEND_POLICY: RetryPolicy = RetryPolicy {
    base_secs: 30,
    cap_secs: 6 * 3600,
    max_attempts: Some(21),
};

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
    /// the `reenio` source form).
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
    /// Forecast every lock's demand for the next days and alert the days over capacity;
    /// re-enqueued after each run (`capacity::FORECAST_EVERY_SECS`).
    ForecastCapacity,
    /// Read back a reservation's codes before its arrival and escalate what is not in
    /// order (`arrival::CHECK_BEFORE_SECS`).
    CheckArrival {
        /// The reservation.
        reservation: ReservationId,
    },
    /// Keep a lock's pool of backup codes full and fresh; re-enqueued for the next
    /// rotation (`backup`).
    RefillBackups {
        /// The lock.
        lock: LockId,
    },
}

/// How a staff code's owner id starts (`staff:{name}`), beside the reservations' ids
/// among the codes' owners.
pub const STAFF_OWNER_PREFIX: &str = "staff:";

/// How the owner id of a lock's pool of backup codes starts (`backup:{lock}`).
pub const BACKUP_OWNER_PREFIX: &str = "backup:";

impl JobSpec {
    /// The job that plans `owner`'s codes again: `reconcile_staff` for a staff code's
    /// owner, `refill_backups` for a lock's pool of backup codes, `reconcile` for a
    /// reservation.
    pub fn plan_owner(owner: &ReservationId) -> JobSpec {
        let id = owner.as_str();
        if let Some(name) = id.strip_prefix(STAFF_OWNER_PREFIX) {
            return JobSpec::ReconcileStaff {
                name: name.to_owned(),
            };
        }
        if let Some(lock) = id
            .strip_prefix(BACKUP_OWNER_PREFIX)
            .and_then(|l| LockId::parse(l).ok())
        {
            return JobSpec::RefillBackups { lock };
        }
        JobSpec::Reconcile {
            reservation: owner.clone(),
        }
    }

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
            JobSpec::ForecastCapacity => "forecast_capacity",
            JobSpec::CheckArrival { .. } => "check_arrival",
            JobSpec::RefillBackups { .. } => "refill_backups",
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
            JobSpec::ForecastCapacity => format!("forecast_capacity:{ws}"),
            JobSpec::CheckArrival { reservation } => format!("check_arrival:{ws}:{reservation}"),
            JobSpec::RefillBackups { lock } => format!("refill_backups:{ws}:{lock}"),
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
            JobSpec::SendNotification { .. } => SEND_POLICY,
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
    let payload =
        serde_json::to_string(spec).map_err(|e| Error::internal_from("encoding a job", e))?;
    let job = NewJob {
        kind: spec.kind(),
        dedupe_key: spec.dedupe_key(ws),
        payload,
        run_at,
    };
    Ok(stored::enqueue(conn, ws, &job, now).await?)
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

/// Wakes this process's job worker when a transaction that enqueued a job due now has
/// committed, so that it runs at once instead of at the next poll. (Other replicas are
/// woken by the database: PostgreSQL's `NOTIFY`, sent on commit by
/// [`latchkey_store::jobs::enqueue`].) Cheap to clone; every clone rings the same worker.
#[derive(Debug, Clone, Default)]
pub struct JobsWaiting(Arc<Notify>);

impl JobsWaiting {
    /// Call after the commit: a worker woken before it would find nothing to claim.
    pub fn notify(&self) {
        self.0.notify_one();
    }

    /// Resolves at the next [`JobsWaiting::notify`], or at once if one came while the
    /// worker was busy.
    pub async fn notified(&self) {
        self.0.notified().await;
    }
}
