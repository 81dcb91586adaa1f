//! The lock sync's decisions, apart from any I/O: who an activity entry was, whether a
//! grant covers it, and when a status deserves an alert.

use latchkey_engine::Timestamp;
use latchkey_providers::{AccessMethod, ActivityEntry, BatteryLevel, LockAction};
use latchkey_store::monitoring::CodeOnLock;

/// Seconds a lock must stay offline before it is alerted: clouds report brief drops
/// (a bridge reconnecting) that need nobody.
pub const OFFLINE_GRACE_SECS: i64 = 300;

/// Who was at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    /// A guest, with a code of one of their reservations.
    Guest,
    /// Staff: a staff code, the vendor's app, a key or the thumb-turn.
    Staff,
    /// A remote command through the cloud (Latchkey or another integration).
    System,
    /// Nobody Latchkey knows: a code it never issued.
    Unknown,
}

impl Initiator {
    /// Lower-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Initiator::Guest => "guest",
            Initiator::Staff => "staff",
            Initiator::System => "system",
            Initiator::Unknown => "unknown",
        }
    }
}

/// Our code id in a marker `lk-{id}`, the name Latchkey gives every code it creates.
pub fn code_id_of(name: Option<&str>) -> Option<i64> {
    name?.strip_prefix("lk-")?.parse().ok()
}

/// Who made `entry`, and whether a grant covers it. A keypad unlock is covered only by
/// one of our codes whose granted window (not the lock's rounded one) contains the
/// instant: an unlock in the hour a lock rounded a window out to, or by a code left on
/// the lock after its grant ended, is exactly the incident a front desk wants to see.
/// Refusals and locking are always "covered": they open nothing.
pub fn classify(entry: &ActivityEntry, code: Option<&CodeOnLock>) -> (Initiator, bool) {
    let opens = entry.action == LockAction::Unlock;
    match entry.method {
        AccessMethod::Keypad => match code {
            Some(c) => {
                let granted = c.starts_at <= entry.at.unix() && entry.at.unix() < c.ends_at;
                let who = if c.reservation_id.starts_with(crate::staff::OWNER_PREFIX) {
                    Initiator::Staff
                } else {
                    Initiator::Guest
                };
                (who, !opens || granted)
            }
            None => (Initiator::Unknown, !opens),
        },
        AccessMethod::Remote => (Initiator::System, true),
        AccessMethod::App | AccessMethod::Manual => (Initiator::Staff, true),
        AccessMethod::Unknown => (Initiator::Unknown, true),
    }
}

/// The start of the offline spell after a status read at `now`: kept while offline,
/// cleared when online.
pub fn offline_since(online: bool, before: Option<i64>, now: Timestamp) -> Option<i64> {
    (!online).then(|| before.unwrap_or(now.unix()))
}

/// True when an offline spell that began at `since` is long enough to alert at `now`.
pub fn offline_alert_due(since: Option<i64>, now: Timestamp) -> bool {
    since.is_some_and(|s| now.unix() - s >= OFFLINE_GRACE_SECS)
}

/// The start of the low-battery spell: kept while low or critical, cleared at `ok` (a
/// battery change), so the next spell alerts again.
pub fn battery_since(
    level: Option<BatteryLevel>,
    before: Option<i64>,
    now: Timestamp,
) -> Option<i64> {
    match level {
        Some(BatteryLevel::Low | BatteryLevel::Critical) => Some(before.unwrap_or(now.unix())),
        Some(BatteryLevel::Ok) => None,
        // No reading says nothing about a change of battery.
        None => before,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_engine::Pin;

    fn entry(method: AccessMethod, action: LockAction, at: i64) -> ActivityEntry {
        ActivityEntry {
            id: "e1".into(),
            at: Timestamp(at),
            action,
            method,
            code_reference: None,
            code_name: Some("lk-7".into()),
            pin: Some(Pin::new("345678")),
            actor: None,
        }
    }

    fn code(starts: i64, ends: i64) -> CodeOnLock {
        CodeOnLock {
            id: 7,
            reservation_id: "R1".into(),
            starts_at: starts,
            ends_at: ends,
        }
    }

    #[test]
    fn a_keypad_unlock_is_covered_only_inside_the_granted_window() {
        let unlock = |at| entry(AccessMethod::Keypad, LockAction::Unlock, at);
        let c = code(1000, 2000);
        assert_eq!(classify(&unlock(1000), Some(&c)), (Initiator::Guest, true));
        assert_eq!(classify(&unlock(1999), Some(&c)), (Initiator::Guest, true));
        assert_eq!(classify(&unlock(2000), Some(&c)), (Initiator::Guest, false));
        assert_eq!(classify(&unlock(999), Some(&c)), (Initiator::Guest, false));
        assert_eq!(classify(&unlock(1500), None), (Initiator::Unknown, false));
        let refused = entry(AccessMethod::Keypad, LockAction::Denied, 5000);
        assert_eq!(classify(&refused, None), (Initiator::Unknown, true));
    }

    #[test]
    fn staff_and_remote_openings_are_covered() {
        let app = entry(AccessMethod::App, LockAction::Unlock, 1);
        assert_eq!(classify(&app, None), (Initiator::Staff, true));
        let remote = entry(AccessMethod::Remote, LockAction::Unlock, 1);
        assert_eq!(classify(&remote, None), (Initiator::System, true));
    }

    #[test]
    fn markers_name_our_codes() {
        assert_eq!(code_id_of(Some("lk-42")), Some(42));
        assert_eq!(code_id_of(Some("Cleaning")), None);
        assert_eq!(code_id_of(Some("lk-x")), None);
        assert_eq!(code_id_of(None), None);
    }

    #[test]
    fn spells_start_once_and_end_on_recovery() {
        let now = Timestamp(10_000);
        assert_eq!(offline_since(false, None, now), Some(10_000));
        assert_eq!(offline_since(false, Some(9_000), now), Some(9_000));
        assert_eq!(offline_since(true, Some(9_000), now), None);
        assert!(!offline_alert_due(Some(9_800), now));
        assert!(offline_alert_due(Some(9_700), now));
        assert!(!offline_alert_due(None, now));
        assert_eq!(
            battery_since(Some(BatteryLevel::Low), None, now),
            Some(10_000)
        );
        assert_eq!(
            battery_since(Some(BatteryLevel::Critical), Some(5), now),
            Some(5)
        );
        assert_eq!(battery_since(Some(BatteryLevel::Ok), Some(5), now), None);
        assert_eq!(battery_since(None, Some(5), now), Some(5));
    }
}
