//! Drift, at each lock sync: the codes a lock holds, as its cloud lists them, compared with
//! Latchkey's codes on record (`latchkey_engine::drift::compare`).
//!
//! - One of ours deleted, disabled or changed (PIN or window) in the vendor's app is put
//!   back: a changed or disabled one is deleted first (by a `revoke_code` job if the
//!   cloud refuses now), the code is recorded `revoked` (or `revoking`), and its owner is
//!   planned again, which puts a new code on with the owner's PIN and window (so the
//!   guest's PIN works again, or, on a lock that chooses its own PINs, the guest is told
//!   the new one). A new code, not the same one again: the changed one may linger under
//!   our marker until its deletion lands, and a retried creation looks codes up by
//!   marker. A `code_drift` alert names it.
//! - A code the lock holds that Latchkey did not make is listed as unmanaged (table
//!   `unmanaged_codes`, the lock's panel), never touched, and counted against the lock's
//!   capacity. One `unmanaged_code` alert per sync that finds new ones on a lock says how
//!   many and names a few: a keypad someone filled from the vendor's app is one thing for
//!   the desk to look at, not a thousand.
//!
//! Only online locks that store codes are compared, and only where the cloud lists them
//! (`Provider::list_codes`; igloohome does not).

use std::sync::Arc;

use latchkey_engine::drift::{self, Drift};
use latchkey_engine::{Lock, Timestamp};
use latchkey_providers::{Provider, ProviderError};
use latchkey_store::alerts::{self, AlertKind, NewAlert};
use latchkey_store::{Conn, codes, unmanaged};

use super::LockSyncError;
use crate::app::AppState;
use crate::queue;
use crate::reconcile;

/// What one lock's drift check found and did.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// Our codes found changed on the lock, whose owners are planned again.
    pub restored: usize,
    /// Unmanaged codes on the lock now.
    pub unmanaged: usize,
    /// Alerts raised.
    pub alerts: usize,
}

/// What was read from the cloud, outside any transaction.
pub(super) struct Listing {
    comparison: drift::Comparison,
    /// The drifted codes, each with whether it is off the lock now: a missing one, or a
    /// changed one the cloud has just deleted. One whose deletion failed is left to a
    /// `revoke_code` job.
    drifted: Vec<(i64, Drift, bool)>,
}

/// Lists `lock`'s codes and compares them with the records, deleting from the lock our
/// codes that were changed behind our back. `None` where the cloud cannot list codes.
///
/// # Errors
/// A provider failure (recorded on the lock by the sync), or a database error.
pub(super) async fn read(
    app: &AppState,
    provider: &Arc<dyn Provider>,
    lock: &Lock,
    device: &str,
) -> Result<Option<Listing>, LockSyncError> {
    // Read before listing: a code that reaches the lock meanwhile is then not on record
    // as active yet, rather than on record and missing from an older list.
    let mut recorded = {
        let mut conn = app.pool.acquire().await?;
        codes::recorded_on_lock(&mut conn, &app.catalog.workspace, &lock.id).await?
    };
    // A code whose window is over is about to be expired and deleted, and some clouds
    // drop such codes themselves (Seam does): not drift.
    let now = app.clock.now();
    recorded.retain(|r| r.window.ends_at > now);
    let listed = match provider.list_codes(device).await {
        Ok(listed) => listed,
        Err(ProviderError::Unsupported(_)) => return Ok(None),
        Err(e) => return Err(LockSyncError::Provider(e)),
    };
    let comparison = drift::compare(&recorded, &listed);
    let mut drifted = Vec::new();
    for &(code, how) in &comparison.drifted {
        let mut off = true;
        if how != Drift::Missing {
            let reference = recorded
                .iter()
                .find(|r| r.code == code)
                .map(|r| r.reference.as_str())
                .unwrap_or_default();
            if let Err(e) = provider.revoke_code(device, reference).await {
                tracing::warn!(lock = %lock.id, code, error = %e, "cannot delete a code changed on the lock now; a job will");
                off = false;
            }
        }
        drifted.push((code, how, off));
    }
    Ok(Some(Listing {
        comparison,
        drifted,
    }))
}

/// Records what [`read`] found, in the sync's transaction: retires the codes cleared
/// from the lock and plans their owners again, stores the unmanaged codes, raises the
/// alerts.
///
/// # Errors
/// Database errors.
pub(super) async fn record(
    app: &AppState,
    tx: &mut Conn,
    lock: &Lock,
    listing: &Listing,
    now: Timestamp,
) -> crate::error::Result<Found> {
    let ws = &app.catalog.workspace;
    let mut found = Found::default();
    for &(code, how, off) in &listing.drifted {
        // A code still on the lock is deleted by a job, retried until it is gone; its PIN
        // stays taken on the lock until then, so the new code may get another PIN, which
        // the guest is then told.
        let Some(owner) = reconcile::put_back(app, tx, code, off, now).await? else {
            continue;
        };
        let staff = owner.as_str().strip_prefix(queue::STAFF_OWNER_PREFIX);
        let whose = match staff {
            Some(name) => format!("staff code `{name}`"),
            None => format!("reservation `{owner}`"),
        };
        found.restored += 1;
        let alert = NewAlert {
            kind: AlertKind::CodeDrift,
            dedupe_key: format!("drift:{code}"),
            lock: Some(lock.id.as_str()),
            reservation: Some(owner.as_str()).filter(|_| staff.is_none()),
            code: Some(code),
            message: format!(
                "the code of {whose} on lock `{}` ({}) {}; a new one with the same PIN \
                 and window is being put on",
                lock.id,
                lock.name,
                how.describe()
            ),
        };
        found.alerts += usize::from(alerts::raise(tx, ws, &alert, now).await?);
    }
    let new = unmanaged::replace(tx, ws, &lock.id, &listing.comparison.unmanaged, now).await?;
    found.unmanaged = listing.comparison.unmanaged.len();
    if let Some(alert) = unmanaged_alert(lock, &new, found.unmanaged) {
        found.alerts += usize::from(alerts::raise(tx, ws, &alert, now).await?);
    }
    Ok(found)
}

/// The alert for the unmanaged codes `new` on `lock` since the last sync, of `total` it
/// holds now; `None` when nothing is new. Its key is the first new code's, so each batch
/// alerts once.
fn unmanaged_alert<'a>(
    lock: &'a Lock,
    new: &[unmanaged::UnmanagedCode],
    total: usize,
) -> Option<NewAlert<'a>> {
    /// Names listed in the message; the lock's panel lists them all.
    const NAMED: usize = 3;
    let first = new.first()?;
    let names: Vec<String> = new
        .iter()
        .filter_map(|c| c.name.as_deref())
        .take(NAMED)
        .map(|n| format!("`{n}`"))
        .collect();
    let named = match (names.is_empty(), new.len() > names.len()) {
        (true, _) => String::new(),
        (false, false) => format!(", named {}", names.join(", ")),
        (false, true) => format!(", among them {}", names.join(", ")),
    };
    let what = match new.len() {
        1 => "a code Latchkey did not make".to_owned(),
        n => format!("{n} codes Latchkey did not make"),
    };
    Some(NewAlert {
        kind: AlertKind::UnmanagedCode,
        dedupe_key: format!("unmanaged:{}:{}", lock.id, first.reference),
        lock: Some(lock.id.as_str()),
        reservation: None,
        code: None,
        message: format!(
            "lock `{}` ({}) holds {what}{named} ({total} in all); they are left alone, \
             count against the lock's capacity, and are listed on the lock's panel",
            lock.id, lock.name
        ),
    })
}
