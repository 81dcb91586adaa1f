//! What a lock reports besides its codes (reachability, battery, the activity log), in
//! one shape for every cloud, and the lock sync's judgement of it, apart from any I/O:
//! who an activity entry was, whether a grant covers it, and when a status deserves an
//! alert. The providers normalise each cloud's reports to these types (each client's
//! module names the fields it reads); the service stores them and raises the alerts.

use serde::{Deserialize, Serialize};

use crate::{Pin, Timestamp, Window};

/// A battery's state, normalised over every cloud (Nuki's `batteryCritical` and
/// `batteryCharge`, TTLock's `electricQuantity`, igloohome's `batteryLevel`, Seam's
/// `battery_level` 0–1 and `battery.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatteryLevel {
    /// Above [`BatteryLevel::LOW_PERCENT`].
    Ok,
    /// Replace soon: at most [`BatteryLevel::LOW_PERCENT`].
    Low,
    /// Replace now: at most [`BatteryLevel::CRITICAL_PERCENT`], or flagged critical by
    /// the lock.
    Critical,
}

impl BatteryLevel {
    /// Charge (%) at or below which a battery is low.
    pub const LOW_PERCENT: u8 = 25;
    /// Charge (%) at or below which a battery is critical.
    pub const CRITICAL_PERCENT: u8 = 10;

    /// The level of a charge in percent (clamped to 0–100).
    pub fn from_percent(percent: u8) -> BatteryLevel {
        match percent.min(100) {
            p if p <= Self::CRITICAL_PERCENT => BatteryLevel::Critical,
            p if p <= Self::LOW_PERCENT => BatteryLevel::Low,
            _ => BatteryLevel::Ok,
        }
    }

    /// Lower-case name, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            BatteryLevel::Ok => "ok",
            BatteryLevel::Low => "low",
            BatteryLevel::Critical => "critical",
        }
    }
}

/// A lock's state as its cloud last knew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LockStatus {
    /// Reachable through its bridge, gateway or Wi-Fi.
    pub online: bool,
    /// Battery charge, 0–100 %, when the cloud reports one.
    pub battery_percent: Option<u8>,
    /// Battery level; `None` when the cloud reports nothing about the battery.
    pub battery: Option<BatteryLevel>,
}

impl LockStatus {
    /// A status from a charge in percent (values above 100 are clamped).
    pub fn from_percent(online: bool, percent: Option<u8>) -> LockStatus {
        let percent = percent.map(|p| p.min(100));
        LockStatus {
            online,
            battery_percent: percent,
            battery: percent.map(BatteryLevel::from_percent),
        }
    }
}

/// What happened at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockAction {
    /// The door was unlocked (opened).
    Unlock,
    /// The door was locked.
    Lock,
    /// Someone tried and was refused (wrong or expired PIN).
    Denied,
    /// Anything else the cloud logs (settings, firmware, tamper).
    Other,
}

/// How the action was triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessMethod {
    /// A PIN typed on the keypad.
    Keypad,
    /// The vendor's phone app (a person's own account).
    App,
    /// A remote command through the cloud API (Latchkey or another integration).
    Remote,
    /// By hand: key, thumb-turn, auto-lock.
    Manual,
    /// The cloud does not say.
    Unknown,
}

/// One entry of a lock's activity log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityEntry {
    /// The provider's id for the entry, stable across reads (for de-duplication).
    pub id: String,
    /// When it happened (UTC), as the lock reported it.
    pub at: Timestamp,
    /// What happened.
    pub action: LockAction,
    /// How.
    pub method: AccessMethod,
    /// The provider's reference of the code used, when the cloud names it.
    pub code_reference: Option<String>,
    /// The code's name (Latchkey's marker for its own codes), when the cloud names it.
    pub code_name: Option<String>,
    /// The PIN typed, when the cloud reports it.
    pub pin: Option<Pin>,
    /// The account or person the cloud names (app user), when any.
    pub actor: Option<String>,
}

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

/// One of Latchkey's codes as the lock sync found it on record, for [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownCode {
    /// A staff code (its holder is staff, not a reservation's guest).
    pub staff: bool,
    /// The window granted (not the lock's rounded one).
    pub granted: Window,
}

/// Who made `entry`, and whether a grant covers it. A keypad unlock is covered only by
/// one of our codes whose granted window (not the lock's rounded one) contains the
/// instant: an unlock in the hour a lock rounded a window out to, or by a code left on
/// the lock after its grant ended, is exactly the incident a front desk wants to see.
/// Refusals and locking are always "covered": they open nothing.
pub fn classify(entry: &ActivityEntry, code: Option<&KnownCode>) -> (Initiator, bool) {
    let opens = entry.action == LockAction::Unlock;
    match entry.method {
        AccessMethod::Keypad => match code {
            Some(c) => {
                let who = if c.staff {
                    Initiator::Staff
                } else {
                    Initiator::Guest
                };
                (who, !opens || c.granted.contains(entry.at))
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
    use crate::Pin;

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

    fn code(starts: i64, ends: i64) -> KnownCode {
        KnownCode {
            staff: false,
            granted: Window {
                starts_at: Timestamp(starts),
                ends_at: Timestamp(ends),
            },
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

    #[test]
    fn battery_levels_have_inclusive_thresholds() {
        assert_eq!(BatteryLevel::from_percent(0), BatteryLevel::Critical);
        assert_eq!(BatteryLevel::from_percent(10), BatteryLevel::Critical);
        assert_eq!(BatteryLevel::from_percent(11), BatteryLevel::Low);
        assert_eq!(BatteryLevel::from_percent(25), BatteryLevel::Low);
        assert_eq!(BatteryLevel::from_percent(26), BatteryLevel::Ok);
        assert_eq!(
            LockStatus::from_percent(true, Some(250)).battery_percent,
            Some(100)
        );
        assert_eq!(LockStatus::from_percent(false, None).battery, None);
    }
}
