//! The reconciler: for one reservation, evaluate its rule, compare the desired grants with
//! the codes on record, and plan the difference as durable jobs.
//!
//! It is idempotent and never told why it runs: a webhook, a scheduled wake-up, a retry or
//! a restart all call the same [`reconcile`], which plans from the latest state on record.

pub mod pins;

use latchkey_engine::rules::{self, Plan, RuleInput};
use latchkey_engine::{CodeState, LockId, ReservationId, ReservationStatus, Timestamp, WhenFull};
use latchkey_store::alerts::{AlertKind, NewAlert};
use latchkey_store::codes::{self, NewCode};
use latchkey_store::reservations::ReservationRow;
use latchkey_store::{Conn, events, reservations};

use crate::app::AppState;
use crate::capacity;
use crate::error::{Error, Result};
use crate::queue::{self, JobSpec};
use crate::telemetry::metrics;
use latchkey_engine::capacity::Turn;
use latchkey_engine::reconcile::diff::{self, Action};

/// Reconciles reservation `id` inside the caller's transaction `conn`.
///
/// A rule failure is not an error of this function: it is recorded on the reservation's
/// latest event and on the reservation, and nothing else changes.
///
/// # Errors
/// Database errors only.
pub async fn reconcile(app: &AppState, conn: &mut Conn, id: &ReservationId) -> Result<()> {
    let ws = &app.catalog.workspace;
    reservations::serialize(conn, ws, id.as_str()).await?;
    let Some(row) = reservations::get(conn, ws, id.as_str()).await? else {
        return Ok(());
    };
    let now = app.clock.now();
    // The rule and assignments on record, whichever replica changed them last.
    let current = app.refresh(conn).await?;
    let input = rule_input(app, &row, now);
    let started = std::time::Instant::now();
    let evaluated = rules::evaluate(current.rule.as_ref(), &input, app.planner.loader.limits());
    metrics::rule_evaluated(
        current.source.runtime(),
        evaluated.is_ok(),
        started.elapsed(),
    );
    let plan = match evaluated {
        Ok(plan) => only_assigned(app, plan),
        Err(e) => {
            let message = e.to_string();
            tracing::info!(reservation = %id, error = %message, "rule failed");
            events::fail_latest(conn, ws, id, &message).await?;
            reservations::set_rule_error(conn, ws, id, Some(&message)).await?;
            return Ok(());
        }
    };
    if row.rule_error.is_some() {
        reservations::set_rule_error(conn, ws, id, None).await?;
    }

    let expected = expected_once_paid(app, current.rule.as_ref(), &input, &plan);
    let mut guest_pin = row.pin.clone();
    let wake_at = apply(app, conn, id, &plan.grants, &expected, &mut guest_pin).await?;
    if row.pin.is_none()
        && let Some(pin) = &guest_pin
    {
        reservations::set_pin(conn, ws, id, pin).await?;
    }
    crate::outbox::after_plan(app, conn, &row, &plan).await?;
    crate::arrival::schedule(conn, ws, id, &plan.grants, now).await?;
    if let Some(at) = wake_at {
        queue::enqueue(
            conn,
            ws,
            &JobSpec::Reconcile {
                reservation: id.clone(),
            },
            at,
            now,
        )
        .await?;
    }
    Ok(())
}

/// What the rule is given for reservation `row` at `now`: the catalog's input, with each
/// lock's effective branch. Shared with the rules API's dry-run, so a dry-run sees what a
/// reconcile would.
pub fn rule_input(app: &AppState, row: &ReservationRow, now: Timestamp) -> RuleInput {
    let mut input = app
        .catalog
        .rule_input(row.state.clone(), row.last_event.clone(), now);
    // The rule sees each lock's effective branch, and never an unassigned lock.
    input.locks = app.planner.assignments.effective(input.locks);
    input
}

