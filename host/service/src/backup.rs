//! Backup codes: a small pool of codes on each online lock (`[backup] pool_size`), on the
//! lock long before anyone needs them and known to nobody, so that a guest whose own code
//! cannot reach the lock in time (its cloud is down, the lock refused it) or does not work
//! at the door still gets in.
//!
//! A pool's codes are ordinary access codes owned by `backup:{lock}` with a long window
//! ([`VALID_FOR_SECS`]), put on and deleted by the same durable jobs as guests' codes, and
//! counted in the lock's capacity. [`refill`] keeps the pool full and rotates codes before
//! their window ends (the `refill_backups` job, after each pull and at each rotation).
//! [`pull`] gives one to a guest: the code moves to the reservation (recorded with the
//! instant it was given), its window is narrowed to the guest's on the lock, the guest's
//! own code on that door is withdrawn, the guest is told the backup's PIN at once (it
//! opens the door throughout their window whether or not the narrowing has landed), the
//! desk is alerted, and the pool is refilled. From then on it is the reservation's code
//! like any other: a later change of the stay moves its window, a cancellation revokes it.

use latchkey_engine::{CodeRecord, CodeState, Lock, LockId, ReservationId, Timestamp, Window};
use latchkey_store::Conn;
use latchkey_store::alerts::{self, AlertKind, NewAlert};
use latchkey_store::codes::{self, NewCode};

use crate::app::AppState;
use crate::error::{Error, Result};
use crate::queue::{self, BACKUP_OWNER_PREFIX, JobSpec};
use crate::reconcile::revoke;

/// How long a backup code's window lasts, in seconds (a year): rotating a pool costs a
/// creation and a deletion per code, so it happens about once a year.
pub const VALID_FOR_SECS: i64 = 365 * 86_400;

/// A pool code is replaced once less than this is left of its window, in seconds (45
/// days), so that a pulled code still covers a month-long stay.
pub const ROTATE_BEFORE_SECS: i64 = 45 * 86_400;

/// How long before its window opens a guest's code must be confirmed on its lock, in
/// seconds (2 hours, the pre-arrival check's last look): from then on, a code that is not
/// is replaced by a backup code.
pub const PULL_BEFORE_SECS: i64 = 2 * 3600;

/// Failed attempts at putting a guest's code on its lock, once [`PULL_BEFORE_SECS`] have
/// come, after which a backup code is given (a single failure is usually gone at the next
/// attempt, seconds later).
pub const PULL_AFTER_ATTEMPTS: i64 = 3;

/// True when `code` is a guest's code that should be on its lock by now and a backup may
/// replace it: its window opens within [`PULL_BEFORE_SECS`] or has opened, and is not over.
pub fn is_due(code: &CodeRecord, now: Timestamp) -> bool {
    let w = code.code.window;
    now >= w.starts_at.plus(-PULL_BEFORE_SECS) && now < w.ends_at
}

/// When a lock is too full for its pool, how long until it is tried again, in seconds.
const FULL_RETRY_SECS: i64 = 6 * 3600;

/// The owner id of `lock`'s pool, `backup:{lock}`.
///
/// # Errors
/// [`Error::Config`] for a lock id too long to take the prefix.
pub fn owner(lock: &LockId) -> Result<ReservationId> {
    ReservationId::parse(format!("{BACKUP_OWNER_PREFIX}{lock}"))
        .map_err(|e| Error::config(format!("lock `{lock}` cannot keep backup codes: {e}")))
}

/// True when `owner` is a lock's pool, not a reservation or a staff code.
pub fn is_pool(owner: &ReservationId) -> bool {
    owner.as_str().starts_with(BACKUP_OWNER_PREFIX)
}

/// The codes of `lock`'s pool on record, oldest first (every state: the live ones are
/// the pool, the others its history).
///
/// # Errors
/// Database errors.
pub async fn pool(app: &AppState, conn: &mut Conn, lock: &LockId) -> Result<Vec<CodeRecord>> {
    Ok(codes::for_reservation(conn, &app.catalog.workspace, owner(lock)?.as_str()).await?)
}

