//! A fake of the TTLock Open Platform v3 that follows its published contract (TTLock's
//! document pages and public clients, collected in `../shared/reference/lock-providers.md`
//! §2), keeping its own cloud records (tokens, passcodes, records) and telling the shared
//! [`LockModel`] what reaches each door, when.
//!
//! What it enforces as TTLock does:
//! - `POST /oauth2/token` (form): the password grant with the password's lowercase MD5
//!   (10007 otherwise), the refresh grant (10011 for an unknown refresh token); tokens
//!   expire after [`DEFAULT_TOKEN_LIFETIME_SECS`] (shortened with
//!   [`TtLockFake::set_token_lifetime`]).
//! - Every v3 call: form-encoded (the query for GET; errcode -3 for another body), the
//!   right `clientId` (10000), a live `accessToken` (10004 when unknown or expired) and a
//!   `date` in ms within 5 minutes of the fake's clock (80000). Failures are HTTP 200 with
//!   `{errcode, errmsg, description}`.
//! - Custom passcodes (`keyboardPwd/add`): 4–9 digits (-3006), not sequential or repeated
//!   (-2032), once per lock (-3007), 250 per lock (-3009). `addType` 2 writes through the
//!   gateway at once (no gateway -2012, gateway offline -3002: nothing changes); `addType`
//!   1, the default, only records the code in the cloud: it never reaches the lock.
//!   Minutes are the lock's precision.
//! - Random passcodes (`keyboardPwd/get`, period type 3 only): computed by the lock, so
//!   they reach it whether or not it is online; `startDate` and `endDate` are truncated to
//!   the hour; at most a year. A random code first typed more than 24 hours after its
//!   start is suspended by the lock at that moment ([`TtLockFake::enter_pin`]).
//! - `keyboardPwd/change` and `/delete` reach the lock only with `changeType`/`deleteType`
//!   2 through an online gateway; type 1 (the default) changes the cloud record only.
//!   An unknown passcode is -2009.
//! - `lock/unlock`: a gateway (-2012), online (-3002), the "Remote unlock" switch on
//!   (-4043); logged as record type 12.
//! - Lists are paged (`pageNo`, `pageSize` ≤ 1000 for locks, ≤ 200 otherwise; -3 beyond).
//!
//! Faults on demand: the shared [`Faults`] (an HTTP status with `Retry-After`, answers held
//! back after the change took effect), planned errcodes answered before any effect
//! ([`TtLockFake::fail_next_errcode`], e.g. 30006 rate limit, -3003 gateway busy), an
//! offline gateway, expired tokens.
//!
//! Not modelled: the 30-minute lag before `gateway/listByLock` drops an offline gateway;
//! records of a gateway-less lock waiting for an app sync; Wi-Fi locks; other passcode
//! types.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::Form;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use latchkey_engine::clock::Clock;
use latchkey_engine::{Pin, Timestamp, Window};
use latchkey_providers::ProviderError;
use latchkey_providers::segment::{CodeSegment, HeldCodes};
use latchkey_providers::simulator::Tamper;
use latchkey_providers::ttlock::{TtLock, TtLockCredentials, password_md5};
use md5::{Digest, Md5};
use serde_json::{Value, json};

use super::faults::Faults;
use super::model::{Change, HeldCode, LockModel};

/// Seconds an access token lives by default (90 days, as TTLock issues them).
pub const DEFAULT_TOKEN_LIFETIME_SECS: i64 = 7_776_000;
/// How far `date` may be from the fake's clock, in ms (5 minutes).
pub const DATE_TOLERANCE_MS: i64 = 300_000;
/// Custom passcodes one lock holds.
pub const MAX_CUSTOM_PASSCODES: usize = 250;
/// Seconds after its start within which a random passcode must first be typed.
pub const FIRST_USE_SECS: i64 = 24 * 3600;
/// The first lock id of the replay account ([`start`]).
pub const FIRST_REPLAY_LOCK: i64 = 5_100_001;

/// The developer application and app account the fake accepts.
#[derive(Clone)]
pub struct FakeAccount {
    /// `clientId`.
    pub client_id: String,
    /// `clientSecret`.
    pub client_secret: String,
    /// The TTLock app account's user name.
    pub username: String,
    /// Its password in clear (the fake compares its MD5).
    pub password: String,
}

