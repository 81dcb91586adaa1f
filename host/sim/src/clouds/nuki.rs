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
//! Faults on demand ([`Faults`]): the next requests answered with a given status (429 with
//! `Retry-After`, 500, 503), answers delayed (to time a client out); and a slower
//! confirmation, a lock going offline. What reaches each door is kept by the shared
//! [`LockModel`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use latchkey_engine::clock::Clock;
use latchkey_engine::{Pin, Timestamp, Window};
use latchkey_providers::ProviderError;
use latchkey_providers::nuki::Nuki;
use latchkey_providers::segment::{CodeSegment, HeldCodes};
use latchkey_providers::simulator::Tamper;
use serde_json::{Value, json};

use super::faults::Faults;
use super::model::{Change as LockChange, HeldCode, LockModel};

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
    /// Reachable through its bridge or Wi-Fi, at first.
    pub online: bool,
    /// Battery charge, 0–100 %, at first.
    pub battery_charge: i32,
}

/// The fake Nuki cloud. Cheap to clone; clones share the account.
#[derive(Clone)]
pub struct NukiFake {
    state: Arc<Mutex<Account>>,
    faults: Faults,
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
    /// What reaches each door, keyed by the smartlock id in decimal.
    model: LockModel,
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

impl NukiFake {
    /// An account reachable with `token`, holding `locks`, on `clock`.
    pub fn new(
        token: impl Into<String>,
        locks: Vec<FakeSmartlock>,
        clock: Arc<dyn Clock>,
    ) -> NukiFake {
        let mut model = LockModel::default();
        for l in &locks {
            model.add_lock(
                &l.id.to_string(),
                l.online,
                u8::try_from(l.battery_charge.clamp(0, 100)).unwrap_or(0),
            );
        }
        NukiFake {
            state: Arc::new(Mutex::new(Account {
                token: token.into(),
                locks: locks.into_iter().map(|l| (l.id, l)).collect(),
                auths: Vec::new(),
                next_auth: 1,
                confirm_secs: DEFAULT_CONFIRM_SECS,
                model,
                recorded: Vec::new(),
            })),
            faults: Faults::default(),
            clock,
        }
    }

