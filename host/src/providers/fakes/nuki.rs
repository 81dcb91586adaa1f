//! A fake of the Nuki Web API that follows its published contract (Swagger 2.0 v4.18.0 and
//! Nuki's answers on its developer forum, `../shared/reference/lock-providers.md` §1), with
//! a model of each lock that knows which PIN opens which door when.
//!
//! What it enforces as Nuki does: a bearer token; keypad codes only on locks with a paired
//! keypad; names of at most 20 characters (422); PINs of 6 digits from 1–9 not starting
//! with "12" (400); one PIN once in the account (409); 423 while an authorization has an
//! operation pending; 204 with no body on create, update and delete, which reach the lock
//! asynchronously (`operationId` is set until they do, after the confirmation delay, and
//! never while the lock is offline, `serverState` 4).
//!
//! Faults on demand: the next requests answered with a given status (429 with
//! `Retry-After`, 500, 503), answers delayed (to time a client out), a slower
//! confirmation, a lock going offline.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use latchkey_engine::{Timestamp, Window};
use serde_json::{Value, json};

use crate::clock::Clock;

/// Seconds a change takes to reach an online lock, by default (Nuki's "fast sync").
pub const DEFAULT_CONFIRM_SECS: i64 = 5;

/// A lock in the fake account.
#[derive(Debug, Clone)]
pub struct FakeSmartlock {
    /// `smartlockId`.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// `type`: 4 for a Smart Lock 3/4.
    pub kind: i32,
    /// A keypad is paired, so keypad codes are possible.
    pub keypad: bool,
    /// Reachable through its bridge or Wi-Fi.
    pub online: bool,
    /// Battery charge, 0–100 %.
    pub battery_charge: i32,
}

/// The fake Nuki cloud. Cheap to clone; clones share the account.
#[derive(Clone)]
pub struct NukiFake {
    state: Arc<Mutex<Account>>,
    clock: Arc<dyn Clock>,
}

/// A request as the fake received it, for checking against the specification.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `PUT`, …
    pub method: &'static str,
    /// The route, e.g. `/smartlock/{smartlockId}/auth`.
    pub route: &'static str,
    /// The JSON body, if any.
    pub body: Option<Value>,
    /// The JSON answered, if any.
    pub answer: Option<Value>,
}

#[derive(Debug)]
struct Account {
    token: String,
    locks: BTreeMap<i64, FakeSmartlock>,
    auths: Vec<Auth>,
    next_auth: u64,
    confirm_secs: i64,
    delay: Duration,
    failures: Vec<(StatusCode, Option<u64>)>,
    /// What each lock held, for `opens`.
    installed: Vec<Installed>,
    recorded: Vec<Recorded>,
}

#[derive(Debug, Clone)]
struct Auth {
    id: String,
    auth_id: i64,
    smartlock_id: i64,
    name: String,
    code: i32,
    window: Window,
    enabled: bool,
    created_at: Timestamp,
    /// A change not yet on the lock, and when it reaches it if the lock is online.
    pending: Option<(Change, Timestamp)>,
    /// Deleted in the cloud and from the lock.
    gone: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Write,
    Delete,
}

/// A code as a lock held it: from `since` until `until` (open-ended while held).
#[derive(Debug, Clone)]
struct Installed {
    smartlock_id: i64,
    auth: String,
    code: i32,
    window: Window,
    since: Timestamp,
    until: Option<Timestamp>,
}

impl NukiFake {
    /// An account reachable with `token`, holding `locks`, on `clock`.
    pub fn new(
        token: impl Into<String>,
        locks: Vec<FakeSmartlock>,
        clock: Arc<dyn Clock>,
    ) -> NukiFake {
        NukiFake {
            state: Arc::new(Mutex::new(Account {
                token: token.into(),
                locks: locks.into_iter().map(|l| (l.id, l)).collect(),
                auths: Vec::new(),
                next_auth: 1,
                confirm_secs: DEFAULT_CONFIRM_SECS,
                delay: Duration::ZERO,
                failures: Vec::new(),
                installed: Vec::new(),
                recorded: Vec::new(),
            })),
            clock,
        }
    }

