//! A lock's codes as a budget: when a code may go on a lock that is nearly full, and how
//! many codes each day needs.
//!
//! A lock holds at most [`Capabilities::max_codes`](crate::Capabilities) codes at once
//! (its cloud's figure). A code takes a slot from the moment it is put on the lock until
//! it is deleted, which the host does as soon as its window ends (`Action::Expire` with
//! `cleanup`) or it is revoked. The earliest a code may go on is its grant's `issue_at`
//! (the rule's choice, days ahead so that a lock that is down for a while still gets it);
//! the latest it should is its window's start less the just-in-time margin
//! ([`Budget::just_in_time_secs`]), which covers the lock's confirmation delay and the
//! retries before the guest is told.
//!
//! Between the two, a code goes on early only if that leaves room, at every instant until
//! it is needed, for each code needed sooner and for a reserve kept for bookings not yet
//! made ([`Budget::reserve`]). So codes go on in order of need, and a code issued early
//! never takes the slot of one needed before it: [`turn`]. From its just-in-time instant
//! on, a code is needed and goes on; on a full lock, a code needed later (a booking made
//! after it went on early) gives up its slot and goes on again at its own turn.
//!
//! The forecast ([`busiest_instant`], per local day) counts what a lock must hold: every
//! planned grant from its just-in-time instant to its window's end, plus the codes it
//! holds that no grant plans (backup codes, codes someone else put on it).
//!
//! All instants are UTC Unix seconds; intervals are half-open.

use crate::{Timestamp, Window};

/// What a lock can hold and how the host spends it. Shapes only; the host reads the
/// figures from the lock's capabilities and the property's `[capacity]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most codes the lock holds at once.
    pub capacity: u32,
    /// Slots an early issue must leave free, for bookings made after it (a code needed
    /// now may use them).
    pub reserve: u32,
    /// Seconds before a window's start by which its code must be on the lock.
    pub just_in_time_secs: i64,
}

impl Budget {
    /// The instant from which the code for `window` is needed on the lock.
    pub fn needed_from(&self, window: Window) -> Timestamp {
        window.starts_at.plus(-self.just_in_time_secs)
    }

    /// The slot a code for `window` takes once it is needed: from
    /// [`Budget::needed_from`] to the window's end.
    pub fn need(&self, window: Window) -> Slot {
        Slot {
            from: self.needed_from(window),
            until: window.ends_at,
        }
    }
}

/// A slot on a lock taken over `[from, until)`: a code on the lock, or a code that will
/// have to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// First instant the slot is taken.
    pub from: Timestamp,
    /// First instant it is free again.
    pub until: Timestamp,
}

/// The most slots taken at once within a span, and the first instant it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peak {
    /// Slots taken at the busiest instant.
    pub slots: u32,
    /// The first instant at which that many are taken (the span's start when none are).
    pub at: Timestamp,
}

/// The busiest instant of `slots` within `[from, until)`.
pub fn busiest_instant(slots: &[Slot], from: Timestamp, until: Timestamp) -> Peak {
    // +1 where a slot is taken, -1 where it is freed; at one instant the frees go first,
    // since a slot that ends at t is free at t.
    let mut edges: Vec<(Timestamp, i32)> = Vec::with_capacity(slots.len() * 2);
    for slot in slots {
        let start = slot.from.max(from);
        let end = slot.until.min(until);
        if start < end {
            edges.push((start, 1));
            edges.push((end, -1));
        }
    }
    edges.sort_unstable();
    let mut peak = Peak { slots: 0, at: from };
    let mut taken: i32 = 0;
    for (at, step) in edges {
        taken += step;
        let now_taken = u32::try_from(taken).unwrap_or(0);
        if now_taken > peak.slots {
            peak = Peak {
                slots: now_taken,
                at,
            };
        }
    }
    peak
}

