//! Seam (`https://connect.getseam.com`), the meta-provider, as a [`Provider`].
//!
//! Facts from Seam's API reference (SEAM-DOCS, collected in
//! `../shared/reference/lock-providers.md` §4), and how this client copes:
//! - Authentication is a bearer API key `seam_…` (§4.1); every endpoint takes a JSON
//!   `POST`. Refusals carry `{"error": {"type", "message"}}` (§4.6): `invalid_input` is
//!   [`ProviderError::Rejected`], `*_not_found` (or 404) [`ProviderError::NotFound`],
//!   401/403 an account problem ([`ProviderError::Unavailable`], so it alerts and is
//!   retried rather than failing codes for good). 429 is left to [`ProviderHttp`]; Seam
//!   limits each device to 10 creations, 10 updates, 20 deletions and 15 unlocks a minute.
//! - What a lock can do comes from the device's flags, never its brand (§4.2, see
//!   [`capabilities`]): `can_program_online_access_codes` gives an online lock with
//!   custom PINs (unless `cannot_specify_pin_code`), minute windows, update and delete;
//!   a lock that can only program offline codes (algoPINs) gets provider-generated PINs
//!   on whole hours (`max_time_rounding: 1h`) that can neither be changed nor deleted
//!   (Seam cannot delete offline algoPINs, §4.4).
//! - A code is created by `/access_codes/create` with the marker as `name` (§4.3) and
//!   found again through `/access_codes/list` by that name. Its `status` says where it
//!   is: `set` is on the lock ([`ReceiptStatus::Active`]); `unset`/`setting` are on their
//!   way ([`ReceiptStatus::Pending`]), except a code with `is_scheduled_on_device`: Seam
//!   preloads natively scheduled codes 72 h before `starts_at` and leaves them `unset`
//!   until the start, so such a code is already on the lock and counts as Active.
//!   `removing` is leaving the lock: read back as `None`; after removal `get` is 404.
//! - A code's `errors[]` decide its fate: `duplicate_code_on_device` /
//!   `duplicate_code_attempt_prevented` are [`ProviderError::PinConflict`],
//!   `no_space_for_access_code_on_device` and `failed_to_set_on_device`
//!   [`ProviderError::Rejected`] (a failed code found by its marker counts as absent, so
//!   a retry creates a fresh one); `device_offline`, `hub_disconnected`,
//!   `bridge_disconnected` and `device_disconnected` only delay it (Seam sets the code
//!   when the lock is back: Pending); `account_disconnected` (and status `unknown`) is
//!   [`ProviderError::Unavailable`]. `warnings[]` (e.g.
//!   `igloo_algopin_must_be_used_within_24_hours`, `delay_in_setting_on_device`) are
//!   logged with `tracing::warn!` and readable through [`Seam::access_code`].
//! - Status is `/devices/get`: `properties.online`, `properties.battery_level` (0–1) and
//!   `properties.battery.status`, which wins when present (see [`status`]). Activity is
//!   `/events/list` for `lock.unlocked`, `lock.locked` and `lock.access_denied`; a keycode
//!   event names the `access_code_id`, whose name (the marker) is looked up among the
//!   device's codes. Unlock is `/locks/unlock_door`, an asynchronous action attempt polled
//!   briefly through `/action_attempts/get`; one still pending then is accepted (the lock
//!   runs it later, unconfirmed, as with Nuki).
//! - Not handled: list pagination (`page_cursor`; one page holds every code of a lock at
//!   hotel scale), the backup code pool, webhooks (§4.5: confirmation is by reading back).

pub mod wire;

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use latchkey_engine::{
    Capabilities, Connectivity, Pin, PinRules, Timestamp, Window, WindowPrecision,
};
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::http::{HttpSettings, ProviderHttp, Refusal};
use super::{
    AccessMethod, ActivityEntry, BatteryLevel, CodeReceipt, CodeRequest, DeviceInfo, ListedCode,
    LockAction, LockStatus, Provider, ProviderError, ReceiptStatus,
};
use wire::{AccessCode, Device};