    /// The routes of the Web API this fake serves.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/smartlock", get(list_locks))
            .route(
                "/smartlock/{smartlock}/auth",
                get(list_auths).put(create_auth),
            )
            .route(
                "/smartlock/{smartlock}/auth/{auth}",
                post(update_auth).delete(delete_auth),
            )
            .route("/smartlock/{smartlock}/action/unlock", post(unlock))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                delay_answers,
            ))
            .with_state(self.clone())
    }

    /// Answers the next `count` requests with `status` (and `Retry-After`, in seconds).
    pub fn fail_next(&self, count: usize, status: StatusCode, retry_after: Option<u64>) {
        let mut s = self.account();
        s.failures
            .extend(std::iter::repeat_n((status, retry_after), count));
    }

    /// Holds every answer back for `delay` (zero to stop).
    pub fn set_delay(&self, delay: Duration) {
        self.account().delay = delay;
    }

    /// Seconds a change takes to reach an online lock.
    pub fn set_confirm_secs(&self, secs: i64) {
        self.account().confirm_secs = secs;
    }

    /// Takes lock `id` offline or back online; changes wait while it is offline.
    pub fn set_online(&self, id: i64, online: bool) {
        let now = self.clock.now();
        let mut s = self.account();
        s.settle(now);
        if let Some(lock) = s.locks.get_mut(&id) {
            lock.online = online;
        }
        if online {
            // Changes queued while offline reach the lock a confirmation later.
            let confirm = s.confirm_secs;
            for auth in s.auths.iter_mut().filter(|a| a.smartlock_id == id) {
                if let Some((_, at)) = &mut auth.pending {
                    *at = (*at).max(now.plus(confirm));
                }
            }
        }
    }

    /// Whether `pin` opens lock `id` at `at`, as the lock itself decides.
    pub fn opens(&self, id: i64, pin: &str, at: Timestamp) -> bool {
        let mut s = self.account();
        s.settle(self.clock.now());
        s.installed.iter().any(|i| {
            i.smartlock_id == id
                && i.code.to_string() == pin
                && i.since <= at
                && i.until.is_none_or(|u| at < u)
                && i.window.contains(at)
        })
    }

    /// Every request received so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.account().recorded.clone()
    }

    fn account(&self) -> MutexGuard<'_, Account> {
        // Every change to the account is made whole under the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The common part of every route: injected failures, the bearer token, recording the
    /// request (`method`, `route` and its JSON `body`), and bringing the locks up to date.
    /// Returns the account, the time, and the body parsed (`null` when absent or not JSON).
    async fn enter(
        &self,
        headers: &HeaderMap,
        method: &'static str,
        route: &'static str,
        body: Option<&[u8]>,
    ) -> Result<(MutexGuard<'_, Account>, Timestamp, Value), Response> {
        let now = self.clock.now();
        let mut s = self.account();
        if !s.failures.is_empty() {
            let (status, retry_after) = s.failures.remove(0);
            let mut response = restlet_error(status, "injected failure");
            if let Some(value) =
                retry_after.and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Err(response);
        }
        let expected = format!("Bearer {}", s.token);
        if headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            != Some(expected.as_str())
        {
            return Err(restlet_error(StatusCode::UNAUTHORIZED, "Not authorized"));
        }
        let body = body.map(|b| serde_json::from_slice(b).unwrap_or(Value::Null));
        s.recorded.push(Recorded {
            method,
            route,
            body: body.clone(),
            answer: None,
        });
        s.settle(now);
        Ok((s, now, body.unwrap_or(Value::Null)))
    }
}

/// Holds the answer back after the request took effect, as a slow cloud does: a client
/// that gives up has changed the account all the same.
async fn delay_answers(
    State(fake): State<NukiFake>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let delay = fake.account().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    response
}

impl Account {
    /// Applies every pending change that has reached its (online) lock by `now`.
    fn settle(&mut self, now: Timestamp) {
        let Account {
            auths,
            locks,
            installed,
            ..
        } = self;
        for auth in auths.iter_mut() {
            let Some((change, at)) = auth.pending else {
                continue;
            };
            let online = locks.get(&auth.smartlock_id).is_some_and(|l| l.online);
            if !online || at > now {
                continue;
            }
            for held in installed
                .iter_mut()
                .filter(|i| i.auth == auth.id && i.until.is_none())
            {
                held.until = Some(at);
            }
            match change {
                Change::Write if auth.enabled => installed.push(Installed {
                    smartlock_id: auth.smartlock_id,
                    auth: auth.id.clone(),
                    code: auth.code,
                    window: auth.window,
                    since: at,
                    until: None,
                }),
                Change::Write => {}
                Change::Delete => auth.gone = true,
            }
            auth.pending = None;
        }
    }

    /// Notes the JSON answered to the request being handled.
    fn answered(&mut self, answer: &Value) {
        if let Some(last) = self.recorded.last_mut() {
            last.answer = Some(answer.clone());
        }
    }
}