impl FakeAccount {
    /// The credentials a client signs in to this account with.
    pub fn credentials(&self) -> TtLockCredentials {
        TtLockCredentials {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }
}

impl std::fmt::Debug for FakeAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAccount")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A lock in the fake account.
#[derive(Debug, Clone)]
pub struct FakeLock {
    /// `lockId`.
    pub lock_id: i64,
    /// `lockAlias`, the name in the app.
    pub alias: String,
    /// A gateway serves the lock (`hasGateway` 1); it starts online.
    pub has_gateway: bool,
    /// `electricQuantity`, 0–100 %.
    pub battery_percent: u8,
    /// The "Remote unlock" switch in the TTLock app.
    pub remote_unlock: bool,
}

/// A request as the fake received it, secrets redacted, with the errcode answered (0 for
/// success).
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path, e.g. `/v3/keyboardPwd/add`.
    pub path: &'static str,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The form fields (the query for GET); `accessToken`, `clientSecret`, `password` and
    /// `refresh_token` read `<redacted>`.
    pub params: BTreeMap<String, String>,
    /// The errcode answered; 0 for success.
    pub errcode: i64,
}

/// The fake TTLock cloud. Cheap to clone; clones share the account.
#[derive(Clone)]
pub struct TtLockFake {
    state: Arc<Mutex<Cloud>>,
    clock: Arc<dyn Clock>,
    faults: Faults,
}

impl std::fmt::Debug for TtLockFake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtLockFake")
            .field("devices", &self.devices())
            .finish_non_exhaustive()
    }
}

type Params = BTreeMap<String, String>;
/// A refusal: errcode and message.
type Refuse = (i64, String);
type Op = fn(&mut Cloud, Timestamp, &Params) -> Result<Value, Refuse>;

struct Cloud {
    account: FakeAccount,
    password_md5: String,
    token_lifetime: i64,
    tokens: Vec<Issued>,
    next_id: i64,
    locks: BTreeMap<i64, LockState>,
    model: LockModel,
    passcodes: Vec<Stored>,
    records: Vec<Record>,
    planned: VecDeque<i64>,
    recorded: Vec<Recorded>,
}

struct Issued {
    access: String,
    refresh: String,
    expires_at: Timestamp,
    /// False once refreshed: the pair is replaced.
    live: bool,
}

struct LockState {
    alias: String,
    has_gateway: bool,
    remote_unlock: bool,
}

/// A passcode as the cloud records it.
#[derive(Debug, Clone)]
struct Stored {
    id: i64,
    lock_id: i64,
    pwd: String,
    name: String,
    kind: i64,
    start_ms: i64,
    end_ms: i64,
    custom: bool,
    send_ms: i64,
    /// Typed successfully at least once (random codes: the 24-hour rule is met).
    used: bool,
    /// Suspended by the lock under the 24-hour rule.
    suspended: bool,
}

impl Stored {
    fn held(&self) -> HeldCode {
        HeldCode {
            reference: self.id.to_string(),
            name: self.name.clone(),
            pin: Pin::new(self.pwd.clone()),
            window: Window {
                starts_at: from_ms(self.start_ms),
                // Permanent codes (type 2) have no end.
                ends_at: if self.kind == 2 {
                    Timestamp(i64::MAX)
                } else {
                    from_ms(self.end_ms)
                },
            },
        }
    }
}

/// A lock record the fake writes itself (remote unlocks); keypad records come from the
/// model's keypad log.
struct Record {
    id: i64,
    lock_id: i64,
    record_type: i64,
    username: String,
    at: Timestamp,
}

impl TtLockFake {
    /// An account for `account` holding `locks`, on `clock`.
    pub fn new(account: FakeAccount, locks: Vec<FakeLock>, clock: Arc<dyn Clock>) -> TtLockFake {
        let mut model = LockModel::default();
        let mut states = BTreeMap::new();
        for lock in locks {
            // The model's "online" is the gateway's: a gateway-less lock is never reached.
            model.add_lock(
                &lock.lock_id.to_string(),
                lock.has_gateway,
                lock.battery_percent,
            );
            states.insert(
                lock.lock_id,
                LockState {
                    alias: lock.alias,
                    has_gateway: lock.has_gateway,
                    remote_unlock: lock.remote_unlock,
                },
            );
        }
        TtLockFake {
            state: Arc::new(Mutex::new(Cloud {
                password_md5: password_md5(&account.password),
                account,
                token_lifetime: DEFAULT_TOKEN_LIFETIME_SECS,
                tokens: Vec::new(),
                next_id: 1,
                locks: states,
                model,
                passcodes: Vec::new(),
                records: Vec::new(),
                planned: VecDeque::new(),
                recorded: Vec::new(),
            })),
            clock,
            faults: Faults::default(),
        }
    }

