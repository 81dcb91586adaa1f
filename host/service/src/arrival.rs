//! The pre-arrival check's schedule: [`CHECK_BEFORE_SECS`] before a reservation's first
//! door opens, every door's code is read back from its lock and anything not in order is
//! escalated (the `check_arrival` job, `jobs/check_arrival.rs`).

use latchkey_engine::{Grant, ReservationId, Timestamp, WorkspaceId};
use latchkey_store::Conn;

use crate::error::Result;
use crate::queue::{self, JobSpec};

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
