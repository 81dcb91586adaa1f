//! The Nuki Web API's JSON, as its Swagger 2.0 specification (v4.18.0) names it; only the
//! fields Latchkey reads or writes. Source: `Smartlock`, `SmartlockAuth`,
//! `SmartlockAuthCreate` and `SmartlockAuthUpdate` in the spec
//! (`../shared/reference/specs/nuki-web-api-4.18.0.swagger.json`).

use serde::{Deserialize, Serialize};

/// Auth type of a keypad code (`SmartlockAuthCreate.type`: 13 .. keypad).
pub const KEYPAD: i32 = 13;
/// Every day of the week (`allowedWeekDays` bitmask, Mon = 64 … Sun = 1).
pub const EVERY_DAY: i32 = 127;
/// `Smartlock.serverState` 4: the lock is offline.
pub const SERVER_STATE_OFFLINE: i32 = 4;

/// `GET /smartlock` items.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Smartlock {
    /// The lock's id (int64).
    pub smartlock_id: i64,
    /// 0 Smartlock 1/2, 1 Box, 2 Opener, 3 Smartdoor, 4 Smartlock 3/4, 5 Smartlock 5.
    #[serde(rename = "type")]
    pub kind: i32,
    /// The lock's name.
    pub name: String,
    /// 0 ok … 4 offline.
    pub server_state: i32,
    /// Configuration; `keypadPaired` tells whether keypad codes are possible.
    #[serde(default)]
    pub config: Option<SmartlockConfig>,
    /// Battery and bolt state.
    #[serde(default)]
    pub state: Option<SmartlockState>,
}

/// `Smartlock.Config`, the fields read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmartlockConfig {
    /// A keypad is paired.
    #[serde(default)]
    pub keypad_paired: Option<bool>,
    /// A Keypad 2 is paired.
    #[serde(default)]
    pub keypad2_paired: Option<bool>,
}

/// `Smartlock.State`, the fields read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmartlockState {
    /// The battery is critical (always present).
    pub battery_critical: bool,
    /// Remaining charge 0–100 %, on locks that report it.
    #[serde(default)]
    pub battery_charge: Option<i32>,
}

/// `GET /smartlock/{smartlockId}/auth` items.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmartlockAuth {
    /// Opaque unique id of the authorization.
    pub id: String,
    /// The lock.
    pub smartlock_id: i64,
    /// 13 for keypad codes.
    #[serde(rename = "type")]
    pub kind: i32,
    /// The name given at creation: Latchkey's marker.
    pub name: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// The keypad code.
    #[serde(default)]
    pub code: Option<i32>,
    /// Start of validity, RFC 3339 UTC.
    #[serde(default)]
    pub allowed_from_date: Option<String>,
    /// End of validity, RFC 3339 UTC.
    #[serde(default)]
    pub allowed_until_date: Option<String>,
    /// Set while an operation on this authorization has not reached the lock. The spec
    /// types it as a serialized `ObjectId` object; only its presence matters here.
    #[serde(default)]
    pub operation_id: Option<serde_json::Value>,
    /// Why the last operation failed.
    #[serde(default)]
    pub error: Option<String>,
}

/// The body of `PUT /smartlock/{smartlockId}/auth` (`SmartlockAuthCreate`) and of
/// `POST /smartlock/{smartlockId}/auth/{id}` (`SmartlockAuthUpdate`, which adds `enabled`
/// and drops `type`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthWrite {
    /// At most 20 characters for keypad codes (the spec says 32; the API answers 422).
    pub name: String,
    /// 13 on create; absent on update.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<i32>,
    /// Six digits from 1–9, not starting with 12.
    pub code: i32,
    /// Start of validity, RFC 3339 UTC.
    pub allowed_from_date: String,
    /// End of validity, RFC 3339 UTC.
    pub allowed_until_date: String,
    /// Every day: the dates alone bound the window.
    pub allowed_week_days: i32,
    /// Guests open at the keypad, not remotely.
    pub remote_allowed: bool,
    /// `true` on update; absent on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `GET /smartlock/{smartlockId}/log` items (`SmartlockLog`), the fields read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmartlockLog {
    /// Unique id of the entry.
    pub id: String,
    /// The authorization used, if any.
    #[serde(default)]
    pub auth_id: Option<String>,
    /// The authorization's name (Latchkey's marker for its keypad codes) or the user's.
    pub name: String,
    /// 1 unlock, 2 lock, 3 unlatch, 4 lock'n'go, 5 lock'n'go with unlatch, 240 door opened…
    pub action: i32,
    /// 0 system, 1 manual, 2 button, 3 automatic, 4 web, 5 app, 6 auto lock,
    /// 7 accessory, 253 keypad error, 255 keypad.
    pub trigger: i32,
    /// 0 success … 224 invalid code.
    pub state: i32,
    /// When, RFC 3339.
    pub date: String,
    /// 1 keypad code, 2 fingerprint, 3 tap to unlock, 0 default.
    #[serde(default)]
    pub source: Option<i32>,
}

/// Most log entries one `GET /smartlock/{smartlockId}/log` returns (`limit`, max 50).
pub const LOG_PAGE: usize = 50;
