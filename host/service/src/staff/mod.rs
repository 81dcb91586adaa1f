//! Staff codes: access not tied to a reservation (cleaning, maintenance, a master code),
//! on a recurring window given as a cron expression and a duration in the property's time
//! zone.
//!
//! None of the clouds Latchkey drives takes a recurring schedule through the calls it
//! uses, so every staff code is kept as a rolling series: the lock holds the current (or
//! next) window, and when it ends the code moves to the next one (changed in place where
//! the lock can, replaced where it cannot). The codes are ordinary access codes owned by
//! `staff:{name}`, planned by the same diff and carried out by the same durable jobs as
//! guests' codes.

pub mod admin;

use std::str::FromStr;

use chrono::TimeZone;
use chrono_tz::Tz;
use latchkey_engine::{Grant, LockId, ReservationId, Timestamp, WhenFull, Window};
use latchkey_store::{Conn, staff};

use crate::app::AppState;
use crate::error::{Error, Result};
use crate::queue::{self, JobSpec};

/// Prefix of the owner id of a staff code's access codes.
pub const OWNER_PREFIX: &str = crate::queue::STAFF_OWNER_PREFIX;

/// Longest window a staff code may have, in seconds (a week): longer access is a
/// permanent code, which a recurring schedule is not for.
pub const MAX_DURATION_SECS: i64 = 7 * 86_400;

/// A recurring window: starts by a cron expression in a time zone, lasts `duration_secs`.
#[derive(Debug, Clone)]
pub struct Recurrence {
    schedule: cron::Schedule,
    duration_secs: i64,
    zone: Tz,
}

impl Recurrence {
    /// Parses `expression` (cron with seconds: `sec min hour day-of-month month
    /// day-of-week [year]`, e.g. `0 0 10 * * Mon-Fri`), read in `zone`.
    ///
    /// # Errors
    /// A message naming what is wrong with the expression or the duration.
    pub fn new(
        expression: &str,
        duration_secs: i64,
        zone: Tz,
    ) -> std::result::Result<Recurrence, String> {
        let schedule = cron::Schedule::from_str(expression)
            .map_err(|e| format!("`{expression}` is not a cron expression with seconds: {e}"))?;
        if !(60..=MAX_DURATION_SECS).contains(&duration_secs) {
            return Err(format!(
                "the duration must be between 60 s and {MAX_DURATION_SECS} s, not {duration_secs} s"
            ));
        }
        if schedule.upcoming(zone).next().is_none() {
            return Err(format!("`{expression}` never fires again"));
        }
        Ok(Recurrence {
            schedule,
            duration_secs,
            zone,
        })
    }

    /// The window in force at `now`, or else the next one; `None` when the schedule has no
    /// more.
    pub fn current_or_next(&self, now: Timestamp) -> Option<Window> {
        self.windows_from(now).next()
    }

    /// The windows that have not ended by `now`, in order.
    pub fn windows_from(&self, now: Timestamp) -> impl Iterator<Item = Window> + '_ {
        // Starts after `now - duration` are the ones still running or to come.
        let from = self
            .zone
            .timestamp_opt(now.unix() - self.duration_secs, 0)
            .single();
        from.into_iter()
            .flat_map(move |from| self.schedule.after_owned(from))
            .map(move |start| Window {
                starts_at: Timestamp(start.timestamp()),
                ends_at: Timestamp(start.timestamp() + self.duration_secs),
            })
            .filter(move |w| w.ends_at > now)
    }
}

/// The owner id of staff code `name`'s access codes.
///
/// # Errors
/// [`Error::Invalid`]-style message when the name makes no valid id.
pub fn owner(name: &str) -> std::result::Result<ReservationId, String> {
    ReservationId::parse(format!("{OWNER_PREFIX}{name}"))
}

/// Plans staff code `name` again in the caller's transaction: its locks hold the current
/// or next window; a deleted staff code's codes are revoked.
///
/// # Errors
/// Database errors.
pub async fn reconcile(app: &AppState, conn: &mut Conn, name: &str) -> Result<()> {
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let id = owner(name).map_err(Error::internal)?;
    let row = staff::get(conn, ws, name).await?;
    app.refresh(conn).await?;
    let mut grants = Vec::new();
    let mut window_ends = None;
    let mut pin = None;
    if let Some(row) = &row {
        let zone = app.catalog.property.timezone;
        let recurrence =
            Recurrence::new(&row.schedule, row.duration_secs, zone).map_err(Error::config)?;
        if let Some(w) = recurrence.current_or_next(now) {
            window_ends = Some(w.ends_at);
            grants = row
                .locks
                .iter()
                .filter_map(|l| LockId::parse(l.as_str()).ok())
                .filter(|l| app.planner.assignments.is_assigned(l))
                .map(|lock| Grant {
                    lock,
                    starts_at: w.starts_at,
                    ends_at: w.ends_at,
                    // On the lock ahead of the window, so staff never wait on a cloud.
                    issue_at: Some(now),
                    credential: Default::default(),
                    // A staff member needs this very door: none other will do.
                    when_full: WhenFull::Backup,
                })
                .collect();
        }
        pin = row.pin.clone();
    }
    let before = pin.clone();
    let wake = crate::reconcile::apply(app, conn, &id, &grants, &[], &mut pin).await?;
    if before.is_none()
        && let (Some(row), Some(pin)) = (&row, &pin)
    {
        staff::set_pin(conn, ws, &row.name, pin).await?;
    }
    // When the window ends, move on to the next one.
    let next = [wake, window_ends].into_iter().flatten().min();
    if let Some(at) = next {
        let spec = JobSpec::ReconcileStaff {
            name: name.to_owned(),
        };
        queue::enqueue(conn, ws, &spec, at.max(now), now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).expect("instant")
    }

    #[test]
    fn windows_follow_the_schedule_in_local_time_across_dst() {
        let lisbon: Tz = "Europe/Lisbon".parse().expect("zone");
        // Weekdays 10:00–14:00 local.
        let r = Recurrence::new("0 0 10 * * Mon-Fri", 4 * 3600, lisbon).expect("valid");
        // Friday 2026-10-23 (summer time, UTC+1): 09:00–13:00 UTC.
        let w = r
            .current_or_next(at("2026-10-23T08:00:00Z"))
            .expect("window");
        assert_eq!(w.starts_at, at("2026-10-23T09:00:00Z"));
        assert_eq!(w.ends_at, at("2026-10-23T13:00:00Z"));
        // Inside it: the same window.
        assert_eq!(r.current_or_next(at("2026-10-23T12:59:00Z")), Some(w));
        // After it, the weekend is skipped, and Monday is winter time (UTC+0).
        let next = r.current_or_next(at("2026-10-23T13:00:00Z")).expect("next");
        assert_eq!(next.starts_at, at("2026-10-26T10:00:00Z"));
    }

    #[test]
    fn bad_schedules_and_durations_are_refused_with_a_reason() {
        let utc: Tz = "UTC".parse().expect("zone");
        assert!(
            Recurrence::new("every morning", 3600, utc)
                .expect_err("not cron")
                .contains("not a cron expression")
        );
        assert!(
            Recurrence::new("0 0 10 * * *", 30, utc)
                .expect_err("too short")
                .contains("duration")
        );
        assert!(Recurrence::new("0 0 10 * * *", 8 * 86_400, utc).is_err());
        assert!(
            Recurrence::new("0 0 10 1 1 * 2020", 3600, utc)
                .expect_err("past")
                .contains("never")
        );
    }
}