    /// The routes of the Open Platform this fake serves.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/oauth2/token", self.route(false, "/oauth2/token", None))
            .route(
                "/v3/lock/list",
                self.route(true, "/v3/lock/list", Some(list_locks)),
            )
            .route(
                "/v3/lock/detail",
                self.route(true, "/v3/lock/detail", Some(lock_detail)),
            )
            .route(
                "/v3/gateway/listByLock",
                self.route(true, "/v3/gateway/listByLock", Some(gateways_by_lock)),
            )
            .route(
                "/v3/lock/listKeyboardPwd",
                self.route(true, "/v3/lock/listKeyboardPwd", Some(list_passcodes)),
            )
            .route(
                "/v3/keyboardPwd/add",
                self.route(false, "/v3/keyboardPwd/add", Some(add_passcode)),
            )
            .route(
                "/v3/keyboardPwd/get",
                self.route(false, "/v3/keyboardPwd/get", Some(get_random_passcode)),
            )
            .route(
                "/v3/keyboardPwd/change",
                self.route(false, "/v3/keyboardPwd/change", Some(change_passcode)),
            )
            .route(
                "/v3/keyboardPwd/delete",
                self.route(false, "/v3/keyboardPwd/delete", Some(delete_passcode)),
            )
            .route(
                "/v3/lock/unlock",
                self.route(false, "/v3/lock/unlock", Some(unlock)),
            )
            .route(
                "/v3/lockRecord/list",
                self.route(true, "/v3/lockRecord/list", Some(list_records)),
            )
            .layer(axum::middleware::from_fn_with_state(
                self.faults.clone(),
                Faults::delay_answers,
            ))
    }

    /// The shared fault plan: HTTP failures and held-back answers.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Answers the next `count` v3 calls (after authentication) with `errcode`, in
    /// TTLock's body, before they take any effect: 30006 for the call-rate limit, -3003
    /// gateway busy, 30007 quota…
    pub fn fail_next_errcode(&self, count: usize, errcode: i64) {
        self.cloud()
            .planned
            .extend(std::iter::repeat_n(errcode, count));
    }

    /// Seconds the tokens issued from now on live.
    pub fn set_token_lifetime(&self, secs: i64) {
        self.cloud().token_lifetime = secs;
    }

    /// Expires every access token issued so far (refresh tokens stay valid).
    pub fn expire_tokens(&self) {
        let now = self.clock.now();
        for token in &mut self.cloud().tokens {
            token.expires_at = token.expires_at.min(now);
        }
    }

    /// Takes the gateway of lock `device` offline or back online; nothing reaches the lock
    /// while it is offline.
    pub fn set_online(&self, device: &str, online: bool) {
        let now = self.clock.now();
        self.cloud().model.set_online(device, online, now);
    }

    /// Sets lock `device`'s battery charge in percent.
    pub fn set_battery(&self, device: &str, percent: u8) {
        self.cloud().model.set_battery(device, percent);
    }

    /// Turns the "Remote unlock" switch of lock `device` on or off.
    pub fn set_remote_unlock(&self, device: &str, enabled: bool) {
        let Some(id) = parse_id(device) else {
            return;
        };
        if let Some(lock) = self.cloud().locks.get_mut(&id) {
            lock.remote_unlock = enabled;
        }
    }

    /// A guest types `pin` on lock `device` now; the attempt goes into the lock's records.
    /// Returns whether the door opened. A random passcode typed for the first time more
    /// than 24 hours after its start is suspended by the lock first (§2.4).
    pub fn enter_pin(&self, device: &str, pin: &str) -> bool {
        let now = self.clock.now();
        let Some(lock_id) = parse_id(device) else {
            return false;
        };
        let mut cloud = self.cloud();
        let Cloud {
            passcodes, model, ..
        } = &mut *cloud;
        for p in passcodes.iter_mut().filter(|p| {
            p.lock_id == lock_id
                && !p.custom
                && !p.used
                && !p.suspended
                && p.pwd == pin
                && ms(now) >= p.start_ms.saturating_add(FIRST_USE_SECS * 1000)
        }) {
            p.suspended = true;
            model.apply_now(device, Change::Remove(p.id.to_string()), now);
        }
        let opened = model.enter_pin(device, pin, now);
        if opened {
            let by = model
                .keypad_log(device, now)
                .last()
                .and_then(|e| e.opened_by.as_ref())
                .map(|c| c.reference.clone());
            if let Some(p) = passcodes
                .iter_mut()
                .find(|p| by.as_deref() == Some(p.id.to_string().as_str()))
            {
                p.used = true;
            }
        }
        opened
    }

    /// Changes passcode `id` in the TTLock app, behind Latchkey's back: deleted or given
    /// another PIN, in the cloud and on the lock at once (as over Bluetooth). False when
    /// there is no such passcode.
    pub fn tamper(&self, id: i64, change: Tamper) -> bool {
        let now = self.clock.now();
        let mut c = self.cloud();
        let Some(index) = c.passcodes.iter().position(|p| p.id == id) else {
            return false;
        };
        let device = c.passcodes[index].lock_id.to_string();
        let lock_change = match change {
            Tamper::Delete => Change::Remove(c.passcodes.remove(index).id.to_string()),
            Tamper::ChangePin(pin) => {
                c.passcodes[index].pwd = pin.as_str().to_owned();
                Change::Put(c.passcodes[index].held())
            }
        };
        c.model.apply_now(&device, lock_change, now);
        true
    }

    /// The lock ids, as the client uses them.
    pub fn devices(&self) -> Vec<String> {
        self.cloud().locks.keys().map(i64::to_string).collect()
    }

    /// Every request received so far, secrets redacted.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.cloud().recorded.clone()
    }

    fn cloud(&self) -> MutexGuard<'_, Cloud> {
        // Every change to the account is made whole under the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A route answering form requests with `op` (`None`: the token endpoint).
    fn route(&self, is_get: bool, path: &'static str, op: Option<Op>) -> MethodRouter {
        let fake = self.clone();
        let handler = move |headers: HeaderMap, form: Result<Form<Params>, FormRejection>| {
            let fake = fake.clone();
            async move {
                let method = if is_get { "GET" } else { "POST" };
                fake.answer(method, path, &headers, form, op)
            }
        };
        if is_get { get(handler) } else { post(handler) }
    }

    /// The common part of every route: injected HTTP failures, the form, authentication
    /// and `date` for v3 calls, planned errcodes, recording, and TTLock's error body.
    fn answer(
        &self,
        method: &'static str,
        path: &'static str,
        headers: &HeaderMap,
        form: Result<Form<Params>, FormRejection>,
        op: Option<Op>,
    ) -> Response {
        if let Some(failure) = self.faults.take_failure() {
            let body = json!({
                "errcode": 1,
                "errmsg": "failed",
                "description": format!("injected failure: {}", failure.status),
            });
            return failure.decorate((failure.status, axum::Json(body)).into_response());
        }
        let now = self.clock.now();
        let mut cloud = self.cloud();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (params, result) = match form {
            Err(rejection) => (
                Params::new(),
                Err((
                    -3,
                    format!(
                        "invalid parameter: send application/x-www-form-urlencoded ({rejection})"
                    ),
                )),
            ),
            Ok(Form(params)) => {
                let result = match op {
                    None => cloud.token(now, &params),
                    Some(op) => cloud.v3(now, &params, op),
                };
                (params, result)
            }
        };
        let body = match result {
            Ok(value) => value,
            Err((code, msg)) => json!({"errcode": code, "errmsg": msg, "description": msg}),
        };
        let errcode = body.get("errcode").and_then(Value::as_i64).unwrap_or(0);
        cloud.recorded.push(Recorded {
            method,
            path,
            content_type,
            params: redact(params),
            errcode,
        });
        axum::Json(body).into_response()
    }
}