/// What `rule` would grant the reservation of `input` once paid, when it is confirmed and
/// its `plan` grants nothing yet (a property that requires payment): the capacity
/// forecast counts these grants, which no code waits for. Empty otherwise, and when the
/// rule fails on that input.
fn expected_once_paid(
    app: &AppState,
    rule: &dyn rules::Rule,
    input: &RuleInput,
    plan: &Plan,
) -> Vec<latchkey_engine::Grant> {
    if !plan.grants.is_empty() || input.reservation.status != ReservationStatus::Confirmed {
        return Vec::new();
    }
    let mut paid = input.clone();
    paid.reservation.status = ReservationStatus::Paid;
    rules::evaluate(rule, &paid, app.planner.loader.limits())
        .map(|plan| only_assigned(app, plan).grants)
        .unwrap_or_default()
}

/// `plan` without grants on unassigned locks. Defence in depth: whatever the rule says,
/// an unassigned lock gets no code (and the diff revokes the codes it has).
pub fn only_assigned(app: &AppState, mut plan: Plan) -> Plan {
    plan.grants
        .retain(|g| app.planner.assignments.is_assigned(&g.lock));
    plan
}

/// Brings the codes of `owner` (a reservation, or a staff code's owner id) in line with
/// `grants`: plans each difference as durable jobs, in the caller's transaction. Records
/// `grants` and `expected` (see [`capacity::record_plan`]) for the locks' budgets.
/// `pin` is the owner's PIN, reused across the locks that take it; a PIN chosen here is
/// written back to it for the caller to keep. Returns when to look again.
///
/// # Errors
/// Database errors only.
pub async fn apply(
    app: &AppState,
    conn: &mut Conn,
    id: &ReservationId,
    grants: &[latchkey_engine::Grant],
    expected: &[latchkey_engine::Grant],
    guest_pin: &mut Option<latchkey_engine::Pin>,
) -> Result<Option<latchkey_engine::Timestamp>> {
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let codes = codes::for_reservation(conn, ws, id.as_str()).await?;
    // A guest sent to an overflow door stays there: the grant is that door's now.
    let grants = &capacity::routed(&app.catalog, grants, &codes);
    capacity::record_plan(&app.catalog, conn, id.as_str(), grants, expected).await?;
    let caps = |lock: &LockId| app.catalog.lock(lock).map(|l| l.capabilities.clone());
    let diff = diff::diff(grants, &codes, caps, now);
    let mut wake_at = diff.wake_at;
    for action in diff.actions {
        match action {
            Action::Create { lock, window } => {
                // On a lock nearly full, a code waits for its turn (`capacity`).
                let later = match turn(app, conn, id, &lock, window, now).await? {
                    Turn::Now => {
                        create(app, conn, id, &lock, window, None, guest_pin).await?;
                        None
                    }
                    Turn::At(at) => Some(at),
                    Turn::MakeRoom(code) => {
                        make_room(app, conn, code, now).await?;
                        Some(now.plus(capacity::SLOT_FREED_WAIT_SECS))
                    }
                    Turn::Full => {
                        let when_full = grants
                            .iter()
                            .find(|g| g.lock == lock)
                            .map_or(WhenFull::Backup, |g| g.when_full);
                        on_full_lock(app, conn, id, &lock, window, when_full, guest_pin).await?
                    }
                };
                if let Some(at) = later {
                    wake_at = Some(wake_at.map_or(at, |w| w.min(at)));
                }
            }
            Action::Replace { old, lock, window } => {
                // The code it replaces keeps the slot until the new one is on: no wait.
                create(app, conn, id, &lock, window, Some(old), guest_pin).await?;
            }
            Action::Update { code, window } => {
                codes::set_window(conn, code, window, now).await?;
                queue::enqueue(conn, ws, &JobSpec::UpdateCode { code }, now, now).await?;
            }
            Action::Revoke { code } => {
                revoke(app, conn, code, now).await?;
            }
            Action::Expire { code, cleanup } => {
                codes::transition(
                    conn,
                    code,
                    &[CodeState::Pending, CodeState::Active],
                    CodeState::Expired,
                    now,
                )
                .await?;
                if cleanup {
                    queue::enqueue(
                        conn,
                        ws,
                        &JobSpec::RevokeCode {
                            code,
                            cleanup: true,
                        },
                        now,
                        now,
                    )
                    .await?;
                }
            }
            Action::Unrevocable { code } => {
                if let Some(row) = codes.iter().find(|c| c.code.id == code) {
                    raise_unrevocable(app, conn, row).await?;
                }
            }
        }
    }
    Ok(wake_at)
}

