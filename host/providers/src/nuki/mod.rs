//! The Nuki Web API (`https://api.nuki.io`) as a [`Provider`].
//!
//! Keypad codes are smartlock authorizations of type 13. What the API does, and how this
//! client copes (facts from the Swagger spec v4.18.0 and Nuki's developer forum, collected
//! in `../shared/reference/lock-providers.md` §1):
//! - Authentication is a bearer API token (Nuki Web > API); it does not expire.
//! - `PUT /smartlock/{id}/auth` answers 204 with **no id** and works asynchronously, so a
//!   code is created under its marker as name (≤ 20 characters for keypad codes) and found
//!   again by listing `GET /smartlock/{id}/auth?types=13`. Until it is listed, the receipt
//!   is pending with the marker as reference; [`Provider::read_code`] accepts either.
//! - An authorization carries `operationId` while a change has not reached the lock, and
//!   `error` when it failed; only one with neither is confirmed on the lock.
//! - PINs are 6 digits from 1–9, not starting with "12", unique in the account: a
//!   duplicate answers 409 ([`ProviderError::PinConflict`]). 423 means another operation
//!   on the authorization is pending (retry); 401, 402, 403 and 426 are account problems
//!   an admin must fix (retried, so they alert rather than fail codes for good).
//! - Validity is `allowedFromDate`/`allowedUntilDate`, UTC instants to the minute; the
//!   weekday and time-of-day restrictions are left open (every day, all day).
//! - Updates are `POST /smartlock/{id}/auth/{authId}`; deletion is `DELETE` of the same
//!   path, also asynchronous.
//! - Status is `GET /smartlock/{id}`: `serverState` 4 is offline; `state.batteryCharge`
//!   (0–100 %) and `state.batteryCritical`, which wins over the charge. The log is
//!   `GET /smartlock/{id}/log`, newest first, at most 50 entries a page, paged backwards
//!   by the `id` of the oldest entry seen. Remote unlock is
//!   `POST /smartlock/{id}/action/unlock` (204; the lock runs it later, unconfirmed).

