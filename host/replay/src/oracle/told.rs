//! Wrong PIN told: what guests were told, against what the locks held.
//!
//! At every instant a reservation is entitled to a door and one of its codes opens it,
//! the last message on each channel must name that door with a PIN the lock holds for the
//! reservation then. Excused: outages of the lock, and `grace` after a code of the
//! reservation appears on the lock (the service tells once the lock confirms), and the
//! time after the guest checked out (nobody messages a guest who left). A guest never
//! told is the same finding before the first message. Two consecutive messages on
//! one channel that say the same thing, or one message delivered twice, are duplicates.

use std::collections::{BTreeMap, BTreeSet};

use latchkey_engine::{ReservationId, ReservationStatus, Timestamp};

use super::coverage::Context;
use super::intervals::{clip, normalize, subtract};
use super::policy::Piece;
use super::{Told, Violation, ViolationKind};

impl<'a> Context<'a> {
    /// Checks the messages of reservation `id` (in the order sent) against its states.
    pub(super) fn told(
        &self,
        id: &'a ReservationId,
        states: &[Piece<'a>],
        messages: &[&Told],
        expected_channels: &[String],
        out: &mut Vec<Violation>,
    ) {
        let mut by_channel: BTreeMap<&str, Vec<&Told>> = expected_channels
            .iter()
            .map(|c| (c.as_str(), Vec::new()))
            .collect();
        for m in messages {
            by_channel.entry(m.channel.as_str()).or_default().push(m);
        }
        for (channel, ms) in &by_channel {
            duplicates(id, channel, ms, out);
        }
        let left = normalize(
            states
                .iter()
                .filter(|p| p.state.status == ReservationStatus::CheckedOut)
                .map(|p| (p.from, p.until))
                .collect(),
        );
        for i in self.doors(states) {
            let required = self.required(states, i);
            let covered = self.covered(id, i);
            // Where the guest can get in (anything else is a lockout, not this finding),
            // until they have checked out: nobody messages a guest who left.
            let can_enter = subtract(&required, &subtract(&required, &covered));
            let need = subtract(&can_enter, &left);
            if need.is_empty() {
                continue;
            }
            let lock = &self.locks[i];
            // The codes the guest holds on the door, or on its overflow door, each with its
            // door and the instant the guest holds it from.
            let mine: Vec<_> = self
                .serving(i)
                .flat_map(|d| {
                    let door = &self.locks[d];
                    door.segments
                        .iter()
                        .filter_map(move |s| Some((&door.lock, s, s.held_from(id)?.unix())))
                })
                .collect();
            let grace = self.policy.grace_secs;
            let mut excused: Vec<_> = self.serving(i).flat_map(|d| self.excused(d)).collect();
            excused.extend(
                mine.iter()
                    .map(|&(_, _, from)| (from, from.saturating_add(grace))),
            );
            let excused = normalize(excused);
            for (channel, ms) in &by_channel {
                let mut right = Vec::new();
                for (k, m) in ms.iter().enumerate() {
                    let from = m.at.unix();
                    let to = ms.get(k + 1).map_or(self.end, |next| next.at.unix());
                    for &(door, s, held) in &mine {
                        if m.pin_for(door) != Some(s.pin.as_str()) {
                            continue;
                        }
                        let until = s.present_until.map_or(self.end, Timestamp::unix);
                        let opens = (s.window.starts_at.unix(), s.window.ends_at.unix());
                        if let Some(span) = clip(opens, held.max(from), until.min(to)) {
                            right.push(span);
                        }
                    }
                }
                for (a, b) in subtract(&subtract(&need, &normalize(right)), &excused) {
                    out.push(Violation {
                        kind: ViolationKind::WrongPinTold,
                        reservation: Some(id.clone()),
                        lock: Some(lock.lock.clone()),
                        at: Timestamp(a),
                        detail: format!(
                            "for {} s, until {}: {}",
                            b - a,
                            Timestamp(b),
                            what_was_told(ms, a, &lock.lock, channel)
                        ),
                    });
                }
            }
        }
    }
}

fn what_was_told(ms: &[&Told], at: i64, lock: &latchkey_engine::LockId, channel: &str) -> String {
    match ms.iter().rev().find(|m| m.at.unix() <= at) {
        None => format!("the guest was never told a PIN for this door ({channel})"),
        Some(m) if m.kind == "revoked" => {
            format!("the last {channel} message said access was revoked")
        }
        Some(m) => match m.pin_for(lock) {
            None => format!(
                "the last {channel} message ({}) does not list this door",
                m.kind
            ),
            Some(pin) => format!(
                "the guest was told PIN {pin} by {channel}, which the lock does not hold for them"
            ),
        },
    }
}

fn duplicates(id: &ReservationId, channel: &str, ms: &[&Told], out: &mut Vec<Violation>) {
    let mut keys = BTreeSet::new();
    for (k, m) in ms.iter().enumerate() {
        let repeated_key = !keys.insert(m.key.as_str());
        let same_as_before = k > 0 && ms[k - 1].kind == m.kind && ms[k - 1].doors == m.doors;
        if repeated_key || same_as_before {
            out.push(Violation {
                kind: ViolationKind::DuplicateMessage,
                reservation: Some(id.clone()),
                lock: None,
                at: m.at,
                detail: format!(
                    "the guest got the same {} {channel} message twice{}",
                    m.kind,
                    if repeated_key {
                        " (one idempotency key)"
                    } else {
                        ""
                    }
                ),
            });
        }
    }
}