/// How many times `unlock` polls a pending action attempt, and how long it waits between
/// polls (wall-clock: it waits on the network, not on model time).
const UNLOCK_POLLS: usize = 5;
const UNLOCK_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Most events one `/events/list` call returns (Seam's `limit`).
const EVENTS_LIMIT: u32 = 500;

/// Errors on an access code that mean it will not reach the lock as asked.
const DUPLICATE_ERRORS: [&str; 2] = [
    "duplicate_code_on_device",
    "duplicate_code_attempt_prevented",
];
const FAILED_ERRORS: [&str; 2] = [
    "failed_to_set_on_device",
    "no_space_for_access_code_on_device",
];
/// Errors that only delay a code until the lock or its bridge is reachable again.
const CONNECTIVITY_ERRORS: [&str; 4] = [
    "device_offline",
    "device_disconnected",
    "hub_disconnected",
    "bridge_disconnected",
];

/// A Seam workspace, reached with its API key.
pub struct Seam {
    http: ProviderHttp,
    api_key: String,
    devices: RwLock<HashMap<String, Device>>,
    /// Access code id → name, for naming the codes in the activity log (Seam's events
    /// carry only the id; deleted codes are no longer listed).
    names: RwLock<HashMap<String, String>>,
}

impl std::fmt::Debug for Seam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seam")
            .field("http", &self.http)
            .field("api_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Seam {
    /// Connects with an API key (`seam_…`) and lists the workspace's locks, so their
    /// capabilities are known.
    ///
    /// # Errors
    /// As [`Seam::refresh_locks`].
    pub async fn connect(
        settings: &HttpSettings,
        api_key: impl Into<String>,
    ) -> Result<Seam, ProviderError> {
        let seam = Seam {
            http: ProviderHttp::new(settings)?,
            api_key: api_key.into(),
            devices: RwLock::new(HashMap::new()),
            names: RwLock::new(HashMap::new()),
        };
        seam.refresh_locks().await?;
        Ok(seam)
    }

    /// Lists the workspace's locks again (`POST /locks/list`) and returns them.
    ///
    /// # Errors
    /// [`ProviderError`] from the call; a refused key (401) as
    /// [`ProviderError::Unavailable`].
    pub async fn refresh_locks(&self) -> Result<Vec<Device>, ProviderError> {
        let list: wire::LockList = self.call("/locks/list", &json!({})).await?;
        let by_id = list
            .locks
            .iter()
            .map(|d| (d.device_id.clone(), d.clone()))
            .collect();
        *self.devices.write().unwrap_or_else(PoisonError::into_inner) = by_id;
        Ok(list.locks)
    }

    /// The access code `reference` as Seam describes it, with its `errors` and `warnings`
    /// (e.g. `igloo_algopin_must_be_used_within_24_hours`: the guest must use an algoPIN
    /// within 24 h of its start or it expires); `None` once it is deleted.
    ///
    /// # Errors
    /// [`ProviderError`] from `POST /access_codes/get`.
    pub async fn access_code(&self, reference: &str) -> Result<Option<AccessCode>, ProviderError> {
        let body = json!({ "access_code_id": reference });
        match self
            .try_call::<wire::AccessCodeAnswer>("/access_codes/get", &body)
            .await?
        {
            Ok(answer) => {
                self.remember(&answer.access_code);
                Ok(Some(answer.access_code))
            }
            Err(r) if is_not_found(&r) => Ok(None),
            Err(r) => Err(refused(r)),
        }
    }

    /// Posts `body` as JSON to `path`, and decodes a 2xx answer; a refusal is mapped.
    async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ProviderError> {
        self.try_call(path, body).await?.map_err(refused)
    }

    /// Posts `body` as JSON to `path`: the decoded 2xx answer, or the refusal.
    async fn try_call<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<Result<T, Refusal>, ProviderError> {
        let request = self
            .http
            .client()
            .post(self.http.url(path))
            .bearer_auth(&self.api_key)
            .json(body);
        match self.http.send(request).await? {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Ok).map_err(|e| {
                ProviderError::Unavailable(format!("unexpected answer from Seam for {path}: {e}"))
            }),
            Err(r) => Ok(Err(r)),
        }
    }

    fn device(&self, device: &str) -> Result<Device, ProviderError> {
        self.devices
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(device)
            .cloned()
            .ok_or_else(|| ProviderError::NotFound(format!("no Seam device `{device}`")))
    }

    fn caps(&self, device: &str) -> Result<(Device, Capabilities), ProviderError> {
        let d = self.device(device)?;
        let caps = capabilities(&d).ok_or(ProviderError::Unsupported(
            "this Seam device can program no access codes",
        ))?;
        Ok((d, caps))
    }

    fn remember(&self, code: &AccessCode) {
        if let Some(name) = &code.name {
            self.names
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(code.access_code_id.clone(), name.clone());
        }
        for w in &code.warnings {
            tracing::warn!(
                access_code = %code.access_code_id,
                warning = %w.code,
                "Seam warns about an access code: {}",
                w.message
            );
        }
    }

    async fn access_codes(&self, device: &str) -> Result<Vec<AccessCode>, ProviderError> {
        let list: wire::AccessCodeList = self
            .call("/access_codes/list", &json!({ "device_id": device }))
            .await?;
        for code in &list.access_codes {
            self.remember(code);
        }
        Ok(list.access_codes)
    }

    /// Deletes a code that failed at creation, so its marker finds nothing; best effort
    /// (a failed code holds no slot on the lock).
    async fn discard(&self, device: &str, reference: &str) {
        let body = json!({ "access_code_id": reference, "device_id": device });
        if let Err(e) = self
            .try_call::<serde_json::Value>("/access_codes/delete", &body)
            .await
        {
            tracing::info!(access_code = %reference, "could not discard a failed Seam code: {e}");
        }
    }
}