impl HeldCodes for TtLockFake {
    fn history(&self, device: &str) -> Vec<CodeSegment> {
        self.cloud().model.history(device)
    }
}

/// An account with `devices` locks, alternately with a gateway (even indexes) and without,
/// served on loopback, and a client signed in to it with no rate limit and a 10 s timeout,
/// both on `clock`: what the replay runs against.
///
/// # Errors
/// [`ProviderError::Unavailable`] when no loopback port can be bound; the client's errors.
pub async fn start(
    devices: usize,
    clock: Arc<dyn Clock>,
) -> Result<(TtLockFake, TtLock), ProviderError> {
    let account = FakeAccount {
        client_id: "latchkey-replay".into(),
        client_secret: "replay-client-secret".into(),
        username: "replay-owner".into(),
        password: "replay-password".into(),
    };
    let locks = (0..devices)
        .map(|i| FakeLock {
            lock_id: FIRST_REPLAY_LOCK.saturating_add(i64::try_from(i).unwrap_or(i64::MAX)),
            alias: format!("Door {}", i + 1),
            has_gateway: i % 2 == 0,
            battery_percent: 80,
            remote_unlock: true,
        })
        .collect();
    let fake = TtLockFake::new(account.clone(), locks, Arc::clone(&clock));
    let settings = super::serve_for_replay(fake.router(), "TTLock").await?;
    let client = TtLock::connect_with_clock(&settings, account.credentials(), clock).await?;
    Ok((fake, client))
}

impl Cloud {
    /// `POST /oauth2/token`: the password and refresh grants.
    fn token(&mut self, now: Timestamp, params: &Params) -> Result<Value, Refuse> {
        if param(params, "clientId") != Some(self.account.client_id.as_str()) {
            return refuse(10000, "invalid client_id");
        }
        if param(params, "clientSecret") != Some(self.account.client_secret.as_str()) {
            return refuse(10001, "invalid client");
        }
        match param(params, "grant_type") {
            Some("refresh_token") => {
                let given = param(params, "refresh_token");
                let Some(old) = self
                    .tokens
                    .iter_mut()
                    .find(|t| t.live && Some(t.refresh.as_str()) == given)
                else {
                    return refuse(10011, "invalid refresh_token");
                };
                old.live = false;
            }
            None | Some("password") => {
                if param(params, "username") != Some(self.account.username.as_str())
                    || param(params, "password") != Some(self.password_md5.as_str())
                {
                    return refuse(10007, "invalid account or invalid password");
                }
            }
            Some(_) => return refuse(-3, "invalid parameter: grant_type"),
        }
        let n = self.next_id();
        let issued = Issued {
            access: format!("ttl-at-{n:08x}"),
            refresh: format!("ttl-rt-{n:08x}"),
            expires_at: now.plus(self.token_lifetime),
            live: true,
        };
        let answer = json!({
            "access_token": issued.access,
            "uid": 1001,
            "openid": 1001,
            "scope": "user,key,room",
            "token_type": "Bearer",
            "refresh_token": issued.refresh,
            "expires_in": self.token_lifetime,
        });
        self.tokens.push(issued);
        Ok(answer)
    }

