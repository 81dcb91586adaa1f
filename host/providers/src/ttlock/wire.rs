//! TTLock Open Platform v3 JSON answers, as the document pages name their fields; only the
//! fields Latchkey reads. Sources (see `../shared/reference/lock-providers.md` §2): TTL
//! `en/cloud/oauth2/getAccessToken`, `en/cloud/lock/list`, `cloud/lock/detail`,
//! `en/cloud/gateway/listByLock`, `cloud/passcode/add`, `cloud/passcode/get`,
//! `cloud/passcode/list`, `cloud/lockRecord/list`, `cloud/errorCode`.
//!
//! Requests are form fields (`application/x-www-form-urlencoded`), built in the client;
//! times are milliseconds since the Unix epoch (UTC) everywhere.

use serde::Deserialize;

/// `keyboardPwdType` 3: a period passcode, valid from `startDate` to `endDate`.
pub const PERIOD: i64 = 3;
/// `addType` 2: write the custom passcode to the lock through its gateway (1, the
/// default, only records a code written over Bluetooth: it never reaches the lock).
pub const ADD_THROUGH_GATEWAY: i64 = 2;
/// `changeType` 2: change the passcode on the lock through its gateway.
pub const CHANGE_THROUGH_GATEWAY: i64 = 2;
/// `deleteType` 2: delete the passcode from the lock through its gateway.
pub const DELETE_THROUGH_GATEWAY: i64 = 2;
/// `keyboardPwdVersion` 4, which older `keyboardPwd/get` pages require.
pub const PASSCODE_VERSION: i64 = 4;
/// Most locks one `GET /v3/lock/list` page holds (`pageSize` ≤ 1000).
pub const LOCK_PAGE: usize = 1000;
/// Most passcodes one `GET /v3/lock/listKeyboardPwd` page holds (`pageSize` ≤ 200).
pub const PASSCODE_PAGE: usize = 200;
/// Most records one `GET /v3/lockRecord/list` page holds (`pageSize` ≤ 200).
pub const RECORD_PAGE: usize = 200;

/// `POST /oauth2/token` answer (password and refresh grants alike).
#[derive(Clone, Deserialize)]
pub struct TokenAnswer {
    /// The access token for v3 calls.
    pub access_token: String,
    /// The refresh token, valid 10 years.
    pub refresh_token: String,
    /// Seconds the access token lives (7 776 000, 90 days, in production).
    pub expires_in: i64,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// A page of any v3 list: `{list, pageNo, pageSize, pages, total}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items of this page.
    #[serde(default = "Vec::new")]
    pub list: Vec<T>,
    /// This page's number, from 1.
    #[serde(default)]
    pub page_no: i64,
    /// How many pages there are.
    #[serde(default)]
    pub pages: i64,
}

/// `GET /v3/lock/list` items (and `GET /v3/lock/detail`, which adds fields not read).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockItem {
    /// The lock's id.
    pub lock_id: i64,
    /// The name the lock reports over Bluetooth.
    #[serde(default)]
    pub lock_name: Option<String>,
    /// The name given in the TTLock app.
    #[serde(default)]
    pub lock_alias: Option<String>,
    /// Battery charge in percent, as the cloud last received it (stale without a
    /// gateway).
    #[serde(default)]
    pub electric_quantity: Option<i64>,
    /// 1 when a gateway serves the lock.
    #[serde(default)]
    pub has_gateway: Option<i64>,
}

impl LockItem {
    /// True when a gateway serves the lock (`hasGateway` 1).
    pub fn gateway(&self) -> bool {
        self.has_gateway.unwrap_or(0) != 0
    }

    /// The name to show: the app alias, else the lock's own name, else its id.
    pub fn name(&self) -> String {
        self.lock_alias
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| self.lock_name.clone().filter(|n| !n.is_empty()))
            .unwrap_or_else(|| self.lock_id.to_string())
    }
}

/// `GET /v3/gateway/listByLock` items; only their presence matters (the lock–gateway
/// link is cached 30 minutes, so a lock drops off about 30 minutes after its gateway).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayItem {
    /// The gateway's id.
    pub gateway_id: i64,
}

/// `GET /v3/gateway/listByLock` answer: `{list}`.
#[derive(Debug, Clone, Deserialize)]
pub struct GatewayList {
    /// The gateways near the lock.
    #[serde(default)]
    pub list: Vec<GatewayItem>,
}

/// `GET /v3/lock/listKeyboardPwd` items.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Passcode {
    /// The passcode's id: Latchkey's reference.
    pub keyboard_pwd_id: i64,
    /// The PIN.
    #[serde(default)]
    pub keyboard_pwd: String,
    /// The name given at creation: Latchkey's marker.
    #[serde(default)]
    pub keyboard_pwd_name: Option<String>,
    /// Start of validity, ms epoch (absent for permanent codes).
    #[serde(default)]
    pub start_date: Option<i64>,
    /// End of validity, ms epoch (absent or 0 for permanent codes).
    #[serde(default)]
    pub end_date: Option<i64>,
}

/// `POST /v3/keyboardPwd/add` and `/get` answer: `{keyboardPwdId}`, and the PIN for
/// `/get` (public clients read the id from both; lock-providers.md §2.4, [community]).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// The new passcode's id.
    pub keyboard_pwd_id: i64,
    /// The PIN the cloud generated (`/get` only).
    #[serde(default)]
    pub keyboard_pwd: Option<String>,
}

/// `GET /v3/lockRecord/list` items.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockRecord {
    /// The record's id.
    pub record_id: i64,
    /// What happened: 4 passcode unlock, 12 gateway unlock, … (see the client's mapping).
    pub record_type: i64,
    /// 1 success, 0 failure (a wrong or expired PIN).
    #[serde(default)]
    pub success: i64,
    /// For passcode records, the passcode's name; otherwise the app user.
    #[serde(default)]
    pub username: Option<String>,
    /// The PIN typed, for passcode records.
    #[serde(default)]
    pub keyboard_pwd: Option<String>,
    /// When, by the lock's clock, ms epoch.
    pub lock_date: i64,
}