#[async_trait]
impl Provider for Seam {
    fn capabilities(&self, device: &str) -> Option<Capabilities> {
        self.devices
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(device)
            .and_then(capabilities)
    }

    async fn create_code(
        &self,
        device: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        let (d, caps) = self.caps(device)?;
        check_name(&d, &req.marker)?;
        let window = caps.precision.round_outward(req.window);
        let offline = caps.connectivity == Connectivity::Offline;
        let body = wire::CreateAccessCode {
            device_id: device.to_owned(),
            name: req.marker.clone(),
            code: req
                .pin
                .as_ref()
                .filter(|_| caps.custom_pin)
                .map(|p| p.as_str().to_owned()),
            starts_at: window.starts_at.to_rfc3339(),
            ends_at: window.ends_at.to_rfc3339(),
            is_offline_access_code: offline.then_some(true),
            max_time_rounding: offline.then(|| "1h".to_owned()),
        };
        let answer: wire::AccessCodeAnswer = self.call("/access_codes/create", &body).await?;
        let code = answer.access_code;
        self.remember(&code);
        match receipt(&code) {
            Ok(Some(receipt)) => Ok(receipt),
            Ok(None) => Err(ProviderError::Unavailable(format!(
                "Seam is removing access code `{}` just created",
                code.access_code_id
            ))),
            Err(e @ (ProviderError::PinConflict | ProviderError::Rejected(_))) => {
                self.discard(device, &code.access_code_id).await;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    async fn update_code(
        &self,
        device: &str,
        reference: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        let (d, caps) = self.caps(device)?;
        if !caps.can_update {
            return Err(ProviderError::Unsupported(
                "Seam cannot change offline access codes",
            ));
        }
        check_name(&d, &req.marker)?;
        let window = caps.precision.round_outward(req.window);
        let body = wire::UpdateAccessCode {
            access_code_id: reference.to_owned(),
            name: req.marker.clone(),
            code: req
                .pin
                .as_ref()
                .filter(|_| caps.custom_pin)
                .map(|p| p.as_str().to_owned()),
            starts_at: window.starts_at.to_rfc3339(),
            ends_at: window.ends_at.to_rfc3339(),
        };
        let _: serde_json::Value = self.call("/access_codes/update", &body).await?;
        let code = self.access_code(reference).await?.ok_or_else(|| {
            ProviderError::NotFound(format!("access code `{reference}` on Seam device {device}"))
        })?;
        receipt(&code)?.ok_or_else(|| {
            ProviderError::NotFound(format!("access code `{reference}` is being removed"))
        })
    }

    async fn revoke_code(&self, device: &str, reference: &str) -> Result<(), ProviderError> {
        let (_, caps) = self.caps(device)?;
        if !caps.can_revoke {
            return Err(ProviderError::Unsupported(
                "Seam cannot delete offline access codes (algoPINs)",
            ));
        }
        let body = json!({ "access_code_id": reference, "device_id": device });
        match self
            .try_call::<serde_json::Value>("/access_codes/delete", &body)
            .await?
        {
            Ok(_) => Ok(()),
            Err(r) if is_not_found(&r) => Ok(()),
            Err(r) => Err(refused(r)),
        }
    }

    async fn read_code(
        &self,
        _device: &str,
        reference: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        match self.access_code(reference).await? {
            Some(code) => receipt(&code),
            None => Ok(None),
        }
    }

    async fn find_code(
        &self,
        device: &str,
        marker: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        let codes = self.access_codes(device).await?;
        // The newest live code with the marker; a failed one is as good as absent.
        for code in codes
            .iter()
            .rev()
            .filter(|c| c.name.as_deref() == Some(marker))
        {
            match receipt(code) {
                Ok(Some(r)) => return Ok(Some(r)),
                Ok(None) | Err(ProviderError::PinConflict | ProviderError::Rejected(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// `POST /access_codes/list` (docs.seam.co, "List Access Codes"). A code being
    /// removed or one whose `errors` say it failed opens nothing: listed as disabled.
    async fn list_codes(&self, device: &str) -> Result<Vec<ListedCode>, ProviderError> {
        Ok(self
            .access_codes(device)
            .await?
            .iter()
            .map(listed)
            .collect())
    }

    async fn list_locks(&self) -> Result<Vec<DeviceInfo>, ProviderError> {
        Ok(self
            .refresh_locks()
            .await?
            .into_iter()
            .map(|d| DeviceInfo {
                name: device_name(&d),
                device: d.device_id,
            })
            .collect())
    }

    async fn lock_status(&self, device: &str) -> Result<LockStatus, ProviderError> {
        let answer: wire::DeviceAnswer = self
            .call("/devices/get", &json!({ "device_id": device }))
            .await?;
        let d = answer.device;
        let result = status(&d.properties);
        self.devices
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(d.device_id.clone(), d);
        Ok(result)
    }

    async fn activity(
        &self,
        device: &str,
        since: Timestamp,
    ) -> Result<Vec<ActivityEntry>, ProviderError> {
        let body = json!({
            "device_id": device,
            "since": since.to_rfc3339(),
            "event_types": ["lock.unlocked", "lock.locked", "lock.access_denied"],
            "limit": EVENTS_LIMIT,
        });
        let list: wire::EventList = self.call("/events/list", &body).await?;
        let mut entries: Vec<ActivityEntry> = list
            .events
            .iter()
            .filter(|e| e.device_id.as_deref().is_none_or(|d| d == device))
            .filter_map(activity_entry)
            .filter(|e| e.at >= since)
            .collect();
        let unnamed = |names: &HashMap<String, String>, e: &ActivityEntry| {
            e.code_reference
                .as_ref()
                .is_some_and(|r| !names.contains_key(r))
        };
        let missing = {
            let names = self.names.read().unwrap_or_else(PoisonError::into_inner);
            entries.iter().any(|e| unnamed(&names, e))
        };
        if missing {
            self.access_codes(device).await?;
        }
        let names = self.names.read().unwrap_or_else(PoisonError::into_inner);
        for e in &mut entries {
            e.code_name = e
                .code_reference
                .as_ref()
                .and_then(|r| names.get(r).cloned());
        }
        entries.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        Ok(entries)
    }

    async fn unlock(&self, device: &str) -> Result<(), ProviderError> {
        let d = self.device(device)?;
        if !d.can_remotely_unlock.unwrap_or(false) {
            return Err(ProviderError::Unsupported(
                "this Seam device cannot be unlocked remotely",
            ));
        }
        let answer: wire::ActionAttemptAnswer = self
            .call("/locks/unlock_door", &json!({ "device_id": device }))
            .await?;
        let mut attempt = answer.action_attempt;
        for _ in 0..UNLOCK_POLLS {
            if attempt.status != "pending" {
                break;
            }
            tokio::time::sleep(UNLOCK_POLL_INTERVAL).await;
            let polled: wire::ActionAttemptAnswer = self
                .call(
                    "/action_attempts/get",
                    &json!({ "action_attempt_id": attempt.action_attempt_id }),
                )
                .await?;
            attempt = polled.action_attempt;
        }
        match attempt.status.as_str() {
            "error" => Err(attempt_error(attempt.error)),
            // `success`, or still `pending`: accepted, the lock runs it when it can.
            _ => Ok(()),
        }
    }
}

/// What a Seam device can do, from its flags (§4.2); `None` when it can program no codes.
/// Online programming wins when a device offers both.
pub fn capabilities(d: &Device) -> Option<Capabilities> {
    let online = d.can_program_online_access_codes.unwrap_or(false);
    let offline = d.can_program_offline_access_codes.unwrap_or(false);
    if !online && !offline {
        return None;
    }
    let constraints = d.properties.code_constraints.as_deref().unwrap_or_default();
    let has = |kind: &str| constraints.iter().any(|c| c.constraint_type == kind);
    let (min_len, max_len) = code_lengths(d.properties.supported_code_lengths.as_deref());
    Some(Capabilities {
        connectivity: if online {
            Connectivity::Online
        } else {
            Connectivity::Offline
        },
        custom_pin: online && !has("cannot_specify_pin_code"),
        precision: if online {
            WindowPrecision::Minute
        } else {
            WindowPrecision::Hour
        },
        can_revoke: online,
        can_update: online,
        remote_unlock: d.can_remotely_unlock.unwrap_or(false),
        // Seam leaves the limit out for locks without one; 100 is what common keypads hold.
        max_codes: d.properties.max_active_codes_supported.unwrap_or(100),
        pin: PinRules {
            min_len,
            max_len,
            alphabet: if has("no_zeros") {
                "123456789".into()
            } else {
                "0123456789".into()
            },
            forbidden_prefixes: if has("cannot_start_with_12") {
                vec!["12".into()]
            } else {
                Vec::new()
            },
        },
    })
}

/// The PIN length range from `supported_code_lengths`: the whole range when the lengths
/// are contiguous; otherwise only the longest, since [`PinRules`] has no gaps. 4–8 when
/// Seam says nothing.
fn code_lengths(lengths: Option<&[u8]>) -> (u8, u8) {
    let Some(lengths) = lengths.filter(|l| !l.is_empty()) else {
        return (4, 8);
    };
    let min = lengths.iter().copied().min().unwrap_or(4);
    let max = lengths.iter().copied().max().unwrap_or(8);
    let contiguous = (min..=max).all(|n| lengths.contains(&n));
    if contiguous { (min, max) } else { (max, max) }
}

/// Refuses a marker longer than the device's `name_length` constraint, before Seam does.
fn check_name(d: &Device, marker: &str) -> Result<(), ProviderError> {
    let max = d
        .properties
        .code_constraints
        .iter()
        .flatten()
        .filter(|c| c.constraint_type == "name_length")
        .find_map(|c| c.max_length);
    match max {
        Some(max) if marker.chars().count() > usize::try_from(max).unwrap_or(usize::MAX) => {
            Err(ProviderError::Rejected(format!(
                "marker `{marker}` is longer than the {max} characters this lock allows"
            )))
        }
        _ => Ok(()),
    }
}

fn device_name(d: &Device) -> String {
    d.properties
        .name
        .clone()
        .or_else(|| d.display_name.clone())
        .unwrap_or_else(|| d.device_id.clone())
}

/// A device's status: `battery.status` (critical, low, good, full) wins over the level
/// (0–1, shown as percent) when present.
pub fn status(p: &wire::DeviceProperties) -> LockStatus {
    let level = p
        .battery_level
        .or_else(|| p.battery.as_ref().and_then(|b| b.level));
    let percent = level
        .filter(|l| l.is_finite())
        .map(|l| (l.clamp(0.0, 1.0) * 100.0).round() as u8);
    let mut status = LockStatus::from_percent(p.online, percent);
    let named = p
        .battery
        .as_ref()
        .and_then(|b| b.status.as_deref())
        .and_then(|s| match s {
            "critical" => Some(BatteryLevel::Critical),
            "low" => Some(BatteryLevel::Low),
            "good" | "full" => Some(BatteryLevel::Ok),
            _ => None,
        });
    if named.is_some() {
        status.battery = named;
    }
    status
}

/// An access code as the drift check reads it.
fn listed(code: &AccessCode) -> ListedCode {
    let instant = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| Timestamp::parse_rfc3339(t).ok())
    };
    let window = instant(&code.starts_at)
        .zip(instant(&code.ends_at))
        .map(|(starts_at, ends_at)| Window { starts_at, ends_at });
    let failed = code.errors.iter().any(|e| {
        FAILED_ERRORS.contains(&e.code.as_str()) || DUPLICATE_ERRORS.contains(&e.code.as_str())
    });
    ListedCode {
        reference: code.access_code_id.clone(),
        name: code.name.clone(),
        pin: code.code.clone().filter(|c| !c.is_empty()).map(Pin::new),
        window,
        enabled: code.status != "removing" && !failed,
    }
}

/// An access code as a receipt: `Ok(None)` while it is being removed; an error when its
/// `errors` say it failed (see the module documentation).
pub fn receipt(code: &AccessCode) -> Result<Option<CodeReceipt>, ProviderError> {
    let has = |names: &[&str]| {
        code.errors
            .iter()
            .find(|e| names.contains(&e.code.as_str()))
    };
    if has(&DUPLICATE_ERRORS).is_some() {
        return Err(ProviderError::PinConflict);
    }
    if let Some(e) = has(&FAILED_ERRORS) {
        return Err(ProviderError::Rejected(format!(
            "Seam could not set access code `{}`: {} ({})",
            code.access_code_id, e.code, e.message
        )));
    }
    if code.status == "unknown" || has(&["account_disconnected"]).is_some() {
        return Err(ProviderError::Unavailable(format!(
            "the account behind access code `{}` is disconnected from Seam",
            code.access_code_id
        )));
    }
    if code.status == "removing" {
        return Ok(None);
    }
    let instant = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| Timestamp::parse_rfc3339(t).ok())
            .ok_or_else(|| {
                ProviderError::Unavailable(format!(
                    "access code `{}` has no valid window",
                    code.access_code_id
                ))
            })
    };
    let window = Window {
        starts_at: instant(&code.starts_at)?,
        ends_at: instant(&code.ends_at)?,
    };
    let pin = code.code.clone().unwrap_or_default();
    let on_lock = code.status == "set" || (code.status == "unset" && code.is_scheduled_on_device);
    let active = on_lock && !pin.is_empty() && has(&CONNECTIVITY_ERRORS).is_none();
    Ok(Some(CodeReceipt {
        reference: code.access_code_id.clone(),
        pin: Pin::new(pin),
        window,
        status: if active {
            ReceiptStatus::Active
        } else {
            ReceiptStatus::Pending
        },
    }))
}

/// A lock event in the common shape; `None` for other events. The code's name is filled
/// in by the caller.
fn activity_entry(e: &wire::Event) -> Option<ActivityEntry> {
    let action = match e.event_type.as_str() {
        "lock.unlocked" => LockAction::Unlock,
        "lock.locked" => LockAction::Lock,
        "lock.access_denied" => LockAction::Denied,
        _ => return None,
    };
    let at = Timestamp::parse_rfc3339(&e.occurred_at).ok()?;
    let method = match e.method.as_deref() {
        Some("keycode") => AccessMethod::Keypad,
        Some("remote") => AccessMethod::Remote,
        Some("manual" | "automatic") => AccessMethod::Manual,
        // An access denied with a code named is a keypad attempt.
        None if e.access_code_id.is_some() => AccessMethod::Keypad,
        _ => AccessMethod::Unknown,
    };
    Some(ActivityEntry {
        id: e.event_id.clone(),
        at,
        action,
        method,
        code_reference: e
            .access_code_id
            .clone()
            .filter(|_| method == AccessMethod::Keypad),
        code_name: None,
        pin: None,
        actor: None,
    })
}

fn parse_error(r: &Refusal) -> Option<wire::ErrorDetail> {
    serde_json::from_str::<wire::ErrorBody>(&r.body)
        .ok()
        .map(|b| b.error)
}

fn is_not_found(r: &Refusal) -> bool {
    r.status == StatusCode::NOT_FOUND
        || parse_error(r).is_some_and(|e| e.kind.ends_with("_not_found"))
}

/// Seam's 4xx answers, by their `error.type` (§4.6).
fn refused(r: Refusal) -> ProviderError {
    let detail = parse_error(&r);
    let kind = detail.as_ref().map(|d| d.kind.as_str()).unwrap_or_default();
    let message = detail
        .as_ref()
        .map_or_else(|| r.body.clone(), |d| d.message.clone());
    match (r.status.as_u16(), kind) {
        (401 | 403, _) => ProviderError::Unavailable(format!(
            "the Seam workspace refused the call ({}): check the API key",
            r.status
        )),
        (_, k) if k.contains("duplicate") => ProviderError::PinConflict,
        (404, _) => ProviderError::NotFound(message),
        (_, k) if k.ends_with("_not_found") => ProviderError::NotFound(message),
        (_, k) if CONNECTIVITY_ERRORS.contains(&k) || k == "account_disconnected" => {
            ProviderError::Unavailable(format!("{k}: {message}"))
        }
        (status, k) => ProviderError::Rejected(format!("{status} {k}: {message}")),
    }
}

/// A failed action attempt: connectivity is worth retrying, anything else is not.
fn attempt_error(error: Option<wire::ErrorDetail>) -> ProviderError {
    let Some(e) = error else {
        return ProviderError::Rejected("Seam's unlock failed without saying why".into());
    };
    if CONNECTIVITY_ERRORS.contains(&e.kind.as_str())
        || e.kind.contains("offline")
        || e.kind.contains("disconnected")
    {
        ProviderError::Unavailable(format!("unlock failed: {}: {}", e.kind, e.message))
    } else {
        ProviderError::Rejected(format!("unlock failed: {}: {}", e.kind, e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn device(v: Value) -> Device {
        serde_json::from_value(v).expect("a device")
    }

    fn code(v: Value) -> AccessCode {
        let mut base = json!({
            "access_code_id": "ac-1", "name": "lk-1", "code": "4567", "status": "set",
            "starts_at": "2026-11-22T10:00:00.000Z", "ends_at": "2026-11-23T10:00:00.000Z",
            "errors": [], "warnings": [],
        });
        if let (Some(b), Some(o)) = (base.as_object_mut(), v.as_object()) {
            for (k, val) in o {
                b.insert(k.clone(), val.clone());
            }
        }
        serde_json::from_value(base).expect("an access code")
    }

    #[test]
    fn capabilities_follow_the_flags_not_the_brand() {
        let online = device(json!({
            "device_id": "d1", "device_type": "igloohome_lock",
            "can_program_online_access_codes": true, "can_program_offline_access_codes": true,
            "can_remotely_unlock": true,
            "properties": {
                "online": true, "supported_code_lengths": [4, 5, 6],
                "max_active_codes_supported": 30,
                "code_constraints": [{"constraint_type": "no_zeros"},
                                     {"constraint_type": "cannot_start_with_12"}]
            }
        }));
        let c = capabilities(&online).expect("codes");
        assert_eq!(c.connectivity, Connectivity::Online);
        assert!(c.custom_pin && c.can_update && c.can_revoke && c.remote_unlock);
        assert_eq!(c.precision, WindowPrecision::Minute);
        assert_eq!((c.pin.min_len, c.pin.max_len, c.max_codes), (4, 6, 30));
        assert_eq!(c.pin.alphabet, "123456789");
        assert_eq!(c.pin.forbidden_prefixes, vec!["12".to_owned()]);

        let offline = device(json!({
            "device_id": "d2", "can_program_offline_access_codes": true,
            "properties": {"online": true, "supported_code_lengths": [7, 9]}
        }));
        let c = capabilities(&offline).expect("codes");
        assert_eq!(c.connectivity, Connectivity::Offline);
        assert!(!c.custom_pin && !c.can_update && !c.can_revoke && !c.remote_unlock);
        assert_eq!(c.precision, WindowPrecision::Hour);
        assert_eq!(
            (c.pin.min_len, c.pin.max_len),
            (9, 9),
            "gaps keep the longest"
        );
        assert_eq!(c.pin.alphabet, "0123456789");

        let generated = device(json!({
            "device_id": "d3", "can_program_online_access_codes": true,
            "properties": {"code_constraints": [{"constraint_type": "cannot_specify_pin_code"}]}
        }));
        assert!(!capabilities(&generated).expect("codes").custom_pin);
        assert!(capabilities(&device(json!({"device_id": "d4"}))).is_none());
    }

    #[test]
    fn battery_status_wins_over_the_level() {
        let p = |v: Value| -> wire::DeviceProperties { serde_json::from_value(v).expect("props") };
        let s = status(&p(json!({"online": true, "battery_level": 0.8})));
        assert_eq!(
            (s.battery_percent, s.battery),
            (Some(80), Some(BatteryLevel::Ok))
        );
        let s = status(&p(json!({
            "online": false, "battery_level": 0.8,
            "battery": {"level": 0.8, "status": "critical"}
        })));
        assert!(!s.online);
        assert_eq!(
            (s.battery_percent, s.battery),
            (Some(80), Some(BatteryLevel::Critical))
        );
        let s = status(&p(json!({"battery": {"status": "low"}})));
        assert_eq!(
            (s.battery_percent, s.battery),
            (None, Some(BatteryLevel::Low))
        );
        let s = status(&p(json!({"battery_level": 0.07})));
        assert_eq!(s.battery, Some(BatteryLevel::Critical));
        let s = status(&p(json!({"battery_level": 3.5})));
        assert_eq!(s.battery_percent, Some(100), "clamped");
        assert_eq!(status(&p(json!({}))).battery, None);
    }

    #[test]
    fn code_status_and_errors_map_to_receipts() {
        let active = receipt(&code(json!({}))).expect("ok").expect("on the lock");
        assert_eq!(active.status, ReceiptStatus::Active);
        assert_eq!(active.window.starts_at, Timestamp(1_795_341_600));
        for s in ["unset", "setting"] {
            let r = receipt(&code(json!({"status": s})))
                .expect("ok")
                .expect("some");
            assert_eq!(r.status, ReceiptStatus::Pending, "{s}");
        }
        let scheduled = receipt(&code(
            json!({"status": "unset", "is_scheduled_on_device": true}),
        ))
        .expect("ok")
        .expect("some");
        assert_eq!(
            scheduled.status,
            ReceiptStatus::Active,
            "preloaded on the lock"
        );
        assert_eq!(receipt(&code(json!({"status": "removing"}))), Ok(None));
        let dup = code(json!({"status": "unset",
            "errors": [{"error_code": "duplicate_code_on_device", "message": "dup"}]}));
        assert_eq!(receipt(&dup), Err(ProviderError::PinConflict));
        let failed = code(json!({"status": "unset",
            "errors": [{"error_code": "failed_to_set_on_device", "message": "jammed"}]}));
        assert!(
            matches!(receipt(&failed), Err(ProviderError::Rejected(m)) if m.contains("failed_to_set"))
        );
        let offline = code(json!({"status": "unset",
            "errors": [{"error_code": "device_offline", "message": "offline"}]}));
        assert_eq!(
            receipt(&offline).expect("ok").expect("some").status,
            ReceiptStatus::Pending
        );
        let unknown = receipt(&code(json!({"status": "unknown"}))).expect_err("disconnected");
        assert!(unknown.is_retryable());
        let waiting = receipt(&code(json!({"code": null})))
            .expect("ok")
            .expect("some");
        assert_eq!(waiting.status, ReceiptStatus::Pending, "no PIN yet");
    }

    #[test]
    fn refusals_map_by_error_type() {
        let r = |status: u16, kind: &str| Refusal {
            status: StatusCode::from_u16(status).expect("status"),
            body: json!({"error": {"type": kind, "message": "m"}}).to_string(),
        };
        assert!(matches!(
            refused(r(400, "invalid_input")),
            ProviderError::Rejected(_)
        ));
        assert!(matches!(
            refused(r(404, "access_code_not_found")),
            ProviderError::NotFound(_)
        ));
        assert!(matches!(
            refused(r(400, "device_not_found")),
            ProviderError::NotFound(_)
        ));
        assert_eq!(
            refused(r(400, "duplicate_access_code")),
            ProviderError::PinConflict
        );
        assert!(refused(r(401, "unauthorized")).is_retryable());
        assert!(refused(r(400, "device_offline")).is_retryable());
        let garbled = Refusal {
            status: StatusCode::BAD_REQUEST,
            body: "<html>".into(),
        };
        assert!(matches!(refused(garbled), ProviderError::Rejected(_)));
        assert!(is_not_found(&r(404, "whatever")));
    }

    #[test]
    fn lock_events_map_to_activity() {
        let e = |v: Value| -> wire::Event { serde_json::from_value(v).expect("event") };
        let keypad = activity_entry(&e(json!({
            "event_id": "e1", "event_type": "lock.unlocked", "device_id": "d1",
            "occurred_at": "2026-11-22T10:00:00Z", "method": "keycode", "access_code_id": "ac-1"
        })))
        .expect("an entry");
        assert_eq!(
            (keypad.action, keypad.method),
            (LockAction::Unlock, AccessMethod::Keypad)
        );
        assert_eq!(keypad.code_reference.as_deref(), Some("ac-1"));
        let remote = activity_entry(&e(json!({
            "event_id": "e2", "event_type": "lock.unlocked",
            "occurred_at": "2026-11-22T10:00:00Z", "method": "remote", "access_code_id": "x"
        })))
        .expect("an entry");
        assert_eq!(remote.method, AccessMethod::Remote);
        assert_eq!(
            remote.code_reference, None,
            "only keypad entries name a code"
        );
        let auto = activity_entry(&e(json!({
            "event_id": "e3", "event_type": "lock.locked",
            "occurred_at": "2026-11-22T10:00:00Z", "method": "automatic"
        })))
        .expect("an entry");
        assert_eq!(
            (auto.action, auto.method),
            (LockAction::Lock, AccessMethod::Manual)
        );
        let denied = activity_entry(&e(json!({
            "event_id": "e4", "event_type": "lock.access_denied",
            "occurred_at": "2026-11-22T10:00:00Z"
        })))
        .expect("an entry");
        assert_eq!(
            (denied.action, denied.method),
            (LockAction::Denied, AccessMethod::Unknown)
        );
        assert!(
            activity_entry(&e(json!({
                "event_id": "e5", "event_type": "device.connected",
                "occurred_at": "2026-11-22T10:00:00Z"
            })))
            .is_none()
        );
    }

    #[test]
    fn code_lengths_without_gaps() {
        assert_eq!(code_lengths(None), (4, 8));
        assert_eq!(code_lengths(Some(&[6])), (6, 6));
        assert_eq!(code_lengths(Some(&[4, 6, 5])), (4, 6));
        assert_eq!(code_lengths(Some(&[4, 8])), (8, 8));
    }
}
