//! Regenerate PINs for one lock (issue 5, item 6): after an outage, a battery change or a
//! suspected leak, every reservation with access through the lock gets a new code on it,
//! and the old codes are revoked.
//!
//! The new code replaces the old one through the reconciler's replace-then-revoke path
//! (`access_codes.replaces`): the old code is revoked only once the lock has confirmed the
//! new one, so the guest is never left without a working PIN. On locks that take custom
//! PINs the new PIN is drawn at random and differs from every live PIN on the lock, the
//! old one included ([`crate::reconcile::pins::choose`]); locks that generate PINs just
//! get a new code. A lock that cannot revoke keeps honouring the old PIN until its window
//! ends, which raises the usual `unrevocable` alert and is flagged in the summary.
//!
//! The guests are told their new PIN by [`crate::outbox`] once the lock confirms the new
//! code (a `changed` message, where the rule asks for messages); each [`Replacement`] in
//! the answer is one such guest, and it is logged (ids only, never a PIN).

use std::collections::HashSet;

use latchkey_engine::{CodeRecord, CodeState, Lock, LockId, ReservationId, Timestamp};
use latchkey_store::Conn;
use latchkey_store::codes::{self, NewCode};
use serde::Serialize;

use super::assignment::concerned;
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::queue::{self, JobSpec};
use crate::reconcile::{self, pins};

/// One reservation's new code on the lock: a guest to tell their new PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replacement {
    /// The reservation.
    pub reservation: ReservationId,
    /// The lock.
    pub lock: LockId,
    /// The code being replaced; `None` when the reservation had no live code there (the
    /// re-plan put one on).
    pub old_code: Option<i64>,
    /// The new code (`pending` until the lock confirms it; its PIN is in
    /// `GET /v1/reservations/{id}` once known).
    pub new_code: i64,
    /// False on locks that cannot revoke: the old PIN keeps opening the door until its
    /// window ends (an `unrevocable` alert is raised when the revocation is attempted).
    pub old_code_revocable: bool,
}

/// What `POST /v1/locks/{lock}/regenerate` answers:
/// `{"lock": ..., "reservations": N, "replaced": [Replacement...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegenerateSummary {
    /// The lock.
    pub lock: LockId,
    /// Reservations re-planned for the lock.
    pub reservations: usize,
    /// New codes, one per reservation with current access through the lock; each guest is
    /// told the new PIN once the lock confirms it.
    pub replaced: Vec<Replacement>,
}

/// Regenerates the PINs of `lock_id`, in one transaction: each reservation concerned by
/// the lock is first reconciled (so only access the rule still grants is renewed, with its
/// current window), then its newest live code on the lock, if any and still able to open
/// the door, is replaced by a new code with a new PIN. The job worker puts the new codes on
/// the lock and then revokes the old ones.
///
/// A reservation whose rule fails keeps its access as it stands, under a new PIN.
///
/// # Errors
/// [`Error::NotFound`] for a lock not in the catalog; [`Error::Conflict`] for an
/// unassigned lock (it holds no codes to regenerate); database errors.
pub async fn regenerate(app: &AppState, lock_id: &LockId) -> Result<RegenerateSummary> {
    let ws = &app.catalog.workspace;
    let lock = app.catalog.lock(lock_id).ok_or_else(|| Error::NotFound {
        what: "lock",
        id: lock_id.to_string(),
    })?;
    let _one_at_a_time = app.planner.assignments.changing.lock().await;
    app.refresh_now().await?;
    if !app.planner.assignments.is_assigned(lock_id) {
        return Err(Error::Conflict(format!(
            "lock `{lock_id}` is not assigned to a branch: it holds no codes to regenerate"
        )));
    }
    let now = app.clock.now();
    let mut tx = app.pool.begin().await?;
    let ids = concerned(app, &mut tx, lock).await?;
    let mut replaced = Vec::new();
    for id in &ids {
        let before: HashSet<i64> = codes::for_reservation(&mut tx, ws, id.as_str())
            .await?
            .iter()
            .map(|c| c.code.id)
            .collect();
        reconcile::reconcile(app, &mut tx, id).await?;
        let after = codes::for_reservation(&mut tx, ws, id.as_str()).await?;
        let Some(current) = current_code(&after, lock_id, now) else {
            continue;
        };
        let (old_code, new_code) = if before.contains(&current.code.id) {
            let new = replace(app, &mut tx, lock, current, now).await?;
            (Some(current.code.id), new)
        } else {
            // The re-plan itself just put a new code there (none was live, or the lock
            // replaces rather than updates): it is the guest's new code.
            (current.replaces, current.code.id)
        };
        replaced.push(Replacement {
            reservation: id.clone(),
            lock: lock_id.clone(),
            old_code,
            new_code,
            old_code_revocable: lock.capabilities.can_revoke,
        });
    }
    tx.commit().await?;
    app.jobs_waiting.notify();
    for r in &replaced {
        tracing::info!(reservation = %r.reservation, lock = %r.lock, old_code = ?r.old_code, new_code = r.new_code, "PIN regenerated; the guest must be told");
    }
    Ok(RegenerateSummary {
        lock: lock_id.clone(),
        reservations: ids.len(),
        replaced,
    })
}

