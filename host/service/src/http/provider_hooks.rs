//! `POST /v1/provider-hooks/{account}`: webhooks from lock providers, so that a change on
//! a lock is learnt before the next periodic sync (issue 5, item 5).
//!
//! `{account}` is a provider key of `property.toml` with a `[[provider_hooks]]` entry,
//! whose `kind` says how the vendor delivers (lock-providers.md §0, §6):
//! - `nuki` (§1.8): JSON, `X-Nuki-Signature-SHA256` = hex HMAC-SHA256 of the raw body
//!   keyed with the decentral webhook's `secret`. Answered 200.
//! - `seam` (§4.5): JSON through Svix, `svix-id` / `svix-timestamp` / `svix-signature`
//!   signed as Standard Webhooks are; a timestamp more than 5 min from our clock is
//!   refused. Answered 200.
//! - `ttlock` (§2.8): form-encoded and unsigned, so the secret is the last path segment:
//!   `POST /v1/provider-hooks/{account}/{secret}`. A wrong or missing token answers **404**,
//!   exactly as an unknown route does, so the URL cannot be probed. Answered 200 with the
//!   raw body `success`, which TTLock requires, whatever the event was.
//!
//! Checks, in order: the account has a hook (404), the token (TTLock, 404), the media type
//! (415), at most [`MAX_BODY_BYTES`] (413), the signature (401), the body (422). Then the
//! event's device is mapped to our locks (`lock.provider == account`, `lock.device ==`
//! the vendor's id); an event about no lock of ours, or of a type we do not use, answers
//! 202 (TTLock: 200 `success`) and is logged at debug. A status, battery, connectivity or
//! log event starts that lock's sync in the background, so the vendor gets its answer
//! fast; a "code is on the lock" event moves the lock's queued confirmations to now.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Form, FromRequest, OriginalUri, Path, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use latchkey_engine::{CodeState, LockId};
use latchkey_store::codes;
use serde::Serialize;
use serde_json::Value;

use super::body::{is_json, read_limited, require_media_type};
use crate::app::App;
use crate::catalog::{ProviderHookEntry, ProviderHookKind};
use crate::error::Error;
use crate::monitor;
use crate::queue::{self, JobSpec};
use latchkey_sources::signature;

/// Largest accepted provider webhook body, in bytes (256 KiB; TTLock batches log records).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Shortest TTLock URL token accepted from the configuration: the token is the only
/// protection of an unsigned callback.
pub const MIN_TTLOCK_TOKEN_CHARS: usize = 24;

/// Nuki's signature header (lock-providers.md §1.8).
const NUKI_SIGNATURE: &str = "x-nuki-signature-sha256";

pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/v1/provider-hooks/{account}", post(receive))
        .route(
            "/v1/provider-hooks/{account}/{token}",
            post(receive_with_token),
        )
}

/// What an accepted event makes us do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    /// Read the lock's status, battery and log now.
    Sync,
    /// A code reached (or failed to reach) the lock: read pending codes back now.
    Confirm,
    /// Nothing we use.
    Ignored,
}

/// Which locks an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Devices {
    /// These vendor device ids.
    Some(Vec<String>),
    /// Every lock of the account (a TTLock gateway: which locks hang on it is not ours).
    All,
}

/// A parsed event: its name for the logs, what to do, and about which devices.
#[derive(Debug, Clone)]
struct Event {
    name: String,
    action: Action,
    devices: Devices,
}

/// The answer's body (Nuki and Seam).
#[derive(Debug, Serialize)]
struct Outcome {
    event: String,
    action: Action,
    locks: Vec<LockId>,
}

async fn receive(
    State(app): State<App>,
    Path(account): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let path = uri.path().to_owned();
    handle(&app, &account, None, &path, &headers, body).await
}

