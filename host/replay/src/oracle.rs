//! The replay's correctness oracle.
//!
//! It knows nothing of the Rhai runtime or the store: it restates the default hotel policy
//! in Rust ([`policy`]) and checks, by exact interval arithmetic over UTC seconds, every
//! stay against the code tables the locks recorded. The state in force for a reservation at
//! instant `t` is the highest version acknowledged at or before `t`.
//!
//! Findings:
//! - **lockout**: the state in force entitles the guest to a door at `t`, `t` is at least
//!   `grace` after the ack of the webhook that gave the current entitlement (any change of
//!   the door's window counts as a new one) and after the end of any outage of that lock,
//!   and no code of the reservation opens that door at `t`, nor the door the property
//!   names for that one's overflow (a guest beyond a full door's capacity is given that
//!   one; an outage of either excuses);
//! - **stale access**: a code opens a door at `t` that no state of its reservation in force
//!   within `grace` before `t` entitles it to (the deadline moves to `grace` after the end
//!   of any outage of that lock overlapping it); on whole-hour locks the entitled window is
//!   rounded outward first; codes of a reservation with an unrevocable alert on that lock
//!   are excused; codes not made by Latchkey are never entitled; on an overflow door,
//!   the guest is entitled to what the door it stands in for entitles; a backup code in its
//!   lock's pool opens the door for no one and is not judged, and one given to a guest is
//!   held to their window from `grace` after it was given (see [`Origin`]);
//! - **holders**: a code opens its door for its reservation and for every other guest who
//!   was told its PIN for that door while it was on the lock, from the instant they were
//!   told ([`CodeSegment::riders`], [`attach_riders`]). Sharing a code is a capacity
//!   strategy; anyone else was told a PIN that is not theirs, and either way each holder
//!   is judged by their own entitlement (lockout, stale access, wrong PIN told);
//! - **shared PIN**: two codes with one PIN present on one lock at once;
//! - **lost event**: an acknowledged version above the one the service holds at the end;
//! - **wrong PIN told**: while the guest can get in, the last message on a channel does not
//!   name a PIN the lock holds for them, or they were never told (see [`told`]);
//! - **duplicate message**: a guest got the same message twice.
//!
//! Beside the findings, one figure: **arrival readiness** ([`readiness`]), the share of
//! (guest, door) pairs whose code was on the lock and told to the guest when their window
//! opened.
//!
//! Everything is checked up to `end`, the end of the replay.

mod coverage;
mod intervals;
mod policy;
mod readiness;
mod records;
mod told;

use std::collections::HashMap;

use latchkey_engine::{
    BranchId, DoorKind, LockId, Property, Reservation, ReservationId, ResourceId, Timestamp,
    Window, WindowPrecision,
};
use serde::{Deserialize, Serialize, Serializer};

pub use super::faults::FaultWindow;
use coverage::Context;
pub use readiness::{NotReady, Readiness};
use records::{lost_events, shared_pins};

/// The policy the oracle holds the service to. Durations in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OraclePolicy {
    /// Access opens this long before local check-in (default 3600).
    pub open_before_secs: i64,
    /// Access closes this long after local check-out (default 900).
    pub close_after_secs: i64,
    /// No access while only `confirmed`.
    pub requires_payment: bool,
    /// Time the service has to act on an acknowledged change or after an outage (default 300).
    pub grace_secs: i64,
}

impl Default for OraclePolicy {
    fn default() -> Self {
        OraclePolicy {
            open_before_secs: 3600,
            close_after_secs: 900,
            requires_payment: false,
            grace_secs: 300,
        }
    }
}

/// Where a code on a lock came from, as the oracle judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// Made for its reservation (or not made by Latchkey, when it has none).
    #[default]
    Planned,
    /// A backup code in its lock's pool, given to nobody yet: it opens the door for no
    /// one, so it is no stale access.
    Pool,
    /// A backup code given to its reservation at `present_from`: held to the guest's
    /// window like any other code, once the lock has had `grace` (longer across an
    /// outage) to narrow its long window to the guest's.
    Given,
}

/// One code as a lock held it. It opens the door during `window ∩ [present_from, present_until)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSegment {
    /// The reservation it was made for, or given to; `None` for a code Latchkey did not
    /// make and for a backup code in its pool.
    pub reservation: Option<ReservationId>,
    /// Made for a reservation, a backup in its pool, or a backup given at `present_from`.
    pub origin: Origin,
    /// The PIN.
    pub pin: String,
    /// The window the lock enforces (UTC).
    pub window: Window,
    /// When the code appeared on the lock (UTC).
    pub present_from: Timestamp,
    /// When it left the lock; `None` if still there at the end.
    pub present_until: Option<Timestamp>,
    /// The other guests who hold it: each was told its PIN for this door while it was on
    /// the lock, and holds it from that instant (UTC). Filled from what guests were told
    /// by [`attach_riders`], not from the service's records.
    pub riders: Vec<(ReservationId, Timestamp)>,
}

