//! The lock model every contract fake shares: which code each lock held when, changes that
//! reach a lock later (or only once it is back online), battery, and the keypad log.
//!
//! A fake keeps its cloud's own records (authorizations, passcodes, jobs, access codes)
//! and tells the model what reaches the door; the model answers the oracle's question
//! "does PIN P open lock L at instant T?" the same way for every cloud.

use std::collections::BTreeMap;

use latchkey_engine::{Pin, Timestamp, Window};
use latchkey_providers::segment::CodeSegment;

/// A code as it should be on the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCode {
    /// The cloud's id for the code.
    pub reference: String,
    /// The name the client gave it (Latchkey's marker).
    pub name: String,
    /// The PIN.
    pub pin: Pin,
    /// The window the lock enforces.
    pub window: Window,
}

/// A change on its way to a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Put (or replace) the code with this reference.
    Put(HeldCode),
    /// Remove the code with this reference.
    Remove(String),
}

/// One attempt at the keypad, as the lock logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeypadEntry {
    /// Sequence number, unique in the model.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// The PIN typed.
    pub pin: Pin,
    /// The code that opened the door, if one did.
    pub opened_by: Option<HeldCode>,
}

#[derive(Debug, Clone)]
struct ModelLock {
    online: bool,
    /// When the lock last came online (changes queued while it was offline arrive then).
    online_since: Timestamp,
    battery_percent: u8,
    segments: Vec<CodeSegment>,
    queued: Vec<(Timestamp, Change)>,
    keypad: Vec<KeypadEntry>,
}

/// Every lock of one fake cloud account, keyed by the cloud's device id.
#[derive(Debug, Clone, Default)]
pub struct LockModel {
    locks: BTreeMap<String, ModelLock>,
    next_seq: u64,
}

impl LockModel {
    /// Adds a lock, online or not, with a battery charge in percent.
    pub fn add_lock(&mut self, device: &str, online: bool, battery_percent: u8) {
        self.locks.insert(
            device.to_owned(),
            ModelLock {
                online,
                online_since: Timestamp(i64::MIN),
                battery_percent: battery_percent.min(100),
                segments: Vec::new(),
                queued: Vec::new(),
                keypad: Vec::new(),
            },
        );
    }

    /// True when the model has `device`.
    pub fn has(&self, device: &str) -> bool {
        self.locks.contains_key(device)
    }

    /// The devices, sorted.
    pub fn devices(&self) -> impl Iterator<Item = &str> {
        self.locks.keys().map(String::as_str)
    }

    /// Whether `device` is reachable (false for an unknown device).
    pub fn is_online(&self, device: &str) -> bool {
        self.locks.get(device).is_some_and(|l| l.online)
    }

    /// `device`'s battery charge in percent (0 for an unknown device).
    pub fn battery_percent(&self, device: &str) -> u8 {
        self.locks.get(device).map_or(0, |l| l.battery_percent)
    }

    /// Sets `device`'s battery charge in percent.
    pub fn set_battery(&mut self, device: &str, percent: u8) {
        if let Some(lock) = self.locks.get_mut(device) {
            lock.battery_percent = percent.min(100);
        }
    }

    /// Takes `device` offline or back online at `now`; changes wait while it is offline.
    pub fn set_online(&mut self, device: &str, online: bool, now: Timestamp) {
        self.settle(now);
        if let Some(lock) = self.locks.get_mut(device) {
            if online && !lock.online {
                lock.online_since = now;
            }
            lock.online = online;
        }
    }

    /// Applies `change` to `device` at `at`, online or not: for codes the lock computes
    /// itself (offline, algorithmic PINs), which need no radio.
    pub fn apply_now(&mut self, device: &str, change: Change, at: Timestamp) {
        if let Some(lock) = self.locks.get_mut(device) {
            apply(lock, change, at);
        }
    }

    /// Sends `change` to `device`: it reaches the lock at `due`, or when the lock is next
    /// online after that.
    pub fn queue(&mut self, device: &str, change: Change, due: Timestamp) {
        if let Some(lock) = self.locks.get_mut(device) {
            lock.queued.push((due, change));
        }
    }

    /// True while a change to `reference` on `device` has not reached the lock.
    pub fn is_pending(&self, device: &str, reference: &str) -> bool {
        self.locks.get(device).is_some_and(|l| {
            l.queued.iter().any(|(_, c)| match c {
                Change::Put(code) => code.reference == reference,
                Change::Remove(r) => r == reference,
            })
        })
    }