    /// The checks every v3 call passes before `op` runs.
    fn v3(&mut self, now: Timestamp, params: &Params, op: Op) -> Result<Value, Refuse> {
        if param(params, "clientId") != Some(self.account.client_id.as_str()) {
            return refuse(10000, "invalid client_id");
        }
        let token = param(params, "accessToken");
        if !self
            .tokens
            .iter()
            .any(|t| t.live && Some(t.access.as_str()) == token && now < t.expires_at)
        {
            return refuse(
                10004,
                "invalid grant: the access token is invalid or expired",
            );
        }
        let date = int(params, "date")?;
        if (date - ms(now)).abs() > DATE_TOLERANCE_MS {
            return refuse(
                80000,
                "date must be the current time, in milliseconds, within 5 minutes",
            );
        }
        if let Some(code) = self.planned.pop_front() {
            return refuse(code, "planned failure");
        }
        op(self, now, params)
    }

    fn next_id(&mut self) -> i64 {
        let n = self.next_id;
        self.next_id += 1;
        n
    }

    /// The lock named by `lockId`: -1003 when there is none.
    fn lock(&self, params: &Params) -> Result<(i64, &LockState), Refuse> {
        let id = int(params, "lockId")?;
        self.locks
            .get(&id)
            .map(|l| (id, l))
            .ok_or((-1003, "lock does not exist".into()))
    }

    /// A gateway write to lock `id` is possible now: -2012 without a gateway, -3002 while
    /// it is offline.
    fn gateway_ready(&self, id: i64) -> Result<(), Refuse> {
        let has_gateway = self.locks.get(&id).is_some_and(|l| l.has_gateway);
        if !has_gateway {
            return refuse(-2012, "the lock is not connected to any gateway");
        }
        if !self.model.is_online(&id.to_string()) {
            return refuse(-3002, "the gateway is offline");
        }
        Ok(())
    }

    fn passcode_index(&self, lock_id: i64, params: &Params) -> Result<usize, Refuse> {
        let id = int(params, "keyboardPwdId")?;
        self.passcodes
            .iter()
            .position(|p| p.id == id && p.lock_id == lock_id)
            .ok_or((-2009, "passcode does not exist".into()))
    }

    /// A custom PIN's rules on lock `lock_id`, other than passcode `except`.
    fn check_pin(&self, lock_id: i64, pin: &str, except: Option<i64>) -> Result<(), Refuse> {
        if !(4..=9).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return refuse(-3006, "passcode must be 4 to 9 digits");
        }
        if too_simple(pin) {
            return refuse(-2032, "passcode is too simple");
        }
        if self
            .passcodes
            .iter()
            .any(|p| p.lock_id == lock_id && p.pwd == pin && Some(p.id) != except)
        {
            return refuse(-3007, "the same passcode already exists");
        }
        Ok(())
    }

    fn lock_json(&self, id: i64, lock: &LockState, now: Timestamp) -> Value {
        json!({
            "lockId": id,
            "lockName": format!("S31_{:06x}", id & 0xff_ffff),
            "lockAlias": lock.alias,
            "lockMac": format!("C1:5A:{:02X}:{:02X}:{:02X}:0E", (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff),
            "electricQuantity": self.model.battery_percent(&id.to_string()),
            "featureValue": "F44354D5F5F7",
            "hasGateway": i32::from(lock.has_gateway),
            "lockData": "fake-lock-data",
            "groupId": 0,
            "groupName": "",
            "date": ms(now),
        })
    }
}

fn refuse<T>(code: i64, msg: &str) -> Result<T, Refuse> {
    Err((code, msg.to_owned()))
}

fn param<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params.get(key).map(String::as_str)
}

/// A required integer field: -3 when it is missing or not a number.
fn int(params: &Params, key: &str) -> Result<i64, Refuse> {
    opt_int(params, key)?.ok_or_else(|| (-3, format!("invalid parameter: {key} is required")))
}

fn opt_int(params: &Params, key: &str) -> Result<Option<i64>, Refuse> {
    param(params, key)
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| (-3, format!("invalid parameter: {key}")))
        })
        .transpose()
}