/// A code that takes a slot on the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// The code's id; `None` for a code the lock holds that Latchkey did not make
    /// (never movable).
    pub code: Option<i64>,
    /// Its window.
    pub window: Window,
    /// When its slot is freed: the later of its window's end and the end the lock
    /// enforces.
    pub until: Timestamp,
    /// Being deleted already: its slot is about to be freed.
    pub leaving: bool,
    /// A guest's code, which may give up its slot to one needed sooner and go on again at
    /// its own turn (not a staff code, which has no reservation to plan it again).
    pub movable: bool,
}

/// When a code may go on its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Put it on now.
    Now,
    /// Not yet: plan again at this instant (its just-in-time instant, or soon after a
    /// slot being freed is free).
    At(Timestamp),
    /// It is needed, the lock is full, and this code, needed later, is on it: take that
    /// one off (it goes on again at its own turn), then put this one on.
    MakeRoom(i64),
    /// It is needed and the lock is full of codes needed as soon or that cannot move:
    /// demand exceeds capacity (the forecast said so days ahead). The grant's
    /// [`WhenFull`](crate::WhenFull) says what happens.
    Full,
}

/// Seconds to wait for a slot that is being freed before looking again.
pub const SLOT_FREED_WAIT_SECS: i64 = 120;

/// When the code for `window` may go on a lock with `budget`, at `now`, given the codes
/// the lock holds (`held`) and the grants on it still waiting for a code (`waiting`, other
/// owners only).
///
/// Before its just-in-time instant, a code goes on only where the lock keeps room, at
/// every instant until then, for the codes needed sooner and the reserve; else it waits
/// for that instant. From then on it is needed and goes on, taking the slot of a code
/// needed later if the lock is full. If every code on a full lock is needed too, the lock
/// is [`Turn::Full`].
pub fn turn(
    budget: Budget,
    window: Window,
    held: &[Held],
    waiting: &[Window],
    now: Timestamp,
) -> Turn {
    let needed_from = budget.needed_from(window);
    if now >= needed_from {
        let taken = held.iter().filter(|h| h.until > now).count();
        if taken < budget.capacity as usize {
            return Turn::Now;
        }
        if held.iter().any(|h| h.leaving && h.until > now) {
            return Turn::At(now.plus(SLOT_FREED_WAIT_SECS));
        }
        let later = held
            .iter()
            .filter(|h| h.movable && budget.needed_from(h.window) > now)
            .filter_map(|h| Some((budget.needed_from(h.window), h.code?)))
            .max();
        return later.map_or(Turn::Full, |(_, code)| Turn::MakeRoom(code));
    }
    let mut slots: Vec<Slot> = held
        .iter()
        .map(|h| Slot {
            from: now,
            until: h.until,
        })
        .collect();
    slots.extend(waiting.iter().map(|w| budget.need(*w)));
    // Until this code is needed, it takes a slot that would otherwise be free; from then
    // on it is one of the needs.
    let peak = busiest_instant(&slots, now, needed_from);
    let limit = budget.capacity.saturating_sub(budget.reserve);
    if peak.slots < limit {
        Turn::Now
    } else {
        Turn::At(needed_from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;

    fn at(hours: i64) -> Timestamp {
        Timestamp(hours * HOUR)
    }

    fn window(from_hour: i64, to_hour: i64) -> Window {
        Window {
            starts_at: at(from_hour),
            ends_at: at(to_hour),
        }
    }

    fn slot(from_hour: i64, to_hour: i64) -> Slot {
        Slot {
            from: at(from_hour),
            until: at(to_hour),
        }
    }

    fn budget(capacity: u32, reserve: u32) -> Budget {
        Budget {
            capacity,
            reserve,
            just_in_time_secs: 2 * HOUR,
        }
    }

    #[test]
    fn the_busiest_instant_counts_overlaps_and_frees_a_slot_where_it_ends() {
        let slots = [slot(0, 10), slot(5, 20), slot(10, 30), slot(12, 14)];
        // At 10 the first ends as the third starts: 2, not 3; at 12 three overlap.
        assert_eq!(
            busiest_instant(&slots, at(0), at(40)),
            Peak {
                slots: 3,
                at: at(12)
            }
        );
        // Clipped to a span: only what overlaps it counts.
        assert_eq!(
            busiest_instant(&slots, at(15), at(40)),
            Peak {
                slots: 2,
                at: at(15)
            }
        );
        assert_eq!(
            busiest_instant(&[], at(3), at(4)),
            Peak {
                slots: 0,
                at: at(3)
            }
        );
    }

    fn held(code: i64, from_hour: i64, to_hour: i64) -> Held {
        Held {
            code: Some(code),
            window: window(from_hour, to_hour),
            until: at(to_hour),
            leaving: false,
            movable: true,
        }
    }

    #[test]
    fn a_code_goes_on_early_while_the_lock_has_room() {
        // Capacity 3, reserve 1: two slots for early issues. One code on the lock.
        let on_lock = [held(1, 10, 100)];
        assert_eq!(
            turn(budget(3, 1), window(72, 96), &on_lock, &[], at(0)),
            Turn::Now
        );
    }

    #[test]
    fn an_early_code_waits_rather_than_take_the_slot_of_one_needed_sooner() {
        // Capacity 3, no reserve. Two codes on the lock; a guest arriving at hour 24 is
        // waiting for theirs (needed from hour 22). A guest arriving at hour 48 would
        // leave that one no room: they wait until their own just-in-time instant.
        let on_lock = [held(1, 10, 100), held(2, 10, 100)];
        let waiting = [window(24, 40)];
        assert_eq!(
            turn(budget(3, 0), window(48, 60), &on_lock, &waiting, at(0)),
            Turn::At(at(46))
        );
        // The guest needed sooner goes on at once.
        assert_eq!(
            turn(
                budget(3, 0),
                window(24, 40),
                &on_lock,
                &[window(48, 60)],
                at(0)
            ),
            Turn::Now
        );
    }

    #[test]
    fn a_slot_freed_before_the_sooner_need_is_counted_free() {
        // The lock's second code leaves at hour 20, before the waiting guest's need at 22:
        // at every instant until hour 46, at most two slots of three are taken.
        let on_lock = [held(1, 10, 100), held(2, 10, 20)];
        let waiting = [window(24, 40)];
        assert_eq!(
            turn(budget(3, 0), window(48, 60), &on_lock, &waiting, at(0)),
            Turn::Now
        );
    }

    #[test]
    fn the_reserve_is_kept_from_early_issues_but_not_from_a_code_needed_now() {
        let on_lock = [held(1, 10, 100), held(2, 10, 100)];
        // Capacity 3 with a reserve of 1: the third slot is not for an early issue.
        assert_eq!(
            turn(budget(3, 1), window(48, 60), &on_lock, &[], at(0)),
            Turn::At(at(46))
        );
        // Needed now (hour 46 passed): issued, reserve or not.
        assert_eq!(
            turn(budget(3, 1), window(48, 60), &on_lock, &[], at(46)),
            Turn::Now
        );
    }

    #[test]
    fn a_code_needed_now_takes_the_slot_of_the_code_needed_last() {
        // Full: two codes needed now (from hour 8) and two put on early for later guests.
        let on_lock = [
            held(1, 10, 100),
            held(2, 10, 100),
            held(3, 70, 100),
            held(4, 50, 100),
        ];
        // At hour 30, a late booking arriving at hour 32 needs its code: code 3, needed
        // last (from hour 68), gives up its slot.
        assert_eq!(
            turn(budget(4, 0), window(32, 40), &on_lock, &[], at(30)),
            Turn::MakeRoom(3)
        );
        // While that slot is being freed, wait for it rather than take another.
        let mut leaving = on_lock;
        leaving[2].leaving = true;
        assert_eq!(
            turn(budget(4, 0), window(32, 40), &leaving, &[], at(30)),
            Turn::At(at(30).plus(SLOT_FREED_WAIT_SECS))
        );
        // A staff code does not move; with every other code needed, the lock is full.
        let mut fixed = on_lock;
        fixed[2].movable = false;
        fixed[3].movable = false;
        assert_eq!(
            turn(budget(4, 0), window(32, 40), &fixed, &[], at(30)),
            Turn::Full
        );
    }
}
