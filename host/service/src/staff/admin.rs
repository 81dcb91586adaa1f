//! Creating, changing and deleting staff codes: checked against the catalog, stored, and
//! planned by a `reconcile_staff` job in the same transaction.

use latchkey_engine::reconcile::pins::is_guessable;
use latchkey_engine::{CodeRecord, LockId, Pin, Window};
use latchkey_store::codes;
use latchkey_store::staff::{self, StaffCodeRow};
use serde::{Deserialize, Serialize};

use super::{Recurrence, owner};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::queue::{self, JobSpec};

/// Longest staff code name.
pub const MAX_NAME_LEN: usize = 40;

/// `PUT /v1/staff-codes/{name}`: what a staff code is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffCodeSpec {
    /// The locks it opens (lock ids of the property).
    pub locks: Vec<String>,
    /// When each window starts: cron with seconds (`sec min hour day-of-month month
    /// day-of-week`), in the property's time zone, e.g. `0 0 10 * * Mon-Fri`.
    pub schedule: String,
    /// How long each window lasts, in minutes (1 to 10,080, a week).
    pub duration_minutes: i64,
    /// The PIN, for a code staff already know (a master code); chosen by Latchkey when
    /// absent. Locks that generate PINs themselves ignore it.
    #[serde(default)]
    pub pin: Option<String>,
}

/// A staff code as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StaffCodeView {
    /// The stored definition.
    #[serde(flatten)]
    pub code: StaffCodeRow,
    /// The window in force or next, UTC.
    pub next_window: Option<Window>,
    /// Its access codes on the locks, newest last (PINs included: staff must learn them).
    pub codes: Vec<CodeRecord>,
}

/// Creates or replaces staff code `name` and plans it at once.
///
/// # Errors
/// [`Error::Invalid`] with a JSON pointer for a bad name, schedule, duration, lock or PIN;
/// database errors.
pub async fn put(app: &AppState, name: &str, spec: StaffCodeSpec) -> Result<StaffCodeView> {
    let invalid = |pointer: &str, detail: String| Error::Invalid {
        pointer: pointer.to_owned(),
        detail,
    };
    check_name(name)?;
    let recurrence = Recurrence::new(
        &spec.schedule,
        spec.duration_minutes.saturating_mul(60),
        app.catalog.property.timezone,
    )
    .map_err(|detail| {
        let pointer = if detail.contains("duration") {
            "/duration_minutes"
        } else {
            "/schedule"
        };
        invalid(pointer, detail)
    })?;
    if spec.locks.is_empty() {
        return Err(invalid("/locks", "name at least one lock".into()));
    }
    let mut locks = Vec::with_capacity(spec.locks.len());
    for (i, id) in spec.locks.iter().enumerate() {
        let lock = LockId::parse(id.as_str())
            .ok()
            .and_then(|id| app.catalog.lock(&id))
            .ok_or_else(|| invalid(&format!("/locks/{i}"), format!("no lock `{id}`")))?;
        locks.push(lock.clone());
    }
    let ws = &app.catalog.workspace;
    let mut tx = app.pool.begin().await?;
    let pin = match &spec.pin {
        Some(text) => {
            let pin = Pin::new(text.as_str());
            if is_guessable(text) {
                return Err(invalid("/pin", "the PIN is too easy to guess".into()));
            }
            for lock in locks.iter().filter(|l| l.capabilities.custom_pin) {
                lock.capabilities
                    .pin
                    .check(text)
                    .map_err(|e| invalid("/pin", format!("lock `{}`: {e}", lock.id)))?;
                let own = owner(name).map_err(|e| invalid("/pin", e))?;
                let taken = codes::pin_in_use(&mut tx, ws, &lock.id, &pin, None).await?
                    && !codes::for_reservation(&mut tx, ws, own.as_str())
                        .await?
                        .iter()
                        .any(|c| c.code.pin.as_ref() == Some(&pin));
                if taken {
                    return Err(invalid(
                        "/pin",
                        format!("another live code on lock `{}` uses this PIN", lock.id),
                    ));
                }
            }
            Some(pin)
        }
        // A changed definition keeps the PIN staff already know.
        None => staff::get(&mut tx, ws, name).await?.and_then(|r| r.pin),
    };
    let now = app.clock.now();
    let row = StaffCodeRow {
        name: name.to_owned(),
        locks: locks.iter().map(|l| l.id.to_string()).collect(),
        schedule: spec.schedule.clone(),
        duration_secs: spec.duration_minutes * 60,
        pin,
        updated_at: now.unix(),
    };
    staff::put(&mut tx, ws, &row, now).await?;
    let spec = JobSpec::ReconcileStaff {
        name: name.to_owned(),
    };
    queue::enqueue(&mut tx, ws, &spec, now, now).await?;
    tx.commit().await?;
    app.jobs_waiting.notify();
    let mut conn = app.pool.acquire().await?;
    let codes = codes::for_reservation(
        &mut conn,
        ws,
        owner(name).map_err(Error::internal)?.as_str(),
    )
    .await?;
    Ok(StaffCodeView {
        code: row,
        next_window: recurrence.current_or_next(now),
        codes,
    })
}

/// Staff code `name` with its codes.
///
/// # Errors
/// [`Error::NotFound`]; database errors.
pub async fn show(app: &AppState, name: &str) -> Result<StaffCodeView> {
    let ws = &app.catalog.workspace;
    let mut conn = app.pool.acquire().await?;
    let row = staff::get(&mut conn, ws, name)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "staff code",
            id: name.to_owned(),
        })?;
    let next_window = Recurrence::new(
        &row.schedule,
        row.duration_secs,
        app.catalog.property.timezone,
    )
    .ok()
    .and_then(|r| r.current_or_next(app.clock.now()));
    let codes = codes::for_reservation(
        &mut conn,
        ws,
        owner(name).map_err(Error::internal)?.as_str(),
    )
    .await?;
    Ok(StaffCodeView {
        code: row,
        next_window,
        codes,
    })
}

/// Deletes staff code `name`; its codes are revoked by the job planned with it.
///
/// # Errors
/// [`Error::NotFound`]; database errors.
pub async fn delete(app: &AppState, name: &str) -> Result<()> {
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let mut tx = app.pool.begin().await?;
    if !staff::delete(&mut tx, ws, name).await? {
        return Err(Error::NotFound {
            what: "staff code",
            id: name.to_owned(),
        });
    }
    let spec = JobSpec::ReconcileStaff {
        name: name.to_owned(),
    };
    queue::enqueue(&mut tx, ws, &spec, now, now).await?;
    tx.commit().await?;
    app.jobs_waiting.notify();
    Ok(())
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            pointer: String::new(),
            detail: format!(
                "a staff code's name is 1 to {MAX_NAME_LEN} characters from a-z, 0-9 and `-`, not `{name}`"
            ),
        })
    }
}