async fn receive_with_token(
    State(app): State<App>,
    Path((account, token)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let path = uri.path().to_owned();
    handle(&app, &account, Some(&token), &path, &headers, body).await
}

async fn handle(
    app: &App,
    account: &str,
    token: Option<&str>,
    path: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let hook = app
        .catalog
        .provider_hook(account)
        .ok_or_else(|| Error::NotFound {
            what: "provider hook",
            id: account.to_owned(),
        })?
        .clone();
    check_token(&hook, token, path)?;
    if hook.kind == ProviderHookKind::Ttlock {
        require_media_type(headers, is_form, "application/x-www-form-urlencoded")?;
    } else {
        require_media_type(headers, is_json, "application/json")?;
    }
    let bytes = read_limited(headers, body, MAX_BODY_BYTES).await?;
    let event = match hook.kind {
        ProviderHookKind::Nuki => {
            verify_nuki(&hook.secret, headers, &bytes)?;
            parse_nuki(&bytes)?
        }
        ProviderHookKind::Seam => {
            signature::verify_with(
                &signature::SVIX_HEADERS,
                &hook.secret,
                headers,
                &bytes,
                app.clock.now(),
            )?;
            parse_seam(&bytes)?
        }
        ProviderHookKind::Ttlock => parse_ttlock(bytes).await?,
    };
    let locks = locks_of(app, account, &event.devices);
    let acted = act(app, account, &event, &locks).await?;
    if hook.kind == ProviderHookKind::Ttlock {
        let mut res = (StatusCode::OK, "success").into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return Ok(res);
    }
    let status = if acted {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let outcome = Outcome {
        event: event.name,
        action: if acted { event.action } else { Action::Ignored },
        locks,
    };
    Ok((status, Json(outcome)).into_response())
}

/// TTLock's secret path segment, compared in constant time; other kinds take no token.
/// Any mismatch is the same 404 as an unknown route.
fn check_token(hook: &ProviderHookEntry, token: Option<&str>, path: &str) -> Result<(), Error> {
    let not_found = || Error::NotFound {
        what: "route",
        id: path.to_owned(),
    };
    match (hook.kind, token) {
        (ProviderHookKind::Ttlock, Some(token)) => {
            if hook.secret.chars().count() < MIN_TTLOCK_TOKEN_CHARS {
                return Err(Error::config(format!(
                    "provider hook `{}`: a TTLock secret must be at least \
                     {MIN_TTLOCK_TOKEN_CHARS} characters",
                    hook.account
                )));
            }
            if constant_time_eq::constant_time_eq(token.as_bytes(), hook.secret.as_bytes()) {
                Ok(())
            } else {
                Err(not_found())
            }
        }
        (ProviderHookKind::Ttlock, None) | (_, Some(_)) => Err(not_found()),
        (_, None) => Ok(()),
    }
}

/// `application/x-www-form-urlencoded`.
fn is_form(essence: &str) -> bool {
    essence == "application/x-www-form-urlencoded"
}

/// Nuki: hex HMAC-SHA256 of the raw body with the webhook secret (§1.8), compared in
/// constant time.
fn verify_nuki(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), Error> {
    let given = headers
        .get(NUKI_SIGNATURE)
        .ok_or_else(|| Error::Unauthorized(format!("missing header `{NUKI_SIGNATURE}`")))?
        .to_str()
        .map_err(|_| Error::Unauthorized(format!("header `{NUKI_SIGNATURE}` is not ASCII")))?;
    signature::verify_hmac_sha256_hex(secret, NUKI_SIGNATURE, given, body).map_err(Error::from)
}

fn invalid(pointer: &str, detail: impl Into<String>) -> Error {
    Error::Invalid {
        pointer: pointer.to_owned(),
        detail: detail.into(),
    }
}

fn json_object(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, Error> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid("", "the body must be a JSON object")),
        Err(e) => Err(invalid("", format!("the body is not JSON: {e}"))),
    }
}

/// A vendor id given as a JSON string or number (Nuki's `smartlockId` is a number).
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Nuki features (§1.8): DEVICE_STATUS and DEVICE_LOGS change status, battery or the log;
/// DEVICE_AUTHS fires when an auth (keypad code) is created, changed or deleted. The others
/// (DEVICE_MASTERDATA, DEVICE_CONFIG, ACCOUNT_USER) are not used.
fn parse_nuki(bytes: &[u8]) -> Result<Event, Error> {
    let map = json_object(bytes)?;
    let feature = map
        .get("feature")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("/feature", "`feature` must be a string"))?
        .to_owned();
    let action = match feature.as_str() {
        "DEVICE_STATUS" | "DEVICE_LOGS" => Action::Sync,
        "DEVICE_AUTHS" => Action::Confirm,
        _ => Action::Ignored,
    };
    let devices = if action == Action::Ignored {
        Devices::Some(Vec::new())
    } else {
        let id = map
            .get("smartlockId")
            .and_then(id_text)
            .ok_or_else(|| invalid("/smartlockId", "`smartlockId` must be a number"))?;
        Devices::Some(vec![id])
    };
    Ok(Event {
        name: feature,
        action,
        devices,
    })
}