/// What happens to a code needed on `lock`, which is full, by the grant's `when_full`:
/// it goes on the lock's overflow door where the grant says so and that door has room;
/// otherwise on `lock` regardless, which refuses it (and the guest gets a backup code,
/// `backup::pull`). Returns when to look again.
#[allow(clippy::too_many_arguments)]
async fn on_full_lock(
    app: &AppState,
    conn: &mut Conn,
    id: &ReservationId,
    lock: &LockId,
    window: latchkey_engine::Window,
    when_full: WhenFull,
    guest_pin: &mut Option<latchkey_engine::Pin>,
) -> Result<Option<Timestamp>> {
    let now = app.clock.now();
    let assigned = |l: &LockId| app.planner.assignments.is_assigned(l);
    let overflow = match when_full {
        WhenFull::Overflow => app.catalog.overflow_of(lock, assigned),
        WhenFull::Backup => None,
    };
    let Some(door) = overflow else {
        create(app, conn, id, lock, window, None, guest_pin).await?;
        return Ok(None);
    };
    match capacity::turn(&app.catalog, conn, id.as_str(), door, window, now).await? {
        Turn::Now => {
            tracing::info!(reservation = %id, %lock, overflow = %door.id, "lock full: the guest's code goes on its overflow door");
            create(app, conn, id, &door.id, window, None, guest_pin).await?;
            Ok(None)
        }
        Turn::At(at) => Ok(Some(at)),
        Turn::MakeRoom(code) => {
            make_room(app, conn, code, now).await?;
            Ok(Some(now.plus(capacity::SLOT_FREED_WAIT_SECS)))
        }
        Turn::Full => {
            create(app, conn, id, lock, window, None, guest_pin).await?;
            Ok(None)
        }
    }
}

/// When the code for `window` may go on `lock_id` (a lock no longer in the catalog: now,
/// and the provider decides).
async fn turn(
    app: &AppState,
    conn: &mut Conn,
    id: &ReservationId,
    lock_id: &LockId,
    window: latchkey_engine::Window,
    now: Timestamp,
) -> Result<Turn> {
    match app.catalog.lock(lock_id) {
        Some(lock) => capacity::turn(&app.catalog, conn, id.as_str(), lock, window, now).await,
        None => Ok(Turn::Now),
    }
}

/// Takes `code`, needed later than a code that is needed now, off its full lock: it is
/// revoked, and its reservation planned again, which puts it back on at its own turn
/// (with the same PIN where the lock takes chosen PINs).
async fn make_room(app: &AppState, conn: &mut Conn, code: i64, now: Timestamp) -> Result<()> {
    let ws = &app.catalog.workspace;
    let Some(row) = codes::get(conn, ws, code).await? else {
        return Ok(());
    };
    if !revoke(app, conn, code, now).await? {
        return Ok(());
    }
    tracing::info!(code, lock = %row.code.lock, reservation = %row.code.reservation, "code taken off a full lock until its turn, for one needed sooner");
    let replan = JobSpec::Reconcile {
        reservation: row.code.reservation,
    };
    queue::enqueue(conn, ws, &replan, now, now).await
}

