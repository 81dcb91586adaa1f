//! The door sheet: what a guest is told (each door, its PIN, its window), built only from
//! codes the locks have confirmed, and whether it is news compared with what the guest was
//! last told.
//!
//! A guest is told every door at once when every code is confirmed. When a door's code is
//! still pending [`TELL_WHAT_WORKS_SECS`] before its window opens (its lock is down, say),
//! the guest is told the doors that work, and the rest when they are ready: a room lock
//! that is down must not keep them from the main entrance.

use std::collections::{BTreeSet, HashSet};

use latchkey_engine::{CodeRecord, CodeState, Connectivity, Timestamp};
use latchkey_store::notifications::Door;

use crate::catalog::Catalog;

/// Seconds before a pending code's window opens from which the guest is told the doors
/// that work without waiting for it (2 hours, the pre-arrival check's last look).
pub const TELL_WHAT_WORKS_SECS: i64 = 2 * 3600;

/// The doors to tell the guest now, sorted by lock: every door a confirmed code opens when
/// no code is pending; while one is, `None` (a PIN or window is about to change on a lock,
/// so telling now could tell something that is not there yet) until
/// [`tell_what_works_at`], and from then on the doors without a pending code.
pub fn doors_to_tell(codes: &[CodeRecord], catalog: &Catalog, now: Timestamp) -> Option<Vec<Door>> {
    match tell_what_works_at(codes) {
        Some(at) if now < at => None,
        _ => Some(working_doors(codes, catalog, now)),
    }
}

/// When the guest is told the doors that work although a code is still pending:
/// [`TELL_WHAT_WORKS_SECS`] before the earliest pending code's window opens; `None` when
/// no code is pending.
pub fn tell_what_works_at(codes: &[CodeRecord]) -> Option<Timestamp> {
    codes
        .iter()
        .filter(|c| awaits_change(c))
        .map(|c| c.code.window.starts_at.plus(-TELL_WHAT_WORKS_SECS))
        .min()
}

/// True while `c` waits for a change that may alter what the guest can do within its
/// window: pending, unless the change only narrows a window the lock already enforces
/// around it (a backup code given to the guest, `CodeRecord::only_narrowing`).
fn awaits_change(c: &CodeRecord) -> bool {
    c.code.state == CodeState::Pending && !c.only_narrowing()
}

/// The doors confirmed codes open now, leaving out every door with a pending code (its PIN
/// or window is about to change), sorted by lock. A code whose pending change only
/// narrows its window on the lock counts as confirmed.
pub fn working_doors(codes: &[CodeRecord], catalog: &Catalog, now: Timestamp) -> Vec<Door> {
    let pending: BTreeSet<_> = codes
        .iter()
        .filter(|c| awaits_change(c))
        .map(|c| &c.code.lock)
        .collect();
    // A code that was replaced, or that could not be revoked when access moved on, stays
    // `active` on record without being the guest's any more.
    let replaced: HashSet<i64> = codes.iter().filter_map(|c| c.replaces).collect();
    let mut current: Vec<&CodeRecord> = codes
        .iter()
        .filter(|c| c.code.state == CodeState::Active || c.only_narrowing())
        .filter(|c| c.code.window.ends_at > now)
        .filter(|c| !c.unrevocable && !replaced.contains(&c.code.id))
        .filter(|c| !pending.contains(&c.code.lock))
        .collect();
    // One door, one PIN: the newest code wins should two remain.
    current.sort_by_key(|c| std::cmp::Reverse(c.code.id));
    let mut seen = HashSet::new();
    current.retain(|c| seen.insert(c.code.lock.clone()));
    let mut doors: Vec<Door> = current
        .into_iter()
        .filter_map(|c| {
            let pin = c.code.pin.as_ref()?;
            let lock = catalog.lock(&c.code.lock);
            Some(Door {
                lock: c.code.lock.clone(),
                name: lock
                    .map(|l| l.name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| c.code.lock.to_string()),
                pin: pin.as_str().to_owned(),
                window: c.code.window,
                offline: lock.is_some_and(|l| l.capabilities.connectivity == Connectivity::Offline),
                instructions: catalog.door_instructions(&c.code.lock).map(str::to_owned),
            })
        })
        .collect();
    doors.sort_by(|a, b| a.lock.cmp(&b.lock));
    doors
}

/// True when `now` holds a door the guest was not told, or told with another PIN or
/// window. A door that went away is not news: its code stops working, and the guest
/// learns nothing useful from a message about it (a withdrawal of all access is the
/// revocation notice's business).
pub fn is_news(told: Option<&[Door]>, now: &[Door]) -> bool {
    now.iter().any(|door| {
        !told
            .unwrap_or_default()
            .iter()
            .any(|t| t.lock == door.lock && t.pin == door.pin && t.window == door.window)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_engine::{LockId, Window};

    fn door(lock: &str, pin: &str, start: i64) -> Door {
        Door {
            lock: LockId::parse(lock).expect("lock id"),
            name: lock.into(),
            pin: pin.into(),
            window: Window {
                starts_at: Timestamp(start),
                ends_at: Timestamp(start + 86_400),
            },
            offline: false,
            instructions: None,
        }
    }

    #[test]
    fn news_is_a_new_door_or_a_changed_pin_or_window() {
        let told = [door("room-101", "583941", 100), door("pool", "274816", 100)];
        assert!(!is_news(Some(&told), &told), "the same sheet is not news");
        assert!(
            !is_news(Some(&told), &told[..1]),
            "a door going away is not news"
        );
        assert!(is_news(None, &told[..1]), "never told: anything is news");
        assert!(
            is_news(Some(&[]), &told[..1]),
            "told a revocation: news again"
        );
        assert!(is_news(Some(&told), &[door("room-101", "111111", 100)]));
        assert!(is_news(Some(&told), &[door("room-101", "583941", 200)]));
        assert!(is_news(Some(&told), &[door("room-102", "583941", 100)]));
    }
}