/// The reservation's newest live code on `lock` that can still open the door: the one a
/// regeneration replaces. Older live codes there are already being replaced by it.
fn current_code<'a>(
    codes: &'a [CodeRecord],
    lock: &LockId,
    now: Timestamp,
) -> Option<&'a CodeRecord> {
    codes.iter().rev().find(|c| {
        &c.code.lock == lock
            && matches!(c.code.state, CodeState::Pending | CodeState::Active)
            && c.code.opens_until() > now
    })
}

/// Records a new pending code replacing `old` (same window, new PIN) and queues its
/// creation; the create job's confirmation starts the old code's revocation.
async fn replace(
    app: &AppState,
    conn: &mut Conn,
    lock: &Lock,
    old: &CodeRecord,
    now: Timestamp,
) -> Result<i64> {
    let ws = &app.catalog.workspace;
    // No guest PIN offered: the old code is live on this lock, so `choose` never returns
    // its PIN, nor any other live one.
    let pin = if lock.capabilities.custom_pin {
        Some(pins::choose(conn, ws, lock, None, None, &app.rng).await?)
    } else {
        None
    };
    let new = NewCode {
        reservation: &old.code.reservation,
        lock: &lock.id,
        pin: pin.as_ref(),
        window: old.code.window,
        replaces: Some(old.code.id),
    };
    let code = codes::insert(conn, ws, &new, now).await?;
    queue::enqueue(conn, ws, &JobSpec::CreateCode { code }, now, now).await?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_engine::{AccessCode, Window};

    fn row(id: i64, lock: &str, state: CodeState, ends: i64) -> CodeRecord {
        CodeRecord {
            code: AccessCode {
                id,
                reservation: ReservationId::parse("R-1").expect("id"),
                lock: LockId::parse(lock).expect("lock"),
                pin: None,
                window: Window {
                    starts_at: Timestamp(0),
                    ends_at: Timestamp(ends),
                },
                lock_window: None,
                state,
                provider_ref: None,
            },
            replaces: None,
            unrevocable: false,
            pulled_at: None,
        }
    }

    #[test]
    fn the_newest_live_code_on_the_lock_is_the_one_replaced() {
        let lock = LockId::parse("room-101").expect("lock");
        let codes = vec![
            row(1, "room-101", CodeState::Active, 100),
            row(2, "room-101", CodeState::Pending, 100),
            row(3, "pool", CodeState::Active, 100),
            row(4, "room-101", CodeState::Revoking, 100),
        ];
        assert_eq!(
            current_code(&codes, &lock, Timestamp(10)).map(|c| c.code.id),
            Some(2)
        );
    }

    #[test]
    fn gone_and_over_codes_are_not_replaced() {
        let lock = LockId::parse("room-101").expect("lock");
        let codes = vec![
            row(1, "room-101", CodeState::Revoked, 100),
            row(2, "room-101", CodeState::Active, 10),
            row(3, "room-101", CodeState::Failed, 100),
        ];
        assert!(current_code(&codes, &lock, Timestamp(10)).is_none());
    }
}