/// Puts back `code`, an active code its lock lost or changed behind our back (found by
/// the lock sync's drift check or the pre-arrival check): it is retired, `revoked` when
/// it is `off` the lock already, else `revoking` with a `RevokeCode` job that deletes the
/// changed one, and its owner (reservation or staff code) is planned again, which puts a
/// new code on with the owner's PIN and window. A new code rather than the same one: the
/// changed one may linger under our marker, and a retried creation looks codes up by
/// marker. Returns the owner (a reservation, or `staff:{name}`), or `None` when the code
/// was no longer active (revoked, replaced or expired meanwhile).
///
/// # Errors
/// Database errors.
pub async fn put_back(
    app: &AppState,
    conn: &mut Conn,
    code: i64,
    off: bool,
    now: Timestamp,
) -> Result<Option<ReservationId>> {
    let ws = &app.catalog.workspace;
    let Some(row) = codes::get(conn, ws, code).await? else {
        return Ok(None);
    };
    let to = if off {
        CodeState::Revoked
    } else {
        CodeState::Revoking
    };
    if !codes::transition(conn, code, &[CodeState::Active], to, now).await? {
        return Ok(None);
    }
    if !off {
        let revoke = JobSpec::RevokeCode {
            code,
            cleanup: false,
        };
        queue::enqueue(conn, ws, &revoke, now, now).await?;
    }
    let owner = row.code.reservation;
    queue::enqueue(conn, ws, &JobSpec::plan_owner(&owner), now, now).await?;
    Ok(Some(owner))
}

/// Starts deleting live `code` from its lock: `revoking`, with its `RevokeCode` job.
/// Returns false when the code was no longer live.
pub(crate) async fn revoke(
    app: &AppState,
    conn: &mut Conn,
    code: i64,
    now: Timestamp,
) -> Result<bool> {
    let live = [CodeState::Pending, CodeState::Active];
    if !codes::transition(conn, code, &live, CodeState::Revoking, now).await? {
        return Ok(false);
    }
    let job = JobSpec::RevokeCode {
        code,
        cleanup: false,
    };
    queue::enqueue(conn, &app.catalog.workspace, &job, now, now).await?;
    Ok(true)
}

async fn create(
    app: &AppState,
    conn: &mut Conn,
    id: &ReservationId,
    lock_id: &LockId,
    window: latchkey_engine::Window,
    replaces: Option<i64>,
    guest_pin: &mut Option<latchkey_engine::Pin>,
) -> Result<()> {
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let lock = app
        .catalog
        .lock(lock_id)
        .ok_or_else(|| Error::internal(format!("planned a code on unknown lock `{lock_id}`")))?;
    let pin = if lock.capabilities.custom_pin {
        let pin = pins::choose(conn, ws, lock, guest_pin.as_ref(), None, &app.rng).await?;
        if guest_pin.is_none() {
            *guest_pin = Some(pin.clone());
        }
        Some(pin)
    } else {
        None
    };
    let new = NewCode {
        reservation: id,
        lock: lock_id,
        pin: pin.as_ref(),
        window,
        replaces,
    };
    let code = codes::insert(conn, ws, &new, now).await?;
    queue::enqueue(conn, ws, &JobSpec::CreateCode { code }, now, now).await
}

/// Raises the alarm for a code that should no longer open its door but cannot be revoked
/// (offline PINs), once per code, and marks the code so it is not raised again. The code
/// stays `active`: a revocation that did not happen is never recorded.
///
/// # Errors
/// Database errors.
pub async fn raise_unrevocable(
    app: &AppState,
    conn: &mut Conn,
    row: &latchkey_engine::CodeRecord,
) -> Result<()> {
    let code = row.code.id;
    let until = row.code.opens_until();
    let alert = NewAlert {
        kind: AlertKind::Unrevocable,
        dedupe_key: format!("unrevocable:{code}"),
        lock: Some(row.code.lock.as_str()),
        reservation: Some(row.code.reservation.as_str()),
        code: Some(code),
        message: format!(
            "code {code} on lock `{}` can no longer be used by reservation `{}` but the lock cannot revoke it: it keeps opening the door until {until}",
            row.code.lock, row.code.reservation
        ),
    };
    latchkey_store::alerts::raise(conn, &app.catalog.workspace, &alert, app.clock.now()).await?;
    Ok(codes::mark_unrevocable(conn, code).await?)
}