/// Nuki's error bodies are Restlet's: `{code, description, reasonPhrase, uri}`.
fn restlet_error(status: StatusCode, description: &str) -> Response {
    let body = json!({
        "code": status.as_u16(),
        "description": description,
        "reasonPhrase": status.canonical_reason().unwrap_or(""),
        "uri": "http://www.restlet.org/documentation",
    });
    (status, axum::Json(body)).into_response()
}

async fn list_locks(
    State(fake): State<NukiFake>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let (mut s, _, _) = fake.enter(&headers, "GET", "/smartlock", None).await?;
    let locks: Vec<Value> = s
        .locks
        .values()
        .map(|l| {
            json!({
                "smartlockId": l.id,
                "accountId": 1,
                "type": l.kind,
                "authId": 1,
                "name": l.name,
                "favorite": false,
                "serverState": if l.online { 0 } else { 4 },
                "adminPinState": 0,
                "config": {
                    "name": l.name, "latitude": 38.72, "longitude": -9.14, "singleLock": false,
                    "advertisingMode": 0, "timezoneId": 0, "timezoneOffset": 0,
                    "keypadPaired": l.keypad
                },
                "state": {
                    "mode": 2, "state": 1, "trigger": 0, "lastAction": 2,
                    "batteryCritical": l.battery_charge < 10,
                    "batteryCharge": l.battery_charge,
                    "doorState": 0, "nightMode": false, "ringToOpenTimer": 0
                }
            })
        })
        .collect();
    let answer = Value::Array(locks);
    s.answered(&answer);
    Ok((StatusCode::OK, axum::Json(answer)).into_response())
}

async fn list_auths(
    State(fake): State<NukiFake>,
    Path(smartlock): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    // Every authorization in this fake is a keypad code, so the `types` filter changes
    // nothing.
    let (mut s, _, _) = fake
        .enter(&headers, "GET", "/smartlock/{smartlockId}/auth", None)
        .await?;
    if !s.locks.contains_key(&smartlock) {
        return Err(restlet_error(StatusCode::NOT_FOUND, "Smartlock not found"));
    }
    let auths: Vec<Value> = s
        .auths
        .iter()
        .filter(|a| a.smartlock_id == smartlock && !a.gone)
        .map(auth_json)
        .collect();
    let answer = Value::Array(auths);
    s.answered(&answer);
    Ok((StatusCode::OK, axum::Json(answer)).into_response())
}

fn auth_json(a: &Auth) -> Value {
    let mut v = json!({
        "id": a.id,
        "smartlockId": a.smartlock_id,
        "authId": a.auth_id,
        "code": a.code,
        "type": 13,
        "name": a.name,
        "enabled": a.enabled,
        "remoteAllowed": false,
        "lockCount": 0,
        "allowedFromDate": a.window.starts_at.to_rfc3339(),
        "allowedUntilDate": a.window.ends_at.to_rfc3339(),
        "allowedWeekDays": 127,
        "creationDate": a.created_at.to_rfc3339(),
    });
    if let Some((_, at)) = a.pending {
        // The spec's `ObjectId`, as Nuki's Java back end serializes it.
        v["operationId"] =
            json!({ "timestamp": at.unix(), "counter": a.auth_id, "date": at.to_rfc3339() });
    }
    v
}

/// Checks a create or update body as Nuki does; returns the name, code, window, enabled.
fn check_body(
    s: &Account,
    smartlock: i64,
    body: &Value,
    creating: bool,
    except: Option<&str>,
) -> Result<(String, i32, Window, bool), (StatusCode, String)> {
    let bad = |what: &str| (StatusCode::BAD_REQUEST, what.to_owned());
    let Some(lock) = s.locks.get(&smartlock) else {
        return Err((StatusCode::NOT_FOUND, "Smartlock not found".into()));
    };
    let object = body
        .as_object()
        .ok_or_else(|| bad("Bad parameter: the body is not an object"))?;
    let known = [
        "name",
        "type",
        "code",
        "allowedFromDate",
        "allowedUntilDate",
        "allowedWeekDays",
        "allowedFromTime",
        "allowedUntilTime",
        "accountUserId",
        "remoteAllowed",
        "smartActionsEnabled",
        "enabled",
    ];
    if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(bad(&format!("Bad parameter: unknown field '{unknown}'")));
    }
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Bad parameter: name is required"))?;
    if creating {
        if object
            .get("remoteAllowed")
            .and_then(Value::as_bool)
            .is_none()
        {
            return Err(bad("Bad parameter: remoteAllowed is required"));
        }
        if object.get("type").and_then(Value::as_i64) != Some(13) || !lock.keypad {
            return Err(bad("The supplied value for parameter 'type' is not valid"));
        }
    }
    if name.chars().count() > 20 {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "The name of a keypad code is at most 20 characters".into(),
        ));
    }
    let code = object
        .get("code")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("Bad parameter: code is required"))?;
    let digits = code.to_string();
    if digits.len() != 6 || digits.contains('0') || digits.starts_with("12") {
        return Err(bad(
            "Bad parameter: the code is 6 digits from 1 to 9 and does not start with 12",
        ));
    }
    let instant = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .and_then(|t| Timestamp::parse_rfc3339(t).ok())
            .ok_or_else(|| bad(&format!("Bad parameter: {key} is not a date-time")))
    };
    let window = Window {
        starts_at: instant("allowedFromDate")?,
        ends_at: instant("allowedUntilDate")?,
    };
    let code = i32::try_from(code).map_err(|_| bad("Bad parameter: code"))?;
    if s.auths
        .iter()
        .any(|a| !a.gone && a.code == code && Some(a.id.as_str()) != except)
    {
        return Err((
            StatusCode::CONFLICT,
            "Parameter conflicts: the code is already in use".into(),
        ));
    }
    let enabled = object
        .get("enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    Ok((name.to_owned(), code, window, enabled))
}

