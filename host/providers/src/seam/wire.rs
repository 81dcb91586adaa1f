//! Seam's JSON (`https://connect.getseam.com`), as its API reference names it; only the
//! fields Latchkey reads or writes. Sources: SEAM-DOCS `docs/api-reference/devices/README.md`,
//! `access_codes/README.md`, `access_codes/create.md`, `locks/README.md`,
//! `events/README.md`, `action_attempts/README.md` (lock-providers.md §4). Every field Seam
//! may leave out is optional here, so an answer with less never fails to parse.

use serde::{Deserialize, Serialize};

/// `POST /locks/list` answer: `{locks: [device]}` (`/devices/list` says `devices`).
#[derive(Debug, Clone, Deserialize)]
pub struct LockList {
    /// The account's locks.
    #[serde(alias = "devices")]
    pub locks: Vec<Device>,
}

/// `POST /devices/get` answer: `{device}`.
#[derive(Debug, Clone, Deserialize)]
pub struct DeviceAnswer {
    /// The device.
    #[serde(alias = "lock")]
    pub device: Device,
}

/// A device (lock) as Seam describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Device {
    /// Seam's device id (a UUID): what Latchkey calls the device.
    pub device_id: String,
    /// The name shown in Seam's console.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `august_lock`, `nuki_lock`, `igloohome_lock`…; informative only (capabilities come
    /// from the flags below, never from the brand).
    #[serde(default)]
    pub device_type: Option<String>,
    /// Codes can be pushed to the lock (through a bridge, hub or Wi-Fi).
    #[serde(default)]
    pub can_program_online_access_codes: Option<bool>,
    /// Codes can be computed offline (algoPINs).
    #[serde(default)]
    pub can_program_offline_access_codes: Option<bool>,
    /// `/locks/unlock_door` works.
    #[serde(default)]
    pub can_remotely_unlock: Option<bool>,
    /// State and limits.
    #[serde(default)]
    pub properties: DeviceProperties,
}

/// `device.properties`, the fields read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeviceProperties {
    /// The name the vendor's app gave the lock.
    #[serde(default)]
    pub name: Option<String>,
    /// Reachable by Seam.
    #[serde(default)]
    pub online: bool,
    /// Battery charge, 0–1 (a fraction, not a percentage).
    #[serde(default)]
    pub battery_level: Option<f64>,
    /// Battery level and status.
    #[serde(default)]
    pub battery: Option<Battery>,
    /// PIN and name constraints.
    #[serde(default)]
    pub code_constraints: Option<Vec<CodeConstraint>>,
    /// PIN lengths the lock accepts.
    #[serde(default)]
    pub supported_code_lengths: Option<Vec<u8>>,
    /// Most codes the lock holds at once.
    #[serde(default)]
    pub max_active_codes_supported: Option<u32>,
    /// The bolt is thrown.
    #[serde(default)]
    pub locked: Option<bool>,
}

/// `properties.battery`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Battery {
    /// 0–1.
    #[serde(default)]
    pub level: Option<f64>,
    /// `critical`, `low`, `good` or `full`.
    #[serde(default)]
    pub status: Option<String>,
}

/// One of `properties.code_constraints`.
#[derive(Debug, Clone, Deserialize)]
pub struct CodeConstraint {
    /// `no_zeros`, `cannot_start_with_12`, `cannot_specify_pin_code`, `name_length`,
    /// and vendor ones Latchkey ignores.
    pub constraint_type: String,
    /// For `name_length`: fewest characters.
    #[serde(default)]
    pub min_length: Option<u32>,
    /// For `name_length`: most characters.
    #[serde(default)]
    pub max_length: Option<u32>,
}

/// The body of `POST /access_codes/create`.
#[derive(Debug, Clone, Serialize)]
pub struct CreateAccessCode {
    /// The lock.
    pub device_id: String,
    /// Latchkey's marker.
    pub name: String,
    /// The PIN; absent lets Seam generate one (always for offline codes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Start, ISO 8601 UTC.
    pub starts_at: String,
    /// End, ISO 8601 UTC; after `starts_at` and in the future.
    pub ends_at: String,
    /// For locks that can only compute codes offline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_offline_access_code: Option<bool>,
    /// `1h`: Seam may round an offline code's window to whole hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_time_rounding: Option<String>,
}