/// Seam event types (§4.5): `access_code.set_on_device` confirms a code; `device.*`
/// (connected, disconnected, low_battery, battery_status_changed, …) and `lock.*`
/// (locked, unlocked, access_denied) change status, battery or the log.
fn parse_seam(bytes: &[u8]) -> Result<Event, Error> {
    let map = json_object(bytes)?;
    let event_type = map
        .get("event_type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("/event_type", "`event_type` must be a string"))?
        .to_owned();
    let action = if event_type == "access_code.set_on_device" {
        Action::Confirm
    } else if event_type.starts_with("device.") || event_type.starts_with("lock.") {
        Action::Sync
    } else {
        Action::Ignored
    };
    let devices = if action == Action::Ignored {
        Devices::Some(Vec::new())
    } else {
        let id = map
            .get("device_id")
            .and_then(id_text)
            .ok_or_else(|| invalid("/device_id", "`device_id` must be a string"))?;
        Devices::Some(vec![id])
    };
    Ok(Event {
        name: event_type,
        action,
        devices,
    })
}

/// TTLock `notifyType` (§2.8): 1 lock records and 3 Wi-Fi lock online/offline concern
/// `lockId`; 2 gateway online/offline concerns the locks behind `gatewayId`, which we do
/// not know, so every lock of the account; 4 an async request failed (`objectId` is e.g.
/// the `keyboardPwdId`), so the pending codes are read back. Others (7 door sensor) are
/// not used.
async fn parse_ttlock(bytes: Bytes) -> Result<Event, Error> {
    let request = Request::builder()
        .method("POST")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(bytes))
        .map_err(|e| Error::internal_from("rebuilding a form request", e))?;
    let Form(fields) = Form::<Vec<(String, String)>>::from_request(request, &())
        .await
        .map_err(|e| invalid("", format!("the body is not a form: {}", e.body_text())))?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let notify_type: i64 = field("notifyType")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| invalid("/notifyType", "`notifyType` must be an integer"))?;
    let lock_id = || {
        field("lockId")
            .map(str::to_owned)
            .ok_or_else(|| invalid("/lockId", "`lockId` is required for this notifyType"))
    };
    let (name, action, devices) = match notify_type {
        1 => (
            "lock records",
            Action::Sync,
            Devices::Some(vec![lock_id()?]),
        ),
        3 => (
            "Wi-Fi lock online/offline",
            Action::Sync,
            Devices::Some(vec![lock_id()?]),
        ),
        2 => ("gateway online/offline", Action::Sync, Devices::All),
        4 => {
            // The failure names the object, not always its lock; TTLock's own log has
            // the details, so keep them in ours.
            tracing::info!(
                object_type = field("objectType").unwrap_or("?"),
                object_id = field("objectId").unwrap_or("?"),
                errcode = field("errcode").unwrap_or("?"),
                "TTLock reports an async request failed"
            );
            let devices = field("lockId").map_or(Devices::All, |id| Devices::Some(vec![id.into()]));
            ("async request failed", Action::Confirm, devices)
        }
        _ => ("other", Action::Ignored, Devices::Some(Vec::new())),
    };
    Ok(Event {
        name: format!("notifyType {notify_type} ({name})"),
        action,
        devices,
    })
}

/// Our locks the event is about.
fn locks_of(app: &App, account: &str, devices: &Devices) -> Vec<LockId> {
    match devices {
        Devices::All => app
            .catalog
            .locks
            .iter()
            .filter(|l| l.provider == account)
            .map(|l| l.id.clone())
            .collect(),
        Devices::Some(ids) => ids
            .iter()
            .flat_map(|d| app.catalog.locks_on_device(account, d))
            .map(|l| l.id.clone())
            .collect(),
    }
}