impl CodeSegment {
    /// From when reservation `id` holds this code: its own reservation from the code's
    /// appearance on the lock, a rider from when they were told it; `None` for anyone else.
    pub fn held_from(&self, id: &ReservationId) -> Option<Timestamp> {
        if self.reservation.as_ref() == Some(id) {
            return Some(self.present_from);
        }
        self.riders
            .iter()
            .find(|(rider, _)| rider == id)
            .map(|(_, told)| self.present_from.max(*told))
    }

    /// True when the code is on the lock at `at`.
    fn present_at(&self, at: Timestamp) -> bool {
        self.present_from <= at && self.present_until.is_none_or(|until| at < until)
    }
}

/// Records, on each code of `locks`, the guests other than its own who were `told` its PIN
/// for its door while it was on the lock ([`CodeSegment::riders`]), each from the first
/// such message. A PIN told when no code with it was on the lock gives nobody anything:
/// the wrong-PIN check judges that message.
pub fn attach_riders(locks: &mut [LockHistory], told: &[Told]) {
    let index: HashMap<LockId, usize> = locks
        .iter()
        .enumerate()
        .map(|(i, l)| (l.lock.clone(), i))
        .collect();
    // (lock index, PIN) → the codes with that PIN on that lock, by segment index.
    let mut by_pin: HashMap<(usize, String), Vec<usize>> = HashMap::new();
    for (i, lock) in locks.iter().enumerate() {
        for (k, s) in lock.segments.iter().enumerate() {
            by_pin.entry((i, s.pin.clone())).or_default().push(k);
        }
    }
    for m in told.iter().filter(|m| m.kind != "revoked") {
        for (lock, pin, _) in &m.doors {
            let Some(&i) = index.get(lock) else { continue };
            let Some(candidates) = by_pin.get(&(i, pin.clone())) else {
                continue;
            };
            let segments = &mut locks[i].segments;
            let Some(&k) = candidates.iter().find(|&&k| segments[k].present_at(m.at)) else {
                continue;
            };
            let segment = &mut segments[k];
            if segment.reservation.as_ref() != Some(&m.reservation)
                && !segment.riders.iter().any(|(r, _)| r == &m.reservation)
            {
                segment.riders.push((m.reservation.clone(), m.at));
            }
        }
    }
}

/// A lock's description and its recorded code table over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHistory {
    /// The lock.
    pub lock: LockId,
    /// Private or shared door.
    pub door: DoorKind,
    /// Assigned branch; unassigned locks entitle nobody.
    pub branch: Option<BranchId>,
    /// Resources a private door serves.
    pub resources: Vec<ResourceId>,
    /// Window precision the lock enforces (`Hour` for offline locks).
    pub precision: WindowPrecision,
    /// The door the property names for guests beyond this one's capacity
    /// (`overflow` in `property.toml`): a guest entitled to this door may be given that
    /// one instead, for the same window. A door named so entitles nobody by itself.
    pub overflow: Option<LockId>,
    /// Every code the lock held.
    pub segments: Vec<CodeSegment>,
}

/// A webhook the service acknowledged with 2xx (duplicates included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    /// The full state it carried.
    pub reservation: Reservation,
    /// Its webhook id.
    pub webhook_id: String,
    /// When the service acknowledged it (UTC).
    pub acked_at: Timestamp,
}

/// The service said it cannot revoke `reservation`'s code on `lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnrevocableAlert {
    /// The lock.
    pub lock: LockId,
    /// The reservation whose code stays.
    pub reservation: ReservationId,
    /// When the alert was raised (UTC).
    pub raised_at: Timestamp,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// An entitled guest's code did not open a door.
    Lockout,
    /// A code opened a door nobody was entitled to.
    StaleAccess,
    /// Two codes with one PIN on one lock at once.
    SharedPin,
    /// An acknowledged webhook whose effect the service does not hold.
    LostEvent,
    /// The last PIN a guest was told for a door does not open it, or they were never told.
    WrongPinTold,
    /// A guest got the same message twice.
    DuplicateMessage,
}