pub mod wire;

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use async_trait::async_trait;
use latchkey_engine::{
    Capabilities, Connectivity, Pin, PinRules, Timestamp, Window, WindowPrecision,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::http::{HttpSettings, ProviderHttp, Refusal};
use super::{
    AccessMethod, ActivityEntry, BatteryLevel, CodeReceipt, CodeRequest, DeviceInfo, ListedCode,
    LockAction, LockStatus, Provider, ProviderError, ReceiptStatus,
};
use wire::{AuthWrite, Smartlock, SmartlockAuth, SmartlockLog};

/// Longest name Nuki accepts for a keypad code.
pub const MAX_NAME_LEN: usize = 20;

/// A Nuki Web API account.
#[derive(Debug)]
pub struct Nuki {
    http: ProviderHttp,
    token: String,
    locks: RwLock<HashMap<String, Smartlock>>,
}

impl Nuki {
    /// Connects with an API `token` and lists the account's smart locks, so their
    /// capabilities are known.
    ///
    /// # Errors
    /// As [`Nuki::refresh_locks`].
    pub async fn connect(
        settings: &HttpSettings,
        token: impl Into<String>,
    ) -> Result<Nuki, ProviderError> {
        let nuki = Nuki {
            http: ProviderHttp::new(settings)?,
            token: token.into(),
            locks: RwLock::new(HashMap::new()),
        };
        nuki.refresh_locks().await?;
        Ok(nuki)
    }

    /// Lists the account's smart locks again (`GET /smartlock`) and returns them.
    ///
    /// # Errors
    /// [`ProviderError`] from the call; an account problem (401, 403) as
    /// [`ProviderError::Unavailable`].
    pub async fn refresh_locks(&self) -> Result<Vec<Smartlock>, ProviderError> {
        let locks: Vec<Smartlock> = self.get_json("/smartlock").await?;
        let by_id = locks
            .iter()
            .map(|l| (l.smartlock_id.to_string(), l.clone()))
            .collect();
        *self.locks.write().unwrap_or_else(PoisonError::into_inner) = by_id;
        Ok(locks)
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ProviderError> {
        let request = self
            .http
            .client()
            .get(self.http.url(path))
            .bearer_auth(&self.token);
        let body = self.http.send(request).await?.map_err(refused)?;
        serde_json::from_slice(&body).map_err(|e| {
            ProviderError::Unavailable(format!("unexpected answer from Nuki for {path}: {e}"))
        })
    }

    async fn keypad_auths(&self, device: &str) -> Result<Vec<SmartlockAuth>, ProviderError> {
        let id = smartlock_id(device)?;
        let auths: Vec<SmartlockAuth> = self
            .get_json(&format!("/smartlock/{id}/auth?types={}", wire::KEYPAD))
            .await?;
        Ok(auths
            .into_iter()
            .filter(|a| a.kind == wire::KEYPAD)
            .collect())
    }

    /// The authorization whose id or name (the marker) is `reference`.
    async fn find(
        &self,
        device: &str,
        reference: &str,
    ) -> Result<Option<SmartlockAuth>, ProviderError> {
        Ok(self
            .keypad_auths(device)
            .await?
            .into_iter()
            .find(|a| a.id == reference || a.name == reference))
    }

    async fn write(
        &self,
        device: &str,
        auth_id: Option<&str>,
        req: &CodeRequest,
    ) -> Result<(), ProviderError> {
        let id = smartlock_id(device)?;
        let pin = req.pin.as_ref().ok_or(ProviderError::Unsupported(
            "Nuki keypads take the PIN from the caller; it generates none",
        ))?;
        let code = pin
            .as_str()
            .parse::<i32>()
            .map_err(|_| ProviderError::Rejected(format!("PIN {pin:?} is not numeric")))?;
        if req.marker.chars().count() > MAX_NAME_LEN {
            return Err(ProviderError::Rejected(format!(
                "marker `{}` is longer than Nuki's {MAX_NAME_LEN} characters",
                req.marker
            )));
        }
        let body = AuthWrite {
            name: req.marker.clone(),
            kind: auth_id.is_none().then_some(wire::KEYPAD),
            code,
            allowed_from_date: req.window.starts_at.to_rfc3339(),
            allowed_until_date: req.window.ends_at.to_rfc3339(),
            allowed_week_days: wire::EVERY_DAY,
            remote_allowed: false,
            enabled: auth_id.map(|_| true),
        };
        let client = self.http.client();
        let request = match auth_id {
            None => client.put(self.http.url(&format!("/smartlock/{id}/auth"))),
            Some(auth) => client.post(self.http.url(&format!("/smartlock/{id}/auth/{auth}"))),
        };
        self.http
            .send(request.bearer_auth(&self.token).json(&body))
            .await?
            .map(drop)
            .map_err(refused)
    }
}

#[async_trait]
impl Provider for Nuki {
    fn capabilities(&self, device: &str) -> Option<Capabilities> {
        let locks = self.locks.read().unwrap_or_else(PoisonError::into_inner);
        let lock = locks.get(device)?;
        let config = lock.config.clone().unwrap_or_default();
        let keypad =
            config.keypad_paired.unwrap_or(false) || config.keypad2_paired.unwrap_or(false);
        keypad.then(|| capabilities(lock.kind))
    }

    async fn create_code(
        &self,
        device: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        self.write(device, None, req).await?;
        // No id comes back: find the new authorization by its name, or leave that to the
        // confirmation, which reads back by the same marker.
        Ok(match self.find(device, &req.marker).await? {
            Some(auth) => receipt(&auth)?,
            None => CodeReceipt {
                reference: req.marker.clone(),
                pin: req.pin.clone().unwrap_or_else(|| Pin::new("")),
                window: req.window,
                status: ReceiptStatus::Pending,
            },
        })
    }

    async fn update_code(
        &self,
        device: &str,
        reference: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        let auth = self.find(device, reference).await?.ok_or_else(|| {
            ProviderError::NotFound(format!("keypad code `{reference}` on smartlock {device}"))
        })?;
        // An update rewrites the whole authorization, code included: a change of window
        // alone keeps the code the lock holds.
        let mut req = req.clone();
        if req.pin.is_none() {
            req.pin = auth.code.map(|c| Pin::new(c.to_string()));
        }
        self.write(device, Some(&auth.id), &req).await?;
        Ok(CodeReceipt {
            reference: auth.id,
            pin: req.pin.unwrap_or_else(|| Pin::new("")),
            window: req.window,
            status: ReceiptStatus::Pending,
        })
    }

    async fn revoke_code(&self, device: &str, reference: &str) -> Result<(), ProviderError> {
        let Some(auth) = self.find(device, reference).await? else {
            return Ok(());
        };
        let id = smartlock_id(device)?;
        let request = self
            .http
            .client()
            .delete(self.http.url(&format!("/smartlock/{id}/auth/{}", auth.id)))
            .bearer_auth(&self.token);
        match self.http.send(request).await? {
            Ok(_) => Ok(()),
            Err(r) if r.status == StatusCode::NOT_FOUND => Ok(()),
            Err(r) => Err(refused(r)),
        }
    }

    async fn read_code(
        &self,
        device: &str,
        reference: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        self.find(device, reference)
            .await?
            .as_ref()
            .map(receipt)
            .transpose()
    }

    async fn find_code(
        &self,
        device: &str,
        marker: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        self.read_code(device, marker).await
    }

    /// `GET /smartlock/{smartlockId}/auth`, keypad codes only (type 13; Nuki Web API,
    /// `SmartlockAuth`). A disabled authorization opens nothing.
    async fn list_codes(&self, device: &str) -> Result<Vec<ListedCode>, ProviderError> {
        Ok(self
            .keypad_auths(device)
            .await?
            .into_iter()
            .map(|auth| {
                let instant = |text: &Option<String>| {
                    text.as_deref()
                        .and_then(|t| Timestamp::parse_rfc3339(t).ok())
                };
                let window = instant(&auth.allowed_from_date)
                    .zip(instant(&auth.allowed_until_date))
                    .map(|(starts_at, ends_at)| Window { starts_at, ends_at });
                ListedCode {
                    reference: auth.id,
                    name: Some(auth.name),
                    pin: auth.code.map(|c| Pin::new(c.to_string())),
                    window,
                    enabled: auth.enabled && auth.error.is_none(),
                }
            })
            .collect())
    }

    async fn list_locks(&self) -> Result<Vec<DeviceInfo>, ProviderError> {
        Ok(self
            .refresh_locks()
            .await?
            .into_iter()
            .map(|l| DeviceInfo {
                device: l.smartlock_id.to_string(),
                name: l.name,
            })
            .collect())
    }

    async fn lock_status(&self, device: &str) -> Result<LockStatus, ProviderError> {
        let id = smartlock_id(device)?;
        let lock: Smartlock = self.get_json(&format!("/smartlock/{id}")).await?;
        Ok(status(&lock))
    }

    async fn activity(
        &self,
        device: &str,
        since: Timestamp,
    ) -> Result<Vec<ActivityEntry>, ProviderError> {
        let id = smartlock_id(device)?;
        let from = since.to_rfc3339();
        let mut entries = Vec::new();
        let mut older_than: Option<String> = None;
        loop {
            let mut path = format!(
                "/smartlock/{id}/log?fromDate={from}&limit={}",
                wire::LOG_PAGE
            );
            if let Some(cursor) = &older_than {
                path.push_str(&format!("&id={cursor}"));
            }
            let page: Vec<SmartlockLog> = self.get_json(&path).await?;
            let full = page.len() >= wire::LOG_PAGE;
            older_than = page.last().map(|l| l.id.clone());
            entries.extend(page.iter().filter_map(activity_entry));
            if !full || older_than.is_none() {
                break;
            }
        }
        entries.retain(|e| e.at >= since);
        entries.sort_by_key(|e| e.at);
        Ok(entries)
    }

    async fn unlock(&self, device: &str) -> Result<(), ProviderError> {
        let id = smartlock_id(device)?;
        let request = self
            .http
            .client()
            .post(self.http.url(&format!("/smartlock/{id}/action/unlock")))
            .bearer_auth(&self.token);
        self.http.send(request).await?.map(drop).map_err(refused)
    }
}

/// A smart lock's status: `serverState` 4 is offline; `batteryCritical` wins over the
/// charge, which older locks do not report.
fn status(lock: &Smartlock) -> LockStatus {
    let online = lock.server_state != wire::SERVER_STATE_OFFLINE;
    let state = lock.state.as_ref();
    let percent = state
        .and_then(|s| s.battery_charge)
        .map(|c| u8::try_from(c.clamp(0, 100)).unwrap_or(0));
    let mut status = LockStatus::from_percent(online, percent);
    if state.is_some_and(|s| s.battery_critical) {
        status.battery = Some(BatteryLevel::Critical);
    } else if status.battery.is_none() && state.is_some() {
        status.battery = Some(BatteryLevel::Ok);
    }
    status
}

/// A log entry in the common shape; `None` for entries that are not about the door
/// (settings, calibration, firmware).
fn activity_entry(log: &SmartlockLog) -> Option<ActivityEntry> {
    const INVALID_CODE: i32 = 224;
    const KEYPAD_ERROR: i32 = 253;
    let at = Timestamp::parse_rfc3339(&log.date).ok()?;
    let action = match (log.action, log.state, log.trigger) {
        (_, INVALID_CODE, _) | (_, _, KEYPAD_ERROR) => LockAction::Denied,
        (1 | 3 | 5, 0, _) => LockAction::Unlock,
        (2 | 4, 0, _) => LockAction::Lock,
        (1..=5, _, _) => LockAction::Denied,
        _ => return None,
    };
    let method = match (log.trigger, log.source) {
        (255 | 253, _) | (_, Some(1)) => AccessMethod::Keypad,
        (5, _) => AccessMethod::App,
        (4, _) => AccessMethod::Remote,
        (1 | 2 | 3 | 6, _) => AccessMethod::Manual,
        _ => AccessMethod::Unknown,
    };
    let keypad = method == AccessMethod::Keypad;
    Some(ActivityEntry {
        id: log.id.clone(),
        at,
        action,
        method,
        code_reference: log.auth_id.clone().filter(|_| keypad),
        code_name: keypad.then(|| log.name.clone()).filter(|n| !n.is_empty()),
        pin: None,
        actor: (!keypad)
            .then(|| log.name.clone())
            .filter(|n| !n.is_empty()),
    })
}

/// What a Nuki smart lock with a paired keypad can do. Capacity from Seam's Nuki guide:
/// 200 codes on Smart Lock 3.0 and later (types 4 and 5), 100 on older ones.
fn capabilities(kind: i32) -> Capabilities {
    Capabilities {
        connectivity: Connectivity::Online,
        custom_pin: true,
        precision: WindowPrecision::Minute,
        can_revoke: true,
        can_update: true,
        remote_unlock: true,
        max_codes: if kind >= 4 { 200 } else { 100 },
        pin: PinRules {
            min_len: 6,
            max_len: 6,
            alphabet: "123456789".into(),
            forbidden_prefixes: vec!["12".into()],
        },
    }
}

fn smartlock_id(device: &str) -> Result<i64, ProviderError> {
    device
        .parse()
        .map_err(|_| ProviderError::NotFound(format!("`{device}` is not a Nuki smartlock id")))
}

/// An authorization as a receipt: confirmed on the lock once no operation is pending.
fn receipt(auth: &SmartlockAuth) -> Result<CodeReceipt, ProviderError> {
    if let Some(error) = &auth.error {
        return Err(ProviderError::Rejected(format!(
            "Nuki could not apply keypad code `{}`: {error}",
            auth.name
        )));
    }
    let instant = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| Timestamp::parse_rfc3339(t).ok())
            .ok_or_else(|| {
                ProviderError::Unavailable(format!(
                    "keypad code `{}` has no valid window",
                    auth.name
                ))
            })
    };
    Ok(CodeReceipt {
        reference: auth.id.clone(),
        pin: Pin::new(auth.code.map(|c| c.to_string()).unwrap_or_default()),
        window: Window {
            starts_at: instant(&auth.allowed_from_date)?,
            ends_at: instant(&auth.allowed_until_date)?,
        },
        status: if auth.operation_id.as_ref().is_some_and(|op| !op.is_null()) {
            ReceiptStatus::Pending
        } else {
            ReceiptStatus::Active
        },
    })
}

/// Nuki's 4xx answers, by meaning (Swagger v4.18.0 responses; forum answers on 409 and 422).
fn refused(r: Refusal) -> ProviderError {
    match r.status.as_u16() {
        409 => ProviderError::PinConflict,
        423 => ProviderError::Unavailable(format!("another operation is pending: {}", r.body)),
        401 | 402 | 403 | 426 => ProviderError::Unavailable(format!(
            "the Nuki account refused the call ({}): check the API token and the Smart Hosting subscription",
            r.status
        )),
        404 => ProviderError::NotFound(r.body),
        _ => ProviderError::Rejected(format!("{}: {}", r.status, r.body)),
    }
}
