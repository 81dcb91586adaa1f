//! The reconciler's pure core: desired grants versus codes on record, to actions. The
//! host carries the actions out (`reconcile` in `latchkey-service`).
//!
//! Nothing here reads a clock or a database, so "running it twice plans nothing" is a
//! property of this function, tested below.

use std::collections::HashMap;

use crate::{Capabilities, CodeRecord, CodeState, Grant, LockId, Timestamp, Window};

/// One change to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Put a new code on `lock`.
    Create {
        /// Lock.
        lock: LockId,
        /// Desired window.
        window: Window,
    },
    /// Change the window of `code` in place.
    Update {
        /// Code id.
        code: i64,
        /// New window.
        window: Window,
    },
    /// Put a new code on the lock, then clear `old` once the new one is confirmed (locks
    /// that cannot change a code in place).
    Replace {
        /// The code being replaced.
        old: i64,
        /// Lock.
        lock: LockId,
        /// Desired window.
        window: Window,
    },
    /// Delete `code` from its lock.
    Revoke {
        /// Code id.
        code: i64,
    },
    /// The code's window is over: record it as expired; `cleanup` deletes it from the lock
    /// to free a slot.
    Expire {
        /// Code id.
        code: i64,
        /// Also delete it from the lock.
        cleanup: bool,
    },
    /// The code should go but its lock cannot revoke it: raise the alarm.
    Unrevocable {
        /// Code id.
        code: i64,
    },
}

/// The actions, and the next instant at which the answer will change by itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Changes to make now.
    pub actions: Vec<Action>,
    /// When to reconcile again (a code to issue, a window to end).
    pub wake_at: Option<Timestamp>,
}

fn earliest(a: Option<Timestamp>, b: Timestamp) -> Option<Timestamp> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// Compares `grants` with `codes` (all codes of one reservation) at `now`.
///
/// `caps` gives each lock's capabilities; a code on a lock no longer in the catalog is
/// treated as revocable, so the provider decides.
pub fn diff(
    grants: &[Grant],
    codes: &[CodeRecord],
    caps: impl Fn(&LockId) -> Option<Capabilities>,
    now: Timestamp,
) -> Diff {
    let mut out = Diff::default();
    let live: Vec<&CodeRecord> = codes
        .iter()
        .filter(|c| matches!(c.code.state, CodeState::Pending | CodeState::Active))
        .collect();
    // The newest live code on each lock is the one that should match the grant; older live
    // codes there are being replaced.
    let mut newest: HashMap<&LockId, &CodeRecord> = HashMap::new();
    for c in &live {
        newest.insert(&c.code.lock, c);
    }
    // Locks whose grant is current; and, for grants whose window has ended, the window a
    // code may keep until it runs out by itself (a code that would outlast its grant is
    // excess access, not a code to wait for).
    let mut wanted: Vec<&LockId> = Vec::new();
    let mut ended: Vec<(&LockId, Window)> = Vec::new();

    for g in grants {
        if g.ends_at <= now {
            ended.push((&g.lock, g.window()));
            continue;
        }
        wanted.push(&g.lock);
        out.wake_at = earliest(out.wake_at, g.ends_at);
        let window = g.window();
        match newest.get(&g.lock) {
            Some(c) if c.code.window == window => {}
            Some(c) => {
                let can_update = caps(&g.lock).is_none_or(|k| k.can_update);
                out.actions.push(if can_update {
                    Action::Update {
                        code: c.code.id,
                        window,
                    }
                } else {
                    Action::Replace {
                        old: c.code.id,
                        lock: g.lock.clone(),
                        window,
                    }
                });
            }
            None if g.issue_at() <= now => out.actions.push(Action::Create {
                lock: g.lock.clone(),
                window,
            }),
            None => out.wake_at = earliest(out.wake_at, g.issue_at()),
        }
    }

    for c in live {
        let is_newest = newest
            .get(&c.code.lock)
            .is_some_and(|n| n.code.id == c.code.id);
        let replacement_done = newest
            .get(&c.code.lock)
            .is_some_and(|n| n.code.state == CodeState::Active);
        let keep = (wanted.contains(&&c.code.lock) && (is_newest || !replacement_done))
            || ended.contains(&(&c.code.lock, c.code.window));
        let end = c.code.opens_until();
        let can_revoke = caps(&c.code.lock).is_none_or(|k| k.can_revoke);
        // A code whose window ran out but is being moved to its grant's new window (a
        // staff code's next occurrence, a stay extended after it ended) lives on.
        let moving = out
            .actions
            .iter()
            .any(|a| matches!(a, Action::Update { code, .. } if *code == c.code.id));
        if end <= now && !moving {
            out.actions.push(Action::Expire {
                code: c.code.id,
                cleanup: can_revoke,
            });
        } else if keep {
            out.wake_at = earliest(out.wake_at, end);
        } else if can_revoke {
            out.actions.push(Action::Revoke { code: c.code.id });
        } else {
            if !c.unrevocable {
                out.actions.push(Action::Unrevocable { code: c.code.id });
            }
            out.wake_at = earliest(out.wake_at, end);
        }
    }
    out
}

#[cfg(test)]
mod tests;