/// Brings `lock`'s pool to its size, in the caller's transaction: retires the codes whose
/// window ends within [`ROTATE_BEFORE_SECS`] (and any beyond the size, should it have
/// shrunk or the lock been unassigned), and puts new ones on while the lock has room
/// outside its reserve. Schedules the next refill at the next rotation (or in 6 hours
/// when the lock was too full). Returns how many codes it put on.
///
/// # Errors
/// Database errors; [`Error::Internal`] when no free PIN is found.
pub async fn refill(
    app: &AppState,
    conn: &mut Conn,
    lock_id: &LockId,
    now: Timestamp,
) -> Result<usize> {
    let ws = &app.catalog.workspace;
    let Some(lock) = app.catalog.lock(lock_id) else {
        return Ok(0);
    };
    // An unassigned lock gets no codes, backups included.
    app.refresh(conn).await?;
    let size = if app.planner.assignments.is_assigned(lock_id) {
        app.catalog.backup_pool(lock) as usize
    } else {
        0
    };
    let pool_owner = owner(lock_id)?;
    let mut kept = 0usize;
    let mut next: Option<Timestamp> = None;
    for c in codes::for_reservation(conn, ws, pool_owner.as_str()).await? {
        if !matches!(c.code.state, CodeState::Pending | CodeState::Active) {
            continue;
        }
        let rotate_at = c.code.window.ends_at.plus(-ROTATE_BEFORE_SECS);
        if kept < size && rotate_at > now {
            kept += 1;
            next = Some(next.map_or(rotate_at, |n| n.min(rotate_at)));
        } else {
            revoke(app, conn, c.code.id, now).await?;
        }
    }
    let room = match app.catalog.budget(lock) {
        Some(budget) => {
            let held = codes::held_on_lock(conn, ws, lock_id)
                .await?
                .iter()
                .filter(|h| !h.leaving)
                .count();
            (budget.capacity.saturating_sub(budget.reserve) as usize).saturating_sub(held)
        }
        None => 0,
    };
    let wanted = size.saturating_sub(kept);
    let added = wanted.min(room);
    for _ in 0..added {
        put_on(app, conn, lock, &pool_owner, now).await?;
    }
    if added > 0 {
        let rotate_at = now.plus(VALID_FOR_SECS - ROTATE_BEFORE_SECS);
        next = Some(next.map_or(rotate_at, |n| n.min(rotate_at)));
    }
    if added < wanted {
        tracing::info!(lock = %lock_id, missing = wanted - added, "lock too full for its whole backup pool");
        let retry = now.plus(FULL_RETRY_SECS);
        next = Some(next.map_or(retry, |n| n.min(retry)));
    }
    if let Some(at) = next {
        let spec = JobSpec::RefillBackups {
            lock: lock_id.clone(),
        };
        queue::enqueue(conn, ws, &spec, at, now).await?;
    }
    Ok(added)
}

/// Records a new pool code on `lock` and queues its creation.
async fn put_on(
    app: &AppState,
    conn: &mut Conn,
    lock: &Lock,
    pool_owner: &ReservationId,
    now: Timestamp,
) -> Result<()> {
    let ws = &app.catalog.workspace;
    let pin = if lock.capabilities.custom_pin {
        Some(crate::reconcile::pins::choose(conn, ws, lock, None, None, &app.rng).await?)
    } else {
        None
    };
    let new = NewCode {
        reservation: pool_owner,
        lock: &lock.id,
        pin: pin.as_ref(),
        window: Window {
            starts_at: now,
            ends_at: now.plus(VALID_FOR_SECS),
        },
        replaces: None,
    };
    let code = codes::insert(conn, ws, &new, now).await?;
    queue::enqueue(conn, ws, &JobSpec::CreateCode { code }, now, now).await
}

/// A backup code given to a guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    /// The code, now the reservation's.
    pub code: i64,
    /// The door's lock.
    pub lock: LockId,
    /// Its PIN (known: only codes on their lock with a PIN are given).
    pub pin: Option<latchkey_engine::Pin>,
}