    /// Delivers every queued change that has reached its (online) lock by `now`, each at
    /// the instant it arrived.
    pub fn settle(&mut self, now: Timestamp) {
        for lock in self.locks.values_mut() {
            if !lock.online || lock.queued.is_empty() {
                continue;
            }
            let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut lock.queued)
                .into_iter()
                .partition(|(at, _)| *at <= now);
            lock.queued = later;
            for (at, change) in due {
                let arrives = at.max(lock.online_since);
                apply(lock, change, arrives);
            }
        }
    }

    /// The code with `reference` on `device` as the lock holds it at `at`.
    pub fn held(&self, device: &str, reference: &str, at: Timestamp) -> Option<HeldCode> {
        self.locks
            .get(device)?
            .segments
            .iter()
            .rev()
            .find(|s| s.reference == reference && s.present_at(at))
            .map(held_code)
    }

    /// A guest types `pin` on `device` at `at`; the attempt is logged. Returns whether the
    /// door opened.
    pub fn enter_pin(&mut self, device: &str, pin: &str, at: Timestamp) -> bool {
        self.settle(at);
        let seq = self.next_seq;
        self.next_seq += 1;
        let Some(lock) = self.locks.get_mut(device) else {
            return false;
        };
        let opened_by = lock
            .segments
            .iter()
            .find(|s| s.pin.as_str() == pin && s.opens_at(at))
            .map(held_code);
        let opened = opened_by.is_some();
        lock.keypad.push(KeypadEntry {
            seq,
            at,
            pin: Pin::new(pin),
            opened_by,
        });
        opened
    }

    /// `device`'s keypad log from `since` on, oldest first.
    pub fn keypad_log(&self, device: &str, since: Timestamp) -> Vec<KeypadEntry> {
        self.locks
            .get(device)
            .map(|l| l.keypad.iter().filter(|e| e.at >= since).cloned().collect())
            .unwrap_or_default()
    }

    /// Every code `device` has held, oldest first (see [`latchkey_providers::segment`]).
    pub fn history(&self, device: &str) -> Vec<CodeSegment> {
        self.locks
            .get(device)
            .map(|l| l.segments.clone())
            .unwrap_or_default()
    }
}

fn held_code(s: &CodeSegment) -> HeldCode {
    HeldCode {
        reference: s.reference.clone(),
        name: s.marker.clone(),
        pin: s.pin.clone(),
        window: s.window,
    }
}

fn apply(lock: &mut ModelLock, change: Change, at: Timestamp) {
    let reference = match &change {
        Change::Put(code) => &code.reference,
        Change::Remove(reference) => reference,
    };
    for segment in lock
        .segments
        .iter_mut()
        .filter(|s| &s.reference == reference && s.present_until.is_none_or(|u| u > at))
    {
        segment.present_until = Some(at.max(segment.present_from));
    }
    if let Change::Put(code) = change {
        lock.segments.push(CodeSegment {
            reference: code.reference,
            marker: code.name,
            pin: code.pin,
            window: code.window,
            present_from: at,
            present_until: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000;

    fn code(reference: &str, pin: &str, from: i64, to: i64) -> HeldCode {
        HeldCode {
            reference: reference.into(),
            name: format!("lk-{reference}"),
            pin: Pin::new(pin),
            window: Window {
                starts_at: Timestamp(from),
                ends_at: Timestamp(to),
            },
        }
    }

    fn opens(model: &LockModel, pin: &str, at: i64) -> bool {
        model
            .history("door")
            .iter()
            .any(|s| s.pin.as_str() == pin && s.opens_at(Timestamp(at)))
    }

    #[test]
    fn a_queued_change_reaches_an_online_lock_when_due() {
        let mut m = LockModel::default();
        m.add_lock("door", true, 80);
        let c = code("a", "345678", T0, T0 + 3600);
        m.queue("door", Change::Put(c.clone()), Timestamp(T0 + 5));
        m.settle(Timestamp(T0 + 4));
        assert!(m.is_pending("door", "a"));
        assert!(!opens(&m, "345678", T0 + 4));
        m.settle(Timestamp(T0 + 100));
        assert!(!m.is_pending("door", "a"));
        assert!(!opens(&m, "345678", T0 + 4), "not before it arrived");
        assert!(opens(&m, "345678", T0 + 5));
        assert_eq!(m.held("door", "a", Timestamp(T0 + 5)), Some(c));
    }

    #[test]
    fn an_offline_lock_gets_its_changes_when_it_is_back() {
        let mut m = LockModel::default();
        m.add_lock("door", false, 80);
        m.queue(
            "door",
            Change::Put(code("a", "345678", T0, T0 + 7200)),
            Timestamp(T0 + 5),
        );
        m.settle(Timestamp(T0 + 600));
        assert!(m.is_pending("door", "a"), "waits while offline");
        m.set_online("door", true, Timestamp(T0 + 900));
        m.settle(Timestamp(T0 + 901));
        assert!(!opens(&m, "345678", T0 + 899));
        assert!(opens(&m, "345678", T0 + 900), "arrives when back online");
        m.queue("door", Change::Remove("a".into()), Timestamp(T0 + 1000));
        m.settle(Timestamp(T0 + 1000));
        assert!(!opens(&m, "345678", T0 + 1000), "removed");
        assert!(opens(&m, "345678", T0 + 999));
    }

    #[test]
    fn the_keypad_log_says_which_code_opened_the_door() {
        let mut m = LockModel::default();
        m.add_lock("door", true, 80);
        m.apply_now(
            "door",
            Change::Put(code("a", "345678", T0, T0 + 3600)),
            Timestamp(T0),
        );
        assert!(m.enter_pin("door", "345678", Timestamp(T0 + 10)));
        assert!(!m.enter_pin("door", "999999", Timestamp(T0 + 20)));
        assert!(
            !m.enter_pin("door", "345678", Timestamp(T0 + 3600)),
            "expired"
        );
        let log = m.keypad_log("door", Timestamp(T0 + 15));
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].opened_by, None);
        let all = m.keypad_log("door", Timestamp(T0));
        assert_eq!(
            all[0].opened_by.as_ref().map(|c| c.name.as_str()),
            Some("lk-a")
        );
    }
}