    /// The routes of the Web API this fake serves.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/smartlock", get(list_locks))
            .route("/smartlock/{smartlock}", get(get_lock))
            .route("/smartlock/{smartlock}/log", get(list_logs))
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
                self.faults.clone(),
                Faults::delay_answers,
            ))
            .with_state(self.clone())
    }

    /// The faults planned for this fake.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Answers the next `count` requests with `status` (and `Retry-After`, in seconds).
    pub fn fail_next(&self, count: usize, status: StatusCode, retry_after: Option<u64>) {
        self.faults.fail_next(count, status, retry_after);
    }

    /// Holds every answer back for `delay` (zero to stop).
    pub fn set_delay(&self, delay: Duration) {
        self.faults.set_delay(delay);
    }

    /// The smartlock ids, in decimal, as the client names devices.
    pub fn devices(&self) -> Vec<String> {
        self.account().locks.keys().map(i64::to_string).collect()
    }

    /// Sets lock `id`'s battery charge (0–100 %).
    pub fn set_battery(&self, id: i64, percent: u8) {
        let mut s = self.account();
        s.model.set_battery(&id.to_string(), percent);
        if let Some(lock) = s.locks.get_mut(&id) {
            lock.battery_charge = i32::from(percent.min(100));
        }
    }

    /// A guest types `pin` on lock `id`'s keypad now; the attempt goes into its log.
    /// Returns whether the door opened.
    pub fn enter_pin(&self, id: i64, pin: &str) -> bool {
        let now = self.clock.now();
        let mut s = self.account();
        s.settle(now);
        s.model.enter_pin(&id.to_string(), pin, now)
    }

    /// Changes the keypad authorization `auth_id` (the API's `id`) in the Nuki app,
    /// behind Latchkey's back: deleted or given another code, in the cloud and on the
    /// lock at once. False when there is no such live authorization.
    pub fn tamper(&self, auth_id: &str, change: Tamper) -> bool {
        let now = self.clock.now();
        let mut s = self.account();
        s.settle(now);
        let Some(index) = s.auths.iter().position(|a| a.id == auth_id && !a.gone) else {
            return false;
        };
        let auth = &mut s.auths[index];
        let lock_change = match change {
            Tamper::Delete => {
                auth.gone = true;
                LockChange::Remove(auth.id.clone())
            }
            Tamper::ChangePin(pin) => {
                let Ok(code) = pin.as_str().parse() else {
                    return false;
                };
                auth.code = code;
                lock_change(auth, Change::Write)
            }
        };
        auth.pending = None;
        let device = auth.smartlock_id.to_string();
        s.model.apply_now(&device, lock_change, now);
        true
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
        // Changes queued while the lock was offline reach it as soon as it is back.
        s.model.set_online(&id.to_string(), online, now);
    }

    /// Whether `pin` opens lock `id` at `at`, as the lock itself decides.
    pub fn opens(&self, id: i64, pin: &str, at: Timestamp) -> bool {
        HeldCodes::opens(self, &id.to_string(), pin, at)
    }

    /// An account of `devices` smart locks with keypads (ids 17001, 17002, …), served on
    /// loopback, and a client connected to it with no rate limit: for the replay across
    /// the clouds.
    ///
    /// # Errors
    /// When no loopback port can be bound, or the client cannot list the locks.
    pub async fn start(
        devices: usize,
        clock: Arc<dyn Clock>,
    ) -> Result<(NukiFake, Nuki), ProviderError> {
        const TOKEN: &str = "replay-nuki-token";
        let locks = (0..devices)
            .map(|i| {
                let id = 17_001 + i64::try_from(i).unwrap_or(0);
                FakeSmartlock {
                    id,
                    name: format!("Door {id}"),
                    kind: 4,
                    keypad: true,
                    online: true,
                    battery_charge: 90,
                }
            })
            .collect();
        let fake = NukiFake::new(TOKEN, locks, clock);
        let settings = super::serve_for_replay(fake.router(), "Nuki").await?;
        let client = Nuki::connect(&settings, TOKEN).await?;
        Ok((fake, client))
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
        if let Some(failure) = self.faults.take_failure() {
            return Err(failure.decorate(restlet_error(failure.status, "injected failure")));
        }
        let mut s = self.account();
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

impl Account {
    /// Brings the cloud's records up to date with what reached the locks by `now`: an
    /// authorization's operation ends once its change has arrived.
    fn settle(&mut self, now: Timestamp) {
        self.model.settle(now);
        let Account { auths, model, .. } = self;
        for auth in auths.iter_mut() {
            let Some((change, _)) = auth.pending else {
                continue;
            };
            if model.is_pending(&auth.smartlock_id.to_string(), &auth.id) {
                continue;
            }
            auth.gone |= change == Change::Delete;
            auth.pending = None;
        }
    }

    /// Records a change to `auth` in the cloud and sends it to the lock, which it reaches
    /// a confirmation later (or once the lock is back online).
    fn send(&mut self, index: usize, change: Change, now: Timestamp) {
        let applies_at = now.plus(self.confirm_secs);
        let auth = &mut self.auths[index];
        auth.pending = Some((change, applies_at));
        let device = auth.smartlock_id.to_string();
        let change = lock_change(auth, change);
        self.model.queue(&device, change, applies_at);
    }

    /// Notes the JSON answered to the request being handled.
    fn answered(&mut self, answer: &Value) {
        if let Some(last) = self.recorded.last_mut() {
            last.answer = Some(answer.clone());
        }
    }
}

/// What a change to `auth` does at the door: a disabled authorization opens nothing.
fn lock_change(auth: &Auth, change: Change) -> LockChange {
    match change {
        Change::Write if auth.enabled => LockChange::Put(HeldCode {
            reference: auth.id.clone(),
            name: auth.name.clone(),
            pin: Pin::new(auth.code.to_string()),
            window: auth.window,
        }),
        _ => LockChange::Remove(auth.id.clone()),
    }
}

impl HeldCodes for NukiFake {
    fn history(&self, device: &str) -> Vec<CodeSegment> {
        let mut s = self.account();
        s.settle(self.clock.now());
        s.model.history(device)
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
    let answer = Value::Array(s.locks.values().map(smartlock_json).collect());
    s.answered(&answer);
    Ok((StatusCode::OK, axum::Json(answer)).into_response())
}

async fn get_lock(
    State(fake): State<NukiFake>,
    Path(smartlock): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let (mut s, _, _) = fake
        .enter(&headers, "GET", "/smartlock/{smartlockId}", None)
        .await?;
    let Some(lock) = s.locks.get(&smartlock) else {
        return Err(restlet_error(StatusCode::NOT_FOUND, "Smartlock not found"));
    };
    let answer = smartlock_json(lock);
    s.answered(&answer);
    Ok((StatusCode::OK, axum::Json(answer)).into_response())
}

/// A smart lock as `GET /smartlock` lists it (`Smartlock` in the spec).
fn smartlock_json(l: &FakeSmartlock) -> Value {
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
}

/// `GET /smartlock/{id}/log` filters read by this fake.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogQuery {
    from_date: Option<String>,
    /// Cursor: only entries older than this id.
    id: Option<String>,
    limit: Option<usize>,
}

async fn list_logs(
    State(fake): State<NukiFake>,
    Path(smartlock): Path<i64>,
    Query(query): Query<LogQuery>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let (mut s, _, _) = fake
        .enter(&headers, "GET", "/smartlock/{smartlockId}/log", None)
        .await?;
    if !s.locks.contains_key(&smartlock) {
        return Err(restlet_error(StatusCode::NOT_FOUND, "Smartlock not found"));
    }
    let limit = query.limit.unwrap_or(20);
    if limit > 50 {
        return Err(restlet_error(
            StatusCode::BAD_REQUEST,
            "Bad parameter: limit is at most 50",
        ));
    }
    let since = match query.from_date.as_deref().map(Timestamp::parse_rfc3339) {
        Some(Ok(at)) => at,
        Some(Err(_)) => {
            return Err(restlet_error(
                StatusCode::BAD_REQUEST,
                "Bad parameter: fromDate is not RFC 3339",
            ));
        }
        None => Timestamp(i64::MIN),
    };
    let older_than = query.id.and_then(|id| u64::from_str_radix(&id, 16).ok());
    // Newest first, as Nuki answers; ids are the keypad sequence in hex (ObjectId-like).
    let answer = Value::Array(
        s.model
            .keypad_log(&smartlock.to_string(), since)
            .iter()
            .rev()
            .filter(|e| older_than.is_none_or(|cursor| e.seq < cursor))
            .take(limit)
            .map(|e| {
                let mut entry = json!({
                    "id": format!("{:024x}", e.seq),
                    "smartlockId": smartlock,
                    "deviceType": 4,
                    "name": e.opened_by.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
                    "action": 1,
                    "trigger": if e.opened_by.is_some() { 255 } else { 253 },
                    "state": if e.opened_by.is_some() { 0 } else { 224 },
                    "autoUnlock": false,
                    "date": e.at.to_rfc3339(),
                    "source": 1,
                });
                if let Some(code) = &e.opened_by {
                    entry["authId"] = json!(code.reference);
                }
                entry
            })
            .collect(),
    );
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
    s.auths.push(Auth {
        id: format!("{n:024x}"),
        auth_id: i64::try_from(n).unwrap_or(i64::MAX),
        smartlock_id: smartlock,
        name,
        code,
        window,
        enabled,
        created_at: now,
        pending: None,
        gone: false,
    });
    let index = s.auths.len() - 1;
    s.send(index, Change::Write, now);
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
    let a = &mut s.auths[index];
    (a.name, a.code, a.window, a.enabled) = (name, code, window, enabled);
    s.send(index, Change::Write, now);
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
    match s.auths[index].pending {
        Some((Change::Delete, _)) => return Ok(StatusCode::NO_CONTENT.into_response()),
        Some(_) => {
            return Err(restlet_error(
                StatusCode::LOCKED,
                "Another operation is pending",
            ));
        }
        None => {}
    }
    s.send(index, Change::Delete, now);
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