/// Acts on an accepted event; returns false when there was nothing to act on.
async fn act(app: &App, account: &str, event: &Event, locks: &[LockId]) -> Result<bool, Error> {
    if event.action == Action::Ignored {
        tracing::debug!(account, event = %event.name, "provider event not used; ignored");
        return Ok(false);
    }
    if locks.is_empty() {
        tracing::debug!(
            account,
            event = %event.name,
            devices = ?event.devices,
            "provider event about no configured lock; ignored"
        );
        return Ok(false);
    }
    match event.action {
        Action::Sync => {
            // Answer now; the vendor may disable a slow or failing webhook (§1.8).
            let (app, locks, name) = (app.clone(), locks.to_vec(), event.name.clone());
            tokio::spawn(async move {
                for lock in &locks {
                    match monitor::sync_lock_now(&app, lock).await {
                        Ok(report) if report.failed > 0 => tracing::info!(
                            lock = %lock, event = %name,
                            "lock sync after a provider event failed; recorded on the lock"
                        ),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(
                            lock = %lock, event = %name, error = ?e,
                            "lock sync after a provider event failed; the periodic sync will catch up"
                        ),
                    }
                }
            });
        }
        Action::Confirm => {
            let moved = confirm_now(app, locks).await?;
            tracing::debug!(account, event = %event.name, moved, "confirmations brought forward");
        }
        Action::Ignored => {}
    }
    Ok(true)
}

/// Moves the queued confirmation of every pending code on `locks` to now, and wakes the
/// job worker. Returns how many moved (0 when none was waiting: nothing is created, so a
/// code's jobs keep their order).
async fn confirm_now(app: &App, locks: &[LockId]) -> Result<usize, Error> {
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let mut tx = app.pool.begin().await?;
    let mut moved = 0;
    for lock in locks {
        for row in codes::live_on_lock(&mut tx, ws, lock).await? {
            if row.code.state != CodeState::Pending {
                continue;
            }
            let spec = JobSpec::ConfirmCode { code: row.code.id };
            moved += usize::from(queue::bring_forward(&mut tx, ws, &spec, now).await?);
        }
    }
    tx.commit().await?;
    if moved > 0 {
        app.jobs_waiting.notify();
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nuki_features_map_to_actions() {
        let e = parse_nuki(br#"{"feature":"DEVICE_STATUS","smartlockId":17001}"#).expect("ok");
        assert_eq!(e.action, Action::Sync);
        assert_eq!(e.devices, Devices::Some(vec!["17001".into()]));
        let e = parse_nuki(br#"{"feature":"DEVICE_AUTHS","smartlockId":"17001"}"#).expect("ok");
        assert_eq!(e.action, Action::Confirm);
        let e = parse_nuki(br#"{"feature":"ACCOUNT_USER"}"#).expect("ok");
        assert_eq!(e.action, Action::Ignored);
        let err = parse_nuki(br#"{"feature":"DEVICE_LOGS"}"#).expect_err("no smartlockId");
        assert!(matches!(err, Error::Invalid { ref pointer, .. } if pointer == "/smartlockId"));
        assert!(parse_nuki(b"[1]").is_err());
    }

    #[test]
    fn seam_event_types_map_to_actions() {
        let e = parse_seam(br#"{"event_type":"device.low_battery","device_id":"d1"}"#).expect("ok");
        assert_eq!(e.action, Action::Sync);
        let e = parse_seam(br#"{"event_type":"access_code.set_on_device","device_id":"d1"}"#)
            .expect("ok");
        assert_eq!(e.action, Action::Confirm);
        let e = parse_seam(br#"{"event_type":"connected_account.connected"}"#).expect("ok");
        assert_eq!(e.action, Action::Ignored);
        assert!(parse_seam(br#"{"event_type":"lock.unlocked"}"#).is_err());
    }

    #[tokio::test]
    async fn ttlock_notify_types_map_to_actions() {
        let e = parse_ttlock(Bytes::from_static(b"notifyType=3&lockId=42&isOnline=0"))
            .await
            .expect("ok");
        assert_eq!(
            (e.action, e.devices),
            (Action::Sync, Devices::Some(vec!["42".into()]))
        );
        let e = parse_ttlock(Bytes::from_static(b"notifyType=2&gatewayId=9&isOnline=1"))
            .await
            .expect("ok");
        assert_eq!((e.action, e.devices), (Action::Sync, Devices::All));
        let e = parse_ttlock(Bytes::from_static(
            b"notifyType=4&objectType=2&objectId=5&errcode=-3036",
        ))
        .await
        .expect("ok");
        assert_eq!(e.action, Action::Confirm);
        assert!(
            parse_ttlock(Bytes::from_static(b"notifyType=1"))
                .await
                .is_err()
        );
        assert!(parse_ttlock(Bytes::from_static(b"lockId=1")).await.is_err());
    }
}