/// A message a guest received, as the oracle reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    /// The reservation it was about.
    pub reservation: ReservationId,
    /// `email`, `sms` or `callback`.
    pub channel: String,
    /// `issued`, `changed` or `revoked`.
    pub kind: String,
    /// Its idempotency key.
    pub key: String,
    /// When it was delivered (UTC).
    pub at: Timestamp,
    /// Each door it names, with the PIN it tells and the window.
    pub doors: Vec<(LockId, String, Window)>,
}

impl Told {
    /// The PIN this message tells for `lock`; `None` for a revocation or a door it does
    /// not name.
    pub fn pin_for(&self, lock: &LockId) -> Option<&str> {
        if self.kind == "revoked" {
            return None;
        }
        self.doors
            .iter()
            .find(|(l, _, _)| l == lock)
            .map(|(_, pin, _)| pin.as_str())
    }
}

/// One finding, as written to the replay report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Kind.
    pub kind: ViolationKind,
    /// Reservation concerned, if any.
    pub reservation: Option<ReservationId>,
    /// Lock concerned, if any.
    pub lock: Option<LockId>,
    /// First instant of the problem; RFC 3339 (UTC) in JSON.
    #[serde(serialize_with = "rfc3339")]
    pub at: Timestamp,
    /// Human-readable detail.
    pub detail: String,
}

fn rfc3339<S: Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339())
}

/// Checks the whole replay; see the module documentation. Violations are sorted by
/// (instant, kind, reservation, lock).
#[allow(clippy::too_many_arguments)]
pub fn check(
    policy: &OraclePolicy,
    property: &Property,
    acked: &[Acked],
    locks: &[LockHistory],
    faults: &[FaultWindow],
    alerts: &[UnrevocableAlert],
    final_versions: &HashMap<ReservationId, u64>,
    end: Timestamp,
) -> Vec<Violation> {
    let ctx = Context::new(policy, property, acked, locks, faults, alerts, end);
    let mut out = Vec::new();
    for (id, states) in &ctx.states {
        ctx.lockouts(id, states, &mut out);
    }
    for ((res, lock), openings) in &ctx.openings {
        ctx.stale(*res, *lock, openings, &mut out);
    }
    for lock in locks {
        shared_pins(lock, end.unix(), &mut out);
    }
    lost_events(acked, final_versions, &mut out);
    out.sort_by(|a, b| {
        (a.at, a.kind, &a.reservation, &a.lock).cmp(&(b.at, b.kind, &b.reservation, &b.lock))
    });
    out
}

/// Checks what guests were told (`told`, in the order delivered) against the locks; every
/// entitled guest must have been told on each of `expected_channels`. Violations sorted
/// as by [`check`].
#[allow(clippy::too_many_arguments)]
pub fn check_told(
    policy: &OraclePolicy,
    property: &Property,
    acked: &[Acked],
    locks: &[LockHistory],
    faults: &[FaultWindow],
    told: &[Told],
    expected_channels: &[String],
    end: Timestamp,
) -> Vec<Violation> {
    let ctx = Context::new(policy, property, acked, locks, faults, &[], end);
    let mut by_reservation: HashMap<&ReservationId, Vec<&Told>> = HashMap::new();
    for m in told {
        by_reservation.entry(&m.reservation).or_default().push(m);
    }
    let mut out = Vec::new();
    for (id, states) in &ctx.states {
        let messages = by_reservation.get(id).map_or(&[][..], Vec::as_slice);
        ctx.told(id, states, messages, expected_channels, &mut out);
    }
    out.sort_by(|a, b| {
        (a.at, a.kind, &a.reservation, &a.lock).cmp(&(b.at, b.kind, &b.reservation, &b.lock))
    });
    out
}

/// The arrival readiness of the replay: every (reservation, door) pair whose window opened with the guest entitled in time, and
/// whether the door's code was on the lock and told on each of `expected_channels` (`told`
/// in the order delivered) at that instant.
#[allow(clippy::too_many_arguments)]
pub fn readiness(
    policy: &OraclePolicy,
    property: &Property,
    acked: &[Acked],
    locks: &[LockHistory],
    told: &[Told],
    expected_channels: &[String],
    end: Timestamp,
) -> Readiness {
    let ctx = Context::new(policy, property, acked, locks, &[], &[], end);
    let mut by_reservation: HashMap<&ReservationId, Vec<&Told>> = HashMap::new();
    for m in told {
        by_reservation.entry(&m.reservation).or_default().push(m);
    }
    ctx.readiness(&by_reservation, expected_channels)
}
