//! The igloohome (iglooaccess) API's JSON shapes, as far as the sources name them
//! (`../shared/reference/lock-providers.md` §3; `keithle888/igloohome-api`
//! `GetDeviceInfoResponse`, `create_bridge_proxied_job`, `get_job_status`). Fields the
//! client does not need are not declared, so unknown fields are ignored.

use serde::{Deserialize, Serialize};

/// Bridge job: unlock (§3.3 `BRIDGE_JOB_*`).
pub const JOB_UNLOCK: u8 = 2;
/// Bridge job: create a custom PIN.
pub const JOB_CREATE_PIN: u8 = 4;
/// Bridge job: delete a custom PIN.
pub const JOB_DELETE_PIN: u8 = 5;
/// Bridge job: fetch the lock's activity log.
pub const JOB_ACTIVITY: u8 = 15;
/// `pinType` of a custom PIN with a start and an end (community clients send 4).
pub const PIN_TYPE_DURATION: u8 = 4;
/// `jobResponse.jobStatus` of a job that succeeded (community pollers) **[community]**.
pub const JOB_STATUS_OK: i64 = 0;

/// The answer of `POST {auth}/oauth2/token` (OAuth2 client credentials, RFC 6749 §4.4.3).
/// No `Debug`: it carries the access token.
#[derive(Deserialize)]
pub struct TokenAnswer {
    /// The bearer token (a JWT with `exp`, §3.1).
    pub access_token: String,
    /// Lifetime in seconds, when the server says.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// One page of `GET /igloohome/devices`: `{nextCursor, payload}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicesPage {
    /// The cursor of the next page; absent, null or empty on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// The devices of this page.
    #[serde(default)]
    pub payload: Vec<Device>,
}

/// A device: a lock, a bridge or a keypad (§3.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// `"Lock"`, `"Bridge"` or `"Keypad"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The id the API paths take.
    pub device_id: String,
    /// The name given in the app.
    #[serde(default)]
    pub device_name: String,
    /// Devices linked to this one (a lock's bridge).
    #[serde(default)]
    pub linked_devices: Vec<LinkedDevice>,
    /// Battery charge in percent; null when unknown.
    #[serde(default)]
    pub battery_level: Option<i64>,
}

/// An entry of `linkedDevices`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedDevice {
    /// `"Bridge"`, `"Lock"`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Its device id.
    pub device_id: String,
}

impl Device {
    /// The bridge this lock is linked to, if any: what makes it reachable (§3.2).
    pub fn bridge(&self) -> Option<&str> {
        self.linked_devices
            .iter()
            .find(|d| d.kind.eq_ignore_ascii_case("bridge"))
            .map(|d| d.device_id.as_str())
    }

    /// True for a lock (the only devices that take codes).
    pub fn is_lock(&self) -> bool {
        self.kind.eq_ignore_ascii_case("lock")
    }
}

/// The body of `POST /igloohome/devices/{deviceId}/algopin/{hourly|daily}` (§3.3).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlgoPinRequest {
    /// Which of the PINs of the slot (1–3).
    pub variance: u8,
    /// Hour-aligned ISO-8601 with offset.
    pub start_date: String,
    /// Hour-aligned ISO-8601 with offset.
    pub end_date: String,
    /// The code's name (≤ 60 characters): Latchkey's marker.
    pub access_name: String,
}

/// The answer to an algoPIN request: `{pin, pinId}` **[community]**. No `Debug`: it
/// carries the PIN.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlgoPinAnswer {
    /// The PIN the lock will accept.
    pub pin: String,
    /// The cloud's id of the PIN.
    pub pin_id: String,
}

/// The body of `POST /igloohome/devices/{lockId}/jobs/bridges/{bridgeId}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRequest {
    /// One of the `JOB_*` constants.
    pub job_type: u8,
    /// What the job needs; absent for unlock and the activity log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_data: Option<JobData>,
}

/// `jobData` of the PIN jobs: `{pin, pinType, startDate, endDate, accessName}` to create,
/// `{pin}` to delete.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobData {
    /// The custom PIN.
    pub pin: String,
    /// [`PIN_TYPE_DURATION`] when creating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_type: Option<u8>,
    /// Hour-aligned ISO-8601 with offset, when creating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Hour-aligned ISO-8601 with offset, when creating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// The code's name, when creating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_name: Option<String>,
}

impl std::fmt::Debug for JobData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobData")
            .field("pin", &"<redacted>")
            .field("pin_type", &self.pin_type)
            .field("start_date", &self.start_date)
            .field("end_date", &self.end_date)
            .field("access_name", &self.access_name)
            .finish()
    }
}

/// The answer to a job request: `{jobId}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobCreated {
    /// The job's id, to poll.
    pub job_id: String,
}

/// `GET /igloohome/jobs/{jobId}`: `{jobId, expiryDate, completed, jobType, jobResponse}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    /// True once the bridge ran the job, or gave up on it.
    #[serde(default)]
    pub completed: bool,
    /// What the bridge answered, once completed.
    #[serde(default)]
    pub job_response: Option<JobResponse>,
}

/// `jobResponse`: `jobStatus` 0 is success, 2 failure **[community]**; the activity job
/// carries the log in `logs` (a shape the sources do not document; the contract fake
/// serves it so).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobResponse {
    /// 0 success, 2 failure.
    #[serde(default)]
    pub job_status: Option<i64>,
    /// Why it failed, when it did.
    #[serde(default)]
    pub message: Option<String>,
    /// The activity log (job 15).
    #[serde(default)]
    pub logs: Vec<LogEntry>,
}

/// One entry of the activity log a bridge fetched (job 15).
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// Stable id of the entry.
    pub id: String,
    /// ISO-8601 with offset.
    pub date: String,
    /// `PIN_UNLOCK`, `PIN_DENIED`, `BRIDGE_UNLOCK`, `MANUAL_LOCK`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The PIN typed, for keypad entries.
    #[serde(default)]
    pub pin: Option<String>,
    /// The name of the code that opened the door, when the cloud knows it.
    #[serde(default)]
    pub access_name: Option<String>,
}

impl std::fmt::Debug for LogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogEntry")
            .field("id", &self.id)
            .field("date", &self.date)
            .field("kind", &self.kind)
            .field("pin", &self.pin.as_ref().map(|_| "<redacted>"))
            .field("access_name", &self.access_name)
            .finish()
    }
}

/// The error body: `{"status":"ERROR","code":"422","message":"…"}` (§3.5).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    /// The HTTP status again, as a string.
    #[serde(default)]
    pub code: Option<String>,
    /// What went wrong.
    #[serde(default)]
    pub message: Option<String>,
}