fn parse_id(device: &str) -> Option<i64> {
    device.parse().ok()
}

fn ms(at: Timestamp) -> i64 {
    at.unix().saturating_mul(1000)
}

fn from_ms(ms: i64) -> Timestamp {
    Timestamp(ms.div_euclid(1000))
}

fn redact(mut params: Params) -> Params {
    for key in ["accessToken", "clientSecret", "password", "refresh_token"] {
        if let Some(value) = params.get_mut(key) {
            *value = "<redacted>".into();
        }
    }
    params
}

/// Sequential (ascending or descending) or repeated digits: TTLock's -2032.
fn too_simple(pin: &str) -> bool {
    let digits: Vec<i16> = pin
        .bytes()
        .map(|b| i16::from(b) - i16::from(b'0'))
        .collect();
    let steps: Vec<i16> = digits.windows(2).map(|w| w[1] - w[0]).collect();
    [0, 1, -1]
        .iter()
        .any(|step| steps.iter().all(|s| s == step))
}

/// One page of `items`: `pageNo` from 1, `pageSize` (default 20) at most `max`.
fn page(items: Vec<Value>, params: &Params, max: i64) -> Result<Value, Refuse> {
    let page_no = opt_int(params, "pageNo")?.unwrap_or(1);
    let page_size = opt_int(params, "pageSize")?.unwrap_or(20);
    if page_no < 1 || !(1..=max).contains(&page_size) {
        return refuse(-3, "invalid parameter: pageNo or pageSize");
    }
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let pages = (total + page_size - 1) / page_size;
    let skip = usize::try_from((page_no - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let take = usize::try_from(page_size).unwrap_or(0);
    let list: Vec<Value> = items.into_iter().skip(skip).take(take).collect();
    Ok(json!({
        "list": list,
        "pageNo": page_no,
        "pageSize": page_size,
        "pages": pages,
        "total": total,
    }))
}

fn ok_body() -> Value {
    json!({"errcode": 0, "errmsg": "none", "description": ""})
}

fn list_locks(c: &mut Cloud, now: Timestamp, params: &Params) -> Result<Value, Refuse> {
    let items = c
        .locks
        .iter()
        .map(|(id, lock)| c.lock_json(*id, lock, now))
        .collect();
    page(items, params, 1000)
}

fn lock_detail(c: &mut Cloud, now: Timestamp, params: &Params) -> Result<Value, Refuse> {
    let (id, lock) = c.lock(params)?;
    let mut detail = c.lock_json(id, lock, now);
    for (key, value) in [
        ("timezoneRawOffset", json!(0)),
        ("autoLockTime", json!(-1)),
        ("passageMode", json!(2)),
        ("firmwareRevision", json!("6.0.6.210622")),
        ("modelNum", json!("SN139-S31_PV53")),
        ("hardwareRevision", json!("1.3")),
    ] {
        detail[key] = value;
    }
    Ok(detail)
}

fn gateways_by_lock(c: &mut Cloud, now: Timestamp, params: &Params) -> Result<Value, Refuse> {
    let (id, lock) = c.lock(params)?;
    let list = if lock.has_gateway && c.model.is_online(&id.to_string()) {
        vec![json!({
            "gatewayId": 900_000 + (id % 100_000),
            "gatewayMac": "52:E3:D6:1A:0C:11",
            "gatewayName": "G2",
            "rssi": -61,
            "rssiGrade": 2,
            "updateDate": ms(now),
        })]
    } else {
        Vec::new()
    };
    Ok(json!({ "list": list }))
}

fn list_passcodes(c: &mut Cloud, _: Timestamp, params: &Params) -> Result<Value, Refuse> {
    let (id, _) = c.lock(params)?;
    let username = c.account.username.clone();
    let items = c
        .passcodes
        .iter()
        .rev()
        .filter(|p| p.lock_id == id)
        .map(|p| {
            json!({
                "keyboardPwdId": p.id,
                "lockId": p.lock_id,
                "keyboardPwd": p.pwd,
                "keyboardPwdName": p.name,
                "keyboardPwdType": p.kind,
                "keyboardPwdVersion": 4,
                "startDate": p.start_ms,
                "endDate": p.end_ms,
                "sendDate": p.send_ms,
                "isCustom": i32::from(p.custom),
                "senderUsername": username,
                "status": 1,
            })
        })
        .collect();
    page(items, params, 200)
}

/// The validity of a period (3) or permanent (2) passcode, in ms, truncated to `step_ms`.
fn validity(params: &Params, step_ms: i64) -> Result<(i64, i64, i64), Refuse> {
    let kind = opt_int(params, "keyboardPwdType")?.unwrap_or(3);
    match kind {
        2 => Ok((kind, 0, 0)),
        3 => {
            let start = int(params, "startDate")?;
            let end = int(params, "endDate")?;
            let (start, end) = (
                start.div_euclid(step_ms) * step_ms,
                end.div_euclid(step_ms) * step_ms,
            );
            if end <= start {
                return refuse(-3, "invalid parameter: endDate must be after startDate");
            }
            Ok((kind, start, end))
        }
        _ => refuse(
            -3,
            "invalid parameter: keyboardPwdType (the fake serves 2 and 3)",
        ),
    }
}

fn add_passcode(c: &mut Cloud, now: Timestamp, params: &Params) -> Result<Value, Refuse> {
    let (lock_id, _) = c.lock(params)?;
    let pin = param(params, "keyboardPwd").unwrap_or("");
    c.check_pin(lock_id, pin, None)?;
    let (kind, start_ms, end_ms) = validity(params, 60_000)?;
    let custom_count = c
        .passcodes
        .iter()
        .filter(|p| p.lock_id == lock_id && p.custom)
        .count();
    if custom_count >= MAX_CUSTOM_PASSCODES {
        return refuse(-3009, "the custom passcode storage of the lock is full");
    }
    let add_type = opt_int(params, "addType")?.unwrap_or(1);
    match add_type {
        1 => {}
        2 => c.gateway_ready(lock_id)?,
        _ => return refuse(-3, "invalid parameter: addType (the fake serves 1 and 2)"),
    }
    let id = c.next_id();
    let stored = Stored {
        id,
        lock_id,
        pwd: pin.to_owned(),
        name: param(params, "keyboardPwdName").unwrap_or("").to_owned(),
        kind,
        start_ms,
        end_ms,
        custom: true,
        send_ms: ms(now),
        used: false,
        suspended: false,
    };
    if add_type == 2 {
        c.model
            .apply_now(&lock_id.to_string(), Change::Put(stored.held()), now);
    }
    c.passcodes.push(stored);
    Ok(json!({ "keyboardPwdId": id }))
}

fn get_random_passcode(c: &mut Cloud, now: Timestamp, params: &Params) -> Result<Value, Refuse> {
    let (lock_id, _) = c.lock(params)?;
    let (kind, start_ms, end_ms) = validity(params, 3_600_000)?;
    if kind != 3 {
        return refuse(
            -3,
            "invalid parameter: the fake serves period random passcodes only",
        );
    }
    if end_ms - start_ms > 366 * 24 * 3_600_000 {
        return refuse(
            -3,
            "invalid parameter: a period passcode spans at most a year",
        );
    }
    let id = c.next_id();
    let Some(pwd) = (0..1000).find_map(|attempt| {
        let digest = Md5::digest(format!("{lock_id}:{start_ms}:{end_ms}:{id}:{attempt}"));
        let n = digest
            .iter()
            .take(8)
            .fold(0_u64, |acc, b| (acc << 8) | u64::from(*b));
        let pwd = format!("{:08}", n % 100_000_000);
        let taken = c
            .passcodes
            .iter()
            .any(|p| p.lock_id == lock_id && p.pwd == pwd);
        (!taken && !too_simple(&pwd)).then_some(pwd)
    }) else {
        return refuse(1, "failed to generate a passcode");
    };
    let stored = Stored {
        id,
        lock_id,
        pwd: pwd.clone(),
        name: param(params, "keyboardPwdName").unwrap_or("").to_owned(),
        kind,
        start_ms,
        end_ms,
        custom: false,
        send_ms: ms(now),
        used: false,
        suspended: false,
    };
    // The lock computes the code from its own secret: nothing has to reach it.
    c.model
        .apply_now(&lock_id.to_string(), Change::Put(stored.held()), now);
    c.passcodes.push(stored);
    Ok(json!({ "keyboardPwdId": id, "keyboardPwd": pwd }))
}

fn change_passcode(c: &mut Cloud, now: Timestamp, params: &Params) -> Result<Value, Refuse> {
    let (lock_id, _) = c.lock(params)?;
    let index = c.passcode_index(lock_id, params)?;
    let current = c.passcodes[index].clone();
    let new_pwd = param(params, "newKeyboardPwd").filter(|p| !p.is_empty());
    let start = opt_int(params, "startDate")?;
    let end = opt_int(params, "endDate")?;
    let mut next = current.clone();
    if let Some(name) = param(params, "keyboardPwdName") {
        next.name = name.to_owned();
    }
    let on_lock = new_pwd.is_some() || start.is_some() || end.is_some();
    if on_lock {
        if !current.custom && !current.used {
            return refuse(-3008, "a passcode never used on the lock cannot be changed");
        }
        if let Some(pwd) = new_pwd {
            c.check_pin(lock_id, pwd, Some(current.id))?;
            next.pwd = pwd.to_owned();
        }
        next.start_ms = start.map_or(next.start_ms, |s| s.div_euclid(60_000) * 60_000);
        next.end_ms = end.map_or(next.end_ms, |e| e.div_euclid(60_000) * 60_000);
        if next.end_ms <= next.start_ms {
            return refuse(-3, "invalid parameter: endDate must be after startDate");
        }
        match opt_int(params, "changeType")?.unwrap_or(1) {
            // Bluetooth: the app already changed the lock; the cloud only records it.
            1 => {}
            2 => {
                c.gateway_ready(lock_id)?;
                c.model
                    .apply_now(&lock_id.to_string(), Change::Put(next.held()), now);
            }
            _ => return refuse(-3, "invalid parameter: changeType"),
        }
    }
    c.passcodes[index] = next;
    Ok(ok_body())
}

fn delete_passcode(c: &mut Cloud, now: Timestamp, params: &Params) -> Result<Value, Refuse> {
    let (lock_id, _) = c.lock(params)?;
    let index = c.passcode_index(lock_id, params)?;
    match opt_int(params, "deleteType")?.unwrap_or(1) {
        // Bluetooth: the app already deleted it from the lock; the cloud forgets it.
        1 => {}
        2 => {
            c.gateway_ready(lock_id)?;
            let reference = c.passcodes[index].id.to_string();
            c.model
                .apply_now(&lock_id.to_string(), Change::Remove(reference), now);
        }
        _ => {
            return refuse(
                -3,
                "invalid parameter: deleteType (the fake serves 1 and 2)",
            );
        }
    }
    c.passcodes.remove(index);
    Ok(ok_body())
}

fn unlock(c: &mut Cloud, now: Timestamp, params: &Params) -> Result<Value, Refuse> {
    let (lock_id, lock) = c.lock(params)?;
    if !lock.remote_unlock {
        return refuse(
            -4043,
            "the function is not supported for this lock: remote unlock is off",
        );
    }
    c.gateway_ready(lock_id)?;
    let id = c.next_id();
    let username = c.account.username.clone();
    c.records.push(Record {
        id,
        lock_id,
        record_type: 12,
        username,
        at: now,
    });
    Ok(ok_body())
}

/// Keypad records (type 4) come from the model's keypad log, the fake's own records
/// (remote unlocks) from the cloud; newest first.
fn list_records(c: &mut Cloud, now: Timestamp, params: &Params) -> Result<Value, Refuse> {
    let (lock_id, _) = c.lock(params)?;
    let start = int(params, "startDate")?;
    let end = int(params, "endDate")?;
    let device = lock_id.to_string();
    let mut records: Vec<(i64, i64, Value)> = c
        .model
        .keypad_log(&device, from_ms(start))
        .into_iter()
        .map(|e| {
            let record_id = i64::try_from(e.seq)
                .unwrap_or(i64::MAX - 1)
                .saturating_add(1);
            let name = e.opened_by.as_ref().map_or("", |c| c.name.as_str());
            let at = ms(e.at);
            (
                at,
                record_id,
                json!({
                    "recordId": record_id,
                    "lockId": lock_id,
                    "recordTypeFromLock": if e.opened_by.is_some() { 4 } else { 7 },
                    "recordType": 4,
                    "success": i32::from(e.opened_by.is_some()),
                    "username": name,
                    "keyboardPwd": e.pin.as_str(),
                    "lockDate": at,
                    "serverDate": ms(now),
                }),
            )
        })
        .collect();
    records.extend(c.records.iter().filter(|r| r.lock_id == lock_id).map(|r| {
        let record_id = 1_000_000_000 + r.id;
        let at = ms(r.at);
        (
            at,
            record_id,
            json!({
                "recordId": record_id,
                "lockId": lock_id,
                "recordTypeFromLock": 28,
                "recordType": r.record_type,
                "success": 1,
                "username": r.username,
                "keyboardPwd": "",
                "lockDate": at,
                "serverDate": at,
            }),
        )
    }));
    records.retain(|(at, _, _)| (start..=end).contains(at));
    records.sort_by_key(|r| std::cmp::Reverse((r.0, r.1)));
    page(
        records.into_iter().map(|(_, _, v)| v).collect(),
        params,
        200,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_pins_are_sequential_or_repeated() {
        for simple in ["123456", "987654", "111111", "0000", "456789"] {
            assert!(too_simple(simple), "{simple}");
        }
        for fine in ["480613", "135792", "112233", "909090"] {
            assert!(!too_simple(fine), "{fine}");
        }
    }

    #[test]
    fn pages_are_bounded_and_counted() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let params: Params = [("pageNo", "2"), ("pageSize", "2")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let answer = page(items.clone(), &params, 200).expect("a page");
        assert_eq!(answer["list"], json!([2, 3]));
        assert_eq!(
            (answer["pages"].as_i64(), answer["total"].as_i64()),
            (Some(3), Some(5))
        );
        let too_big: Params = [("pageSize".to_owned(), "201".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(page(items, &too_big, 200).map_err(|e| e.0), Err(-3));
    }
}