/// The body of `POST /access_codes/update`.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateAccessCode {
    /// The code.
    pub access_code_id: String,
    /// Latchkey's marker.
    pub name: String,
    /// A new PIN; absent keeps the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Start, ISO 8601 UTC.
    pub starts_at: String,
    /// End, ISO 8601 UTC.
    pub ends_at: String,
}

/// `{access_code}` answers (`create`, `get`).
#[derive(Debug, Clone, Deserialize)]
pub struct AccessCodeAnswer {
    /// The code.
    pub access_code: AccessCode,
}

/// `{access_codes}` answers (`list`).
#[derive(Debug, Clone, Deserialize)]
pub struct AccessCodeList {
    /// The codes.
    pub access_codes: Vec<AccessCode>,
}

/// An access code as Seam describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AccessCode {
    /// Seam's id: the receipt's reference.
    pub access_code_id: String,
    /// The lock.
    #[serde(default)]
    pub device_id: Option<String>,
    /// The name given at creation (Latchkey's marker).
    #[serde(default)]
    pub name: Option<String>,
    /// The PIN; `null` while Seam waits to assign one.
    #[serde(default)]
    pub code: Option<String>,
    /// `unset` (queued), `setting`, `set`, `removing`, `unknown` (account disconnected).
    #[serde(default)]
    pub status: String,
    /// Start, ISO 8601 (absent for `ongoing` codes).
    #[serde(default)]
    pub starts_at: Option<String>,
    /// End, ISO 8601.
    #[serde(default)]
    pub ends_at: Option<String>,
    /// Why the code is not (or no longer) as asked.
    #[serde(default)]
    pub errors: Vec<Notice>,
    /// Things to know that do not stop the code.
    #[serde(default)]
    pub warnings: Vec<Notice>,
    /// Preloaded on the lock with its schedule (72 h before `starts_at`); stays `unset`
    /// until the start.
    #[serde(default)]
    pub is_scheduled_on_device: bool,
    /// An algoPIN, computed offline.
    #[serde(default)]
    pub is_offline_access_code: bool,
    /// The PIN is not yet known.
    #[serde(default)]
    pub is_waiting_for_code_assignment: bool,
}

/// An entry of `errors[]` or `warnings[]`: Seam names the code `error_code` or
/// `warning_code`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Notice {
    /// `failed_to_set_on_device`, `device_offline`, `delay_in_setting_on_device`, …
    #[serde(alias = "error_code", alias = "warning_code")]
    pub code: String,
    /// Human text.
    #[serde(default)]
    pub message: String,
}

/// `{events}` answer of `POST /events/list`.
#[derive(Debug, Clone, Deserialize)]
pub struct EventList {
    /// The events.
    pub events: Vec<Event>,
}

/// An event, the fields read.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    /// Unique id.
    pub event_id: String,
    /// `lock.unlocked`, `lock.locked`, `lock.access_denied`, …
    pub event_type: String,
    /// The lock.
    #[serde(default)]
    pub device_id: Option<String>,
    /// When it happened, ISO 8601.
    pub occurred_at: String,
    /// `keycode`, `manual`, `automatic`, `remote` or `unknown`.
    #[serde(default)]
    pub method: Option<String>,
    /// The code used (keycode events).
    #[serde(default)]
    pub access_code_id: Option<String>,
}

/// `{action_attempt}` answers (`unlock_door`, `action_attempts/get`).
#[derive(Debug, Clone, Deserialize)]
pub struct ActionAttemptAnswer {
    /// The attempt.
    pub action_attempt: ActionAttempt,
}

/// An asynchronous action.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionAttempt {
    /// Its id, to poll with.
    pub action_attempt_id: String,
    /// `pending`, `success` or `error`.
    pub status: String,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<ErrorDetail>,
}

/// `{error: {type, message}}`: the body of every refusal, and an attempt's error.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error's type and text.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorDetail {
    /// `invalid_input`, `access_code_not_found`, `device_offline`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Human text.
    #[serde(default)]
    pub message: String,
}