async fn create_auth(
    State(fake): State<NukiFake>,
    Path(smartlock): Path<i64>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Response> {
    let (mut s, now, body) = fake
        .enter(
            &headers,
            "PUT",
            "/smartlock/{smartlockId}/auth",
            Some(&body),
        )
        .await?;
    let (name, code, window, enabled) = check_body(&s, smartlock, &body, true, None)
        .map_err(|(status, description)| restlet_error(status, &description))?;
    let n = s.next_auth;
    s.next_auth += 1;
    let applies_at = now.plus(s.confirm_secs);
    s.auths.push(Auth {
        id: format!("{n:024x}"),
        auth_id: i64::try_from(n).unwrap_or(i64::MAX),
        smartlock_id: smartlock,
        name,
        code,
        window,
        enabled,
        created_at: now,
        pending: Some((Change::Write, applies_at)),
        gone: false,
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn update_auth(
    State(fake): State<NukiFake>,
    Path((smartlock, auth)): Path<(i64, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Response> {
    let (mut s, now, body) = fake
        .enter(
            &headers,
            "POST",
            "/smartlock/{smartlockId}/auth/{id}",
            Some(&body),
        )
        .await?;
    let Some(index) = s
        .auths
        .iter()
        .position(|a| a.id == auth && a.smartlock_id == smartlock && !a.gone)
    else {
        return Err(restlet_error(
            StatusCode::NOT_FOUND,
            "Authorization not found",
        ));
    };
    if s.auths[index].pending.is_some() {
        return Err(restlet_error(
            StatusCode::LOCKED,
            "Another operation is pending",
        ));
    }
    let (name, code, window, enabled) = check_body(&s, smartlock, &body, false, Some(&auth))
        .map_err(|(status, description)| restlet_error(status, &description))?;
    let applies_at = now.plus(s.confirm_secs);
    let a = &mut s.auths[index];
    (a.name, a.code, a.window, a.enabled) = (name, code, window, enabled);
    a.pending = Some((Change::Write, applies_at));
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_auth(
    State(fake): State<NukiFake>,
    Path((smartlock, auth)): Path<(i64, String)>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let (mut s, now, _) = fake
        .enter(
            &headers,
            "DELETE",
            "/smartlock/{smartlockId}/auth/{id}",
            None,
        )
        .await?;
    let applies_at = now.plus(s.confirm_secs);
    let Some(a) = s
        .auths
        .iter_mut()
        .find(|a| a.id == auth && a.smartlock_id == smartlock && !a.gone)
    else {
        return Err(restlet_error(
            StatusCode::NOT_FOUND,
            "Authorization not found",
        ));
    };
    if a.pending
        .is_some_and(|(change, _)| change == Change::Delete)
    {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if a.pending.is_some() {
        return Err(restlet_error(
            StatusCode::LOCKED,
            "Another operation is pending",
        ));
    }
    a.pending = Some((Change::Delete, applies_at));
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn unlock(
    State(fake): State<NukiFake>,
    Path(smartlock): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let (s, _, _) = fake
        .enter(
            &headers,
            "POST",
            "/smartlock/{smartlockId}/action/unlock",
            None,
        )
        .await?;
    if !s.locks.contains_key(&smartlock) {
        return Err(restlet_error(StatusCode::NOT_FOUND, "Smartlock not found"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
