//! What a provider reports about a lock besides its codes: reachability, battery and the
//! activity log, in one shape for every cloud.

use latchkey_engine::{Pin, Timestamp};
use serde::{Deserialize, Serialize};

/// A lock as its provider lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// The provider's device id (what `property.toml` calls `device`).
    pub device: String,
    /// The name given in the vendor's app.
    pub name: String,
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
