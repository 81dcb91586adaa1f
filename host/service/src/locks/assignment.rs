//! Assigning a lock to a branch (`PUT /v1/locks/{lock}/branch`, table
//! `lock_assignments`); what the effective branch means is told in
//! [`crate::planner::assignments`].
//!
//! Changing an assignment re-plans, in the same transaction, every reservation the lock
//! may concern ([`concerned`]): the job worker then creates or revokes its codes at once.

use std::collections::BTreeSet;

use latchkey_engine::{BranchId, DoorKind, Lock, LockId, ReservationId};
use latchkey_store::assignments as stored;
use latchkey_store::revisions::{self, Topic};
use latchkey_store::{Conn, codes, reservations};
use serde::Serialize;

use crate::app::AppState;
use crate::catalog::concerns;
use crate::error::{Error, Result};
use crate::planner::{Assignment, Origin};
use crate::queue::{self, JobSpec};

/// What `PUT /v1/locks/{lock}/branch` answers: the new assignment, the branch before, and
/// how many reservations were queued to be re-planned.
#[derive(Debug, Clone, Serialize)]
pub struct AssignOutcome {
    /// The assignment now in force.
    #[serde(flatten)]
    pub assignment: Assignment,
    /// The effective branch before the change.
    pub previous: Option<BranchId>,
    /// Reservations queued for a reconcile (none when the branch did not change).
    pub reconciling: usize,
}

/// Assigns `lock` to `branch` (`None`: unassigns it), and queues a reconcile of every
/// reservation the lock may concern (and the refill of its backup pool, which an
/// unassigned lock does not keep), in one transaction that also bumps the assignment
/// revision, so every replica reloads its copy before it plans again. Assigning the branch a lock already has records it without re-planning.
///
/// # Errors
/// [`Error::NotFound`] for a lock not in the catalog; [`Error::Invalid`] (pointer
/// `/branch`) for a branch the property does not have; database errors.
pub async fn assign(
    app: &AppState,
    lock_id: &LockId,
    branch: Option<BranchId>,
) -> Result<AssignOutcome> {
    let ws = &app.catalog.workspace;
    let lock = app.catalog.lock(lock_id).ok_or_else(|| Error::NotFound {
        what: "lock",
        id: lock_id.to_string(),
    })?;
    if let Some(b) = &branch
        && app.catalog.branch(b).is_none()
    {
        return Err(Error::Invalid {
            pointer: "/branch".into(),
            detail: format!("`/branch`: the property has no branch `{b}`"),
        });
    }
    let _one_at_a_time = app.planner.assignments.changing.lock().await;
    let now = app.clock.now();
    let mut tx = app.pool.begin().await?;
    app.refresh(&mut tx).await?;
    let previous = app.planner.assignments.branch_of(lock_id);
    stored::set(&mut tx, ws, lock_id, branch.as_ref(), now).await?;
    let ids = if previous == branch {
        Vec::new()
    } else {
        concerned(app, &mut tx, lock).await?
    };
    for owner in &ids {
        // A staff code or a backup pool on the lock is planned by its own job.
        queue::enqueue(&mut tx, ws, &JobSpec::plan_owner(owner), now, now).await?;
    }
    if app.catalog.backup_pool(lock) > 0 {
        let refill = JobSpec::RefillBackups {
            lock: lock_id.clone(),
        };
        queue::enqueue(&mut tx, ws, &refill, now, now).await?;
    }
    let assignment = Assignment {
        lock: lock_id.clone(),
        branch: branch.clone(),
        origin: Origin::Api,
        updated_at: Some(now),
    };
    revisions::bump(&mut tx, ws, Topic::Assignments).await?;
    tx.commit().await?;
    if !ids.is_empty() {
        app.jobs_waiting.notify();
    }
    tracing::info!(lock = %lock_id, from = ?previous, to = ?branch, reconciling = ids.len(), "lock assignment changed");
    Ok(AssignOutcome {
        assignment,
        previous,
        reconciling: ids.len(),
    })
}

/// The reservations whose plan may involve `lock`, sorted: those holding a live code on
/// it (to revoke or keep), and the open ones it may concern (every open reservation for a
/// shared door, those staying in its resources for a private one). The rule decides the
/// rest when they are reconciled.
///
/// # Errors
/// [`Error::Internal`] for a stored id that no longer parses; database errors.
pub(crate) async fn concerned(
    app: &AppState,
    conn: &mut Conn,
    lock: &Lock,
) -> Result<Vec<ReservationId>> {
    let ws = &app.catalog.workspace;
    let mut ids: BTreeSet<String> = codes::live_on_lock(conn, ws, &lock.id)
        .await?
        .into_iter()
        .map(|c| c.code.reservation.as_str().to_owned())
        .collect();
    for id in reservations::open_ids(conn, ws).await? {
        if ids.contains(&id) {
            continue;
        }
        let wanted = match lock.door {
            DoorKind::Shared => true,
            DoorKind::Private => reservations::get(conn, ws, &id)
                .await?
                .is_some_and(|r| concerns(lock, &r.state.resources)),
        };
        if wanted {
            ids.insert(id);
        }
    }
    ids.into_iter()
        .map(|id| ReservationId::parse(id).map_err(Error::internal))
        .collect()
}
