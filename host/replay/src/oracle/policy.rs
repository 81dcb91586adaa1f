//! The default hotel policy, restated in Rust for the oracle (independently of
//! `rules/default.rhai` and the engine's time helpers), and the states in force over time.

use chrono::{Duration, LocalResult, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use latchkey_engine::{DoorKind, Property, Reservation, ReservationStatus, WindowPrecision};

use super::intervals::Span;
use super::{Acked, LockHistory, OraclePolicy};

/// A reservation state in force during `[from, until)` (UTC seconds; `until` is `i64::MAX`
/// for the last state).
pub struct Piece<'a> {
    /// Ack instant of the state.
    pub from: i64,
    /// Ack instant of the next higher version.
    pub until: i64,
    /// The state.
    pub state: &'a Reservation,
}

/// The states in force over time: at `t`, the highest version among those acked at or
/// before `t`. Acks of versions not above the current one (duplicates, late reorders)
/// change nothing.
pub fn pieces<'a>(mut acks: Vec<&'a Acked>) -> Vec<Piece<'a>> {
    acks.sort_by_key(|a| (a.acked_at, a.reservation.version));
    let mut out: Vec<Piece<'a>> = Vec::new();
    for a in acks {
        let at = a.acked_at.unix();
        let newer = out
            .last()
            .is_none_or(|p| a.reservation.version > p.state.version);
        if !newer {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.from == at => last.state = &a.reservation,
            Some(last) => {
                last.until = at;
                out.push(Piece {
                    from: at,
                    until: i64::MAX,
                    state: &a.reservation,
                });
            }
            None => out.push(Piece {
                from: at,
                until: i64::MAX,
                state: &a.reservation,
            }),
        }
    }
    out
}

/// Whether `lock` is one of the doors `r` opens (ignoring status and time).
pub fn opens_door(lock: &LockHistory, r: &Reservation) -> bool {
    if lock.branch.is_none() {
        return false;
    }
    match lock.door {
        DoorKind::Private => lock.resources.iter().any(|id| r.resources.contains(id)),
        // One branch in the replay: every assigned shared door serves every booked guest.
        DoorKind::Shared => !r.resources.is_empty(),
    }
}

/// The access window `[start, end)` (UTC seconds) `r` is entitled to, or `None`.
pub fn access_window(policy: &OraclePolicy, property: &Property, r: &Reservation) -> Option<Span> {
    let entitled = match r.status {
        ReservationStatus::Paid | ReservationStatus::CheckedOut => true,
        ReservationStatus::Confirmed => !policy.requires_payment,
        ReservationStatus::Cancelled | ReservationStatus::NoShow => false,
    };
    if !entitled {
        return None;
    }
    let tz = property.timezone;
    let first = local_day(r.check_in.unix(), tz)?;
    let last = local_day(r.check_out.unix(), tz)?;
    let (open, close) = if first == last {
        (
            wall_clock(first, property.day_use_start.naive(), tz)?,
            wall_clock(first, property.day_use_end.naive(), tz)?,
        )
    } else {
        (
            wall_clock(first, property.check_in_time.naive(), tz)?,
            wall_clock(last, property.check_out_time.naive(), tz)?,
        )
    };
    let start = open - policy.open_before_secs;
    let mut end = close + policy.close_after_secs;
    if let (ReservationStatus::CheckedOut, Some(left)) = (r.status, r.checked_out_at) {
        end = end.min(left.unix() + policy.close_after_secs);
    }
    (start < end).then_some((start, end))
}

/// What an offline lock may enforce for `w`: start rounded down, end up, to whole hours.
pub fn rounded(w: Span, precision: WindowPrecision) -> Span {
    match precision {
        WindowPrecision::Minute => w,
        WindowPrecision::Hour => {
            let h = 3600;
            (
                w.0.div_euclid(h) * h,
                w.1.div_euclid(h) * h + if w.1.rem_euclid(h) == 0 { 0 } else { h },
            )
        }
    }
}

fn local_day(at: i64, tz: Tz) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(at, 0).map(|utc| utc.with_timezone(&tz).date_naive())
}

/// The instant the wall clock in `tz` shows `time` on `day`: the earlier one when the time
/// happens twice, the end of the gap when it does not happen (spring forward).
fn wall_clock(day: NaiveDate, time: NaiveTime, tz: Tz) -> Option<i64> {
    let naive = day.and_time(time);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.timestamp()),
        LocalResult::None => (1..=240).find_map(|m| {
            tz.from_local_datetime(&(naive + Duration::minutes(m)))
                .earliest()
                .map(|t| t.timestamp())
        }),
    }
}
