//! The pre-arrival check's schedule: [`CHECK_BEFORE_SECS`] before a reservation's first
//! door opens, every door's code is read back from its lock and anything not in order is
//! escalated (the `check_arrival` job, `jobs/check_arrival.rs`); and the read-back itself
//! ([`read_back`]), which the guest's "my code doesn't work" also uses.

use latchkey_engine::{CodeRecord, Grant, ReservationId, Timestamp, WorkspaceId};
use latchkey_store::Conn;

use crate::app::AppState;
use crate::error::Result;
use crate::queue::{self, JobSpec};

/// What a code's lock holds of it, read back from the lock's cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadBack {
    /// There as recorded (or not readable on this lock: no reference, or a lock that is
    /// no longer configured).
    AsRecorded,
    /// Not on the lock.
    Missing,
    /// On the lock with another PIN; `off` once the cloud deleted it (it is tried at once:
    /// a PIN we did not choose must not keep opening the door).
    Changed {
        /// The changed code was deleted from the lock.
        off: bool,
    },
    /// The cloud did not answer: why.
    Unreadable(String),
}

/// Reads code `c` back from its lock (call it outside any transaction: it waits on the
/// lock's cloud). A PIN other than ours on a lock that takes chosen PINs is deleted at
/// once.
///
/// # Errors
/// Database errors (finding the account's client).
pub async fn read_back(app: &AppState, c: &CodeRecord) -> Result<ReadBack> {
    let (Some(lock), Some(reference)) = (app.catalog.lock(&c.code.lock), &c.code.provider_ref)
    else {
        return Ok(ReadBack::AsRecorded);
    };
    let provider = {
        let mut conn = app.pool.acquire().await?;
        app.provider(&mut conn, &lock.provider).await?
    };
    let Some(provider) = provider else {
        return Ok(ReadBack::AsRecorded);
    };
    let device = lock.device_id();
    Ok(match provider.read_code(device, reference).await {
        Ok(None) => ReadBack::Missing,
        Ok(Some(r)) if lock.capabilities.custom_pin && c.code.pin.as_ref() != Some(&r.pin) => {
            let off = provider.revoke_code(device, reference).await.is_ok();
            ReadBack::Changed { off }
        }
        Ok(Some(_)) => ReadBack::AsRecorded,
        Err(e) => ReadBack::Unreadable(e.to_string()),
    })
}

/// When the check runs, in seconds before the first window opens: a day ahead, leaving
/// time to put a code back or call the guest, and 2 hours ahead, when the guest is told
/// the doors that work.
pub const CHECK_BEFORE_SECS: [i64; 2] = [24 * 3600, 2 * 3600];

/// The next check for a stay whose first door opens at `opens`, after `now`; `None` once
/// the last one has passed.
pub fn next_check(opens: Timestamp, now: Timestamp) -> Option<Timestamp> {
    CHECK_BEFORE_SECS
        .iter()
        .map(|before| opens.plus(-before))
        .find(|at| *at > now)
}

/// Schedules `reservation`'s next check for its plan's `grants` (one queued check per
/// reservation; an earlier instant replaces a later one).
///
/// # Errors
/// Database errors.
pub async fn schedule(
    conn: &mut Conn,
    ws: &WorkspaceId,
    reservation: &ReservationId,
    grants: &[Grant],
    now: Timestamp,
) -> Result<()> {
    let opens = grants.iter().map(|g| g.window().starts_at).min();
    let Some(at) = opens.and_then(|opens| next_check(opens, now)) else {
        return Ok(());
    };
    let check = JobSpec::CheckArrival {
        reservation: reservation.clone(),
    };
    queue::enqueue(conn, ws, &check, at, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_ahead_then_two_hours_ahead_then_never() {
        let opens = Timestamp(100 * 3600);
        assert_eq!(next_check(opens, Timestamp(0)), Some(Timestamp(76 * 3600)));
        assert_eq!(
            next_check(opens, Timestamp(76 * 3600)),
            Some(Timestamp(98 * 3600))
        );
        assert_eq!(next_check(opens, Timestamp(98 * 3600)), None);
    }
}
