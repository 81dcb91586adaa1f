//! Arrival readiness: of the guests who could have been ready, how many were.
//!
//! A (reservation, door) pair counts when its access window opens within the replay and
//! the guest was entitled to the door from that instant on (its entitlement, and any
//! change of that door's window, acknowledged at least `grace` before the window opened).
//! It is **ready** when, at the window's first instant, a code of the reservation on the
//! lock (or on the door the property names for its overflow) opens the door, and the last
//! message on every expected channel names that door with the PIN of such a code. Pairs entitled only after their window opened (a booking
//! paid on arrival, a late change) are counted apart as late: no service could have had
//! them ready. Outages are not excused: a guest at a door whose lock was down was not
//! ready, whatever the reason.

use serde::Serialize;

use super::coverage::Context;
use super::policy::{Piece, access_window, opens_door};
use super::{CodeSegment, Told};
use latchkey_engine::{LockId, ReservationId, Timestamp};

/// How many examples of pairs that were not ready a report keeps.
const EXAMPLES: usize = 10;

/// The arrival readiness of one replay.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Readiness {
    /// (reservation, door) pairs whose window opened in time to be ready.
    pub pairs: usize,
    /// Of those, ready at the window's start: a code on the lock and the guest told it.
    pub ready: usize,
    /// Of those, whose code was on the lock at the window's start (told or not).
    pub code_on_lock: usize,
    /// Pairs entitled only after their window opened, not counted in `pairs`.
    pub late: usize,
    /// `ready / pairs` in percent (100 when there is no pair).
    pub percent: f64,
    /// Up to ten pairs that were not ready, with why.
    pub examples: Vec<NotReady>,
}

/// A (reservation, door) pair that was not ready when its window opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotReady {
    /// The reservation.
    pub reservation: ReservationId,
    /// The door.
    pub lock: LockId,
    /// When its window opened (UTC, RFC 3339).
    pub window_start: String,
    /// `no code on the lock`, or the channel whose last message did not tell a PIN
    /// that opened the door then.
    pub why: String,
}

impl Readiness {
    fn count(&mut self, pair: Pair<'_>, on_lock: bool, untold: Option<&str>) {
        self.pairs += 1;
        self.code_on_lock += usize::from(on_lock);
        let why = if !on_lock {
            Some("no code on the lock".to_owned())
        } else {
            untold.map(|channel| format!("not told on {channel}"))
        };
        match why {
            None => self.ready += 1,
            Some(why) if self.examples.len() < EXAMPLES => self.examples.push(NotReady {
                reservation: pair.reservation.clone(),
                lock: pair.lock.clone(),
                window_start: Timestamp(pair.start).to_rfc3339(),
                why,
            }),
            Some(_) => {}
        }
    }

    fn finish(mut self) -> Readiness {
        self.percent = if self.pairs == 0 {
            100.0
        } else {
            // Two decimals are all a report needs.
            (10_000.0 * self.ready as f64 / self.pairs as f64).round() / 100.0
        };
        self
    }
}

#[derive(Clone, Copy)]
struct Pair<'a> {
    reservation: &'a ReservationId,
    lock: &'a LockId,
    start: i64,
}

impl<'a> Context<'a> {
    /// The arrival readiness over every reservation, with `told` (each reservation's
    /// messages in the order delivered) and the channels every guest must be told on.
    pub(super) fn readiness(
        &self,
        told: &std::collections::HashMap<&ReservationId, Vec<&Told>>,
        expected_channels: &[String],
    ) -> Readiness {
        let mut readiness = Readiness::default();
        let mut ids: Vec<_> = self.states.keys().copied().collect();
        ids.sort();
        for id in ids {
            let states = &self.states[id];
            let messages = told.get(id).map_or(&[][..], Vec::as_slice);
            for i in self.doors(states) {
                let Some(&(start, _)) = self.required(states, i).first() else {
                    continue;
                };
                let lock = &self.locks[i];
                if !self.opens_in_time(states, i, start) {
                    readiness.late += 1;
                    continue;
                }
                // The guest's codes on the door, or on its overflow door, open then.
                let mine: Vec<(&LockId, &CodeSegment)> = self
                    .serving(i)
                    .flat_map(|d| {
                        let door = &self.locks[d];
                        door.segments
                            .iter()
                            .filter(|s| held_at(s, id, start) && opens_at(s, start))
                            .map(move |s| (&door.lock, s))
                    })
                    .collect();
                let untold = expected_channels.iter().find(|channel| {
                    let last = messages
                        .iter()
                        .rev()
                        .find(|m| &m.channel == *channel && m.at.unix() <= start);
                    !last.is_some_and(|m| {
                        mine.iter()
                            .any(|(door, s)| m.pin_for(door) == Some(s.pin.as_str()))
                    })
                });
                let pair = Pair {
                    reservation: id,
                    lock: &lock.lock,
                    start,
                };
                readiness.count(pair, !mine.is_empty(), untold.map(String::as_str));
            }
        }
        readiness.finish()
    }

    /// True when `start`, the first instant the guest needs door `i`, is the access
    /// window's own start: the entitlement was there in time.
    fn opens_in_time(&self, states: &[Piece<'a>], i: usize, start: i64) -> bool {
        let lock = &self.locks[i];
        states
            .iter()
            .find(|p| p.from <= start && start < p.until)
            .filter(|p| opens_door(lock, p.state))
            .and_then(|p| access_window(self.policy, self.property, p.state))
            .is_some_and(|(opens, _)| opens == start)
    }
}

/// True when reservation `id` holds `segment` at `at` (its own code, or one it was told).
fn held_at(segment: &CodeSegment, id: &ReservationId, at: i64) -> bool {
    segment.held_from(id).is_some_and(|from| from.unix() <= at)
}

/// True when `segment` opens its door at `at`: on the lock then, and inside its window.
fn opens_at(segment: &CodeSegment, at: i64) -> bool {
    segment.present_at(Timestamp(at))
        && segment.window.starts_at.unix() <= at
        && at < segment.window.ends_at.unix()
}