/// Gives a backup code of `guest_code`'s lock to its reservation in place of
/// `guest_code`, in the caller's transaction (see the module documentation), and alerts
/// the desk with `why`. `None` when the lock keeps no pool, the pool has no code on the
/// lock yet, or `guest_code` is a pool's or a staff code's.
///
/// # Errors
/// Database errors.
pub async fn pull(
    app: &AppState,
    conn: &mut Conn,
    guest_code: &CodeRecord,
    why: &str,
    now: Timestamp,
) -> Result<Option<Given>> {
    let ws = &app.catalog.workspace;
    let reservation = &guest_code.code.reservation;
    let lock_id = &guest_code.code.lock;
    if is_pool(reservation) || reservation.as_str().starts_with(queue::STAFF_OWNER_PREFIX) {
        return Ok(None);
    }
    let Some(lock) = app.catalog.lock(lock_id) else {
        return Ok(None);
    };
    if app.catalog.backup_pool(lock) == 0 {
        return Ok(None);
    }
    let window = guest_code.code.window;
    let pool_owner = owner(lock_id)?;
    // The pool code that covers the guest's window, else the one that lasts longest (its
    // window is widened on the lock).
    let mut candidates: Vec<CodeRecord> = codes::for_reservation(conn, ws, pool_owner.as_str())
        .await?
        .into_iter()
        .filter(|c| {
            c.code.state == CodeState::Active
                && c.code.provider_ref.is_some()
                && c.code.pin.is_some()
        })
        .collect();
    candidates.sort_by_key(|c| {
        let w = c.code.lock_window.unwrap_or(c.code.window);
        let covers = w.starts_at <= window.starts_at && w.ends_at >= window.ends_at;
        (covers, w.ends_at)
    });
    let Some(backup) = candidates.pop() else {
        return Ok(None);
    };
    let id = backup.code.id;
    if !codes::give(conn, id, &pool_owner, reservation, window, now).await? {
        return Ok(None);
    }
    queue::enqueue(conn, ws, &JobSpec::UpdateCode { code: id }, now, now).await?;
    // The guest's own code on the door goes: one door, one PIN.
    for c in codes::for_reservation(conn, ws, reservation.as_str()).await? {
        if c.code.lock == *lock_id && c.code.id != id && c.code.state.is_live() {
            revoke(app, conn, c.code.id, now).await?;
        }
    }
    let door = if lock.name.is_empty() {
        lock_id.as_str()
    } else {
        lock.name.as_str()
    };
    let alert = NewAlert {
        kind: AlertKind::BackupCodeGiven,
        dedupe_key: format!("backup:{id}"),
        lock: Some(lock_id.as_str()),
        reservation: Some(reservation.as_str()),
        code: Some(id),
        message: format!(
            "reservation `{reservation}` was given backup code {id} for door `{door}`: {why}"
        ),
    };
    alerts::raise(conn, ws, &alert, now).await?;
    crate::outbox::after_code_change(app, conn, reservation).await?;
    let refill_pool = JobSpec::RefillBackups {
        lock: lock_id.clone(),
    };
    queue::enqueue(conn, ws, &refill_pool, now, now).await?;
    tracing::info!(code = id, lock = %lock_id, reservation = %reservation, why, "backup code given");
    Ok(Some(Given {
        code: id,
        lock: lock_id.clone(),
        pin: backup.code.pin,
    }))
}

/// The guest's code on `lock` that a pull replaces: the newest that is pending, active or
/// was refused (not one being revoked: a code already replaced, by a backup among others).
///
/// # Errors
/// Database errors.
pub async fn guest_code_on(
    app: &AppState,
    conn: &mut Conn,
    reservation: &ReservationId,
    lock: &LockId,
) -> Result<Option<CodeRecord>> {
    let ws = &app.catalog.workspace;
    Ok(codes::for_reservation(conn, ws, reservation.as_str())
        .await?
        .into_iter()
        .rev()
        .find(|c| {
            &c.code.lock == lock
                && matches!(
                    c.code.state,
                    CodeState::Pending | CodeState::Active | CodeState::Failed
                )
        }))
}

/// Error for a pull asked for by hand on a door with no pool.
pub fn no_pool(lock: &LockId) -> Error {
    Error::Conflict(format!(
        "lock `{lock}` keeps no backup codes, or none is on the lock yet"
    ))
}
