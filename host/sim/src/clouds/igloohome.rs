//! A fake of the igloohome (iglooaccess) cloud that follows its published contract
//! (`../shared/reference/lock-providers.md` §3), on the shared [`LockModel`] and
//! [`Faults`].
//!
//! One router serves both the OAuth2 server (`POST /oauth2/token`) and the API
//! (`/igloohome/…`), so a test may give the client the same loopback URL for both.
//!
//! What it enforces as igloohome does (§3): HTTP Basic client credentials and
//! `grant_type=client_credentials` for tokens, which expire after [`TOKEN_SECS`] of model
//! time (401 afterwards); bearer tokens on the API; errors as
//! `{"status":"ERROR","code":"422","message":"…"}`; hour-aligned ISO-8601 dates with an
//! offset (422 otherwise); hourly algoPINs of 1–672 h, daily ones of 29–367 days with the
//! same time of day at both ends, nothing over 367 days ("Exceeded the limit of 367
//! days"); `variance` 1–3 and at most 3 PINs per identical slot (422 for the 4th);
//! `accessName` ≤ 60 characters; algoPINs computed by the lock (deterministic in lock,
//! slot and variance), on the lock from the answer on, online or not, and **never active
//! if a PIN valid for more than 24 h is not used within 24 h of its start**; bridge jobs
//! (`jobType` 2 unlock, 4 create PIN, 5 delete PIN, 15 activity log) that reach the lock
//! [`DEFAULT_JOB_SECS`] later (configurable), never while the lock or its bridge is
//! offline, and fail (`jobStatus` 2) when not run by their `expiryDate`
//! ([`JOB_EXPIRY_SECS`]); a bridge with [`MAX_PENDING_JOBS`] pending jobs refuses more
//! (422 "too many pending jobs", after Seam's `igloohome_bridge_too_many_pending_jobs`);
//! at most 199 PINs per lock.
//!
//! Assumptions where the sources are silent (the client documents the same): devices
//! are paged with `?cursor=`; a custom PIN is 6–8 digits and unique on its lock (409);
//! the activity job's `jobResponse` is `{jobStatus, logs:[{id, date, type, pin,
//! accessName}]}`; the expiry of a job is 24 h.
//!
//! Faults on demand ([`Faults`]): the next API requests answered with a status (429 with
//! `Retry-After`, 500, 503) — the token endpoint is spared, so that a fault hits the call
//! a test aims at — answers held back, slower jobs, a lock or bridge going offline.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use latchkey_engine::clock::Clock;
use latchkey_engine::{Pin, Timestamp, Window};
use latchkey_providers::ProviderError;
use latchkey_providers::igloohome::{Igloohome, IgloohomeCredentials};
use latchkey_providers::segment::{CodeSegment, HeldCodes};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::faults::{Failure, Faults};
use super::model::{Change, HeldCode, LockModel};

/// Seconds of model time a bridge job takes to reach an online lock, by default.
pub const DEFAULT_JOB_SECS: i64 = 5;
/// Seconds after which a job the bridge has not run fails.
pub const JOB_EXPIRY_SECS: i64 = 86_400;
/// Lifetime of an access token, in seconds of model time.
pub const TOKEN_SECS: i64 = 3600;
/// Pending jobs at which a bridge refuses more.
pub const MAX_PENDING_JOBS: usize = 20;
/// The client id of the account [`start`] serves.
pub const CLIENT_ID: &str = "latchkey-replay";
/// The client secret of the account [`start`] serves.
pub const CLIENT_SECRET: &str = "replay-secret";

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const DEVICES_PAGE: usize = 25;
const MAX_PINS: usize = 199;

/// A lock of the fake account.
#[derive(Debug, Clone)]
pub struct FakeLock {
    /// `deviceId`.
    pub id: String,
    /// `deviceName`.
    pub name: String,
    /// The bridge it is linked to; `None` for an algoPIN-only lock.
    pub bridge: Option<String>,
    /// Battery charge, 0–100 %.
    pub battery_percent: u8,
}

/// A request as the fake received it, for contract checks.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The route, e.g. `/igloohome/devices/{deviceId}/algopin/{type}`.
    pub route: &'static str,
    /// The path requested, with its query.
    pub path: String,
    /// The JSON body (never the token form, which carries credentials).
    pub body: Option<Value>,
}

/// The fake igloohome cloud. Cheap to clone; clones share the account.
#[derive(Clone)]
pub struct IgloohomeFake {
    state: Arc<Mutex<Account>>,
    faults: Faults,
    clock: Arc<dyn Clock>,
}

struct Account {
    client_id: String,
    client_secret: String,
    locks: BTreeMap<String, FakeLock>,
    /// When each lock (with its bridge) last came online.
    online_since: HashMap<String, Timestamp>,
    model: LockModel,
    /// Token → expiry.
    tokens: HashMap<String, Timestamp>,
    token_secs: i64,
    job_secs: i64,
    /// Every guest is taken to type a long algoPIN within its first 24 h, so none lapses.
    timely_first_use: bool,
    next_id: u64,
    algopins: Vec<AlgoPin>,
    custom: Vec<CustomPin>,
    jobs: Vec<Job>,
    unlocks: Vec<(String, u64, Timestamp)>,
    recorded: Vec<Recorded>,
}

struct AlgoPin {
    reference: String,
    device: String,
    kind: &'static str,
    pin: Pin,
    window: Window,
    activated: bool,
    lapsed: bool,
}

struct CustomPin {
    reference: String,
    device: String,
    pin: Pin,
    /// Deleted (or its creation failed): no longer counts against the lock.
    gone: bool,
}

struct Job {
    id: String,
    device: String,
    bridge: String,
    job_type: u8,
    data: Value,
    due: Timestamp,
    expiry: Timestamp,
    state: JobState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum JobState {
    Pending,
    Done(Timestamp),
    Failed(Timestamp),
}

/// An error answer, written in igloohome's shape `{"status":"ERROR","code":"422",
/// "message":"…"}` at the handler's edge.
struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "status": "ERROR",
            "code": self.status.as_u16().to_string(),
            "message": self.message,
        });
        Failure {
            status: self.status,
            retry_after: self.retry_after,
        }
        .decorate((self.status, axum::Json(body)).into_response())
    }
}

fn error(status: StatusCode, message: &str) -> ApiError {
    ApiError {
        status,
        message: message.to_owned(),
        retry_after: None,
    }
}

fn unprocessable(message: &str) -> ApiError {
    error(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// An instant as the API writes it: `YYYY-MM-DDTHH:MM:SS+00:00`.
fn iso(at: Timestamp) -> String {
    chrono::DateTime::from_timestamp(at.unix(), 0)
        .map(|dt| dt.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_default()
}

/// An hour-aligned ISO-8601 date with an offset, as the API insists on.
fn aligned(value: Option<&Value>, field: &str) -> Result<Timestamp, ApiError> {
    let text = value.and_then(Value::as_str).ok_or_else(|| {
        unprocessable(&format!("{field} is required (YYYY-MM-DDTHH:00:00+hh:mm)"))
    })?;
    let at = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|_| unprocessable(&format!("{field} is not an ISO-8601 date with an offset")))?;
    let local = at.naive_local();
    if chrono::Timelike::minute(&local) != 0
        || chrono::Timelike::second(&local) != 0
        || chrono::Timelike::nanosecond(&local) != 0
    {
        return Err(unprocessable(&format!(
            "{field} must be hour-aligned (YYYY-MM-DDTHH:00:00+hh:mm)"
        )));
    }
    Ok(Timestamp(at.timestamp()))
}

fn access_name(value: Option<&Value>) -> Result<String, ApiError> {
    let name = value
        .and_then(Value::as_str)
        .ok_or_else(|| unprocessable("accessName is required"))?;
    if name.chars().count() > 60 {
        return Err(unprocessable("accessName must be at most 60 characters"));
    }
    Ok(name.to_owned())
}

/// The PIN the lock computes for a slot and variance: 9 digits.
fn algopin(device: &str, kind: &str, window: Window, variance: i64) -> Pin {
    let digest = Sha256::digest(
        format!(
            "{device}|{kind}|{}|{}|{variance}",
            window.starts_at.unix(),
            window.ends_at.unix()
        )
        .as_bytes(),
    );
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    Pin::new(format!("{:09}", u64::from_be_bytes(bytes) % 1_000_000_000))
}

impl IgloohomeFake {
    /// An account reachable with `client_id`/`client_secret`, holding `locks` (online, each
    /// with its battery), on `clock`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        locks: Vec<FakeLock>,
        clock: Arc<dyn Clock>,
    ) -> IgloohomeFake {
        let mut model = LockModel::default();
        for lock in &locks {
            model.add_lock(&lock.id, true, lock.battery_percent);
        }
        IgloohomeFake {
            state: Arc::new(Mutex::new(Account {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                online_since: HashMap::new(),
                locks: locks.into_iter().map(|l| (l.id.clone(), l)).collect(),
                model,
                tokens: HashMap::new(),
                token_secs: TOKEN_SECS,
                job_secs: DEFAULT_JOB_SECS,
                timely_first_use: false,
                next_id: 1,
                algopins: Vec::new(),
                custom: Vec::new(),
                jobs: Vec::new(),
                unlocks: Vec::new(),
                recorded: Vec::new(),
            })),
            faults: Faults::default(),
            clock,
        }
    }

    /// The OAuth2 and API routes this fake serves.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/oauth2/token", post(token))
            .route("/igloohome/devices", get(list_devices))
            .route("/igloohome/devices/{device}", get(get_device))
            .route(
                "/igloohome/devices/{device}/algopin/{kind}",
                post(create_algopin),
            )
            .route(
                "/igloohome/devices/{device}/jobs/bridges/{bridge}",
                post(create_job),
            )
            .route("/igloohome/jobs/{job}", get(get_job))
            .layer(axum::middleware::from_fn_with_state(
                self.faults.clone(),
                Faults::delay_answers,
            ))
            .with_state(self.clone())
    }

    /// The fault plan.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Takes lock `device` (or the link to its bridge) offline or back online: bridge jobs
    /// wait, and fail when they expire; algoPINs need no radio.
    pub fn set_online(&self, device: &str, online: bool) {
        let now = self.clock.now();
        let mut s = self.account();
        s.settle(now);
        if online && !s.model.is_online(device) {
            s.online_since.insert(device.to_owned(), now);
        }
        s.model.set_online(device, online, now);
    }

    /// Sets `device`'s battery charge (%), as `batteryLevel` reports it.
    pub fn set_battery(&self, device: &str, percent: u8) {
        self.account().model.set_battery(device, percent);
    }

    /// Seconds of model time a bridge job takes to reach an online lock.
    pub fn set_job_secs(&self, secs: i64) {
        self.account().job_secs = secs.max(0);
    }

    /// Takes every guest to type a long algoPIN within its first 24 h, so none lapses: for
    /// the replay, whose guests never stand at a door. The lapse itself is igloohome's
    /// rule and stays on by default.
    pub fn assume_timely_first_use(&self, yes: bool) {
        self.account().timely_first_use = yes;
    }

    /// Lifetime of the tokens issued from now on, in seconds of model time.
    pub fn set_token_secs(&self, secs: i64) {
        self.account().token_secs = secs.max(0);
    }

    /// A guest types `pin` on `device` now; the attempt is logged. Returns whether the
    /// door opened. A first use of an algoPIN valid for more than 24 h activates it.
    pub fn enter_pin(&self, device: &str, pin: &str) -> bool {
        let now = self.clock.now();
        let mut s = self.account();
        s.settle(now);
        let opened = s.model.enter_pin(device, pin, now);
        if opened {
            for p in s.algopins.iter_mut().filter(|p| {
                p.device == device && p.pin.as_str() == pin && p.window.contains(now) && !p.lapsed
            }) {
                p.activated = true;
            }
        }
        opened
    }

    /// The lock ids, as the client uses them.
    pub fn devices(&self) -> Vec<String> {
        self.account().locks.keys().cloned().collect()
    }

    /// Every API request received so far (and token requests, without their form).
    pub fn recorded(&self) -> Vec<Recorded> {
        self.account().recorded.clone()
    }

    fn account(&self) -> MutexGuard<'_, Account> {
        // Every change to the account is made whole under the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The common part of every API route: an injected failure, the bearer token,
    /// recording the request, and bringing jobs and locks up to `now`.
    fn enter(
        &self,
        headers: &HeaderMap,
        method: &'static str,
        route: &'static str,
        path: String,
        body: Option<&[u8]>,
    ) -> Result<(MutexGuard<'_, Account>, Timestamp, Value), ApiError> {
        if let Some(failure) = self.faults.take_failure() {
            return Err(ApiError {
                status: failure.status,
                message: "injected failure".into(),
                retry_after: failure.retry_after,
            });
        }
        let now = self.clock.now();
        let mut s = self.account();
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if token.is_none_or(|t| s.tokens.get(t).is_none_or(|until| now >= *until)) {
            return Err(error(StatusCode::UNAUTHORIZED, "Unauthorized"));
        }
        let body = body.map(|b| serde_json::from_slice(b).unwrap_or(Value::Null));
        s.recorded.push(Recorded {
            method,
            route,
            path,
            body: body.clone(),
        });
        s.settle(now);
        Ok((s, now, body.unwrap_or(Value::Null)))
    }

    fn new_id(s: &mut Account, prefix: char) -> String {
        let n = s.next_id;
        s.next_id += 1;
        format!("{prefix}{n:08}")
    }
}

impl HeldCodes for IgloohomeFake {
    fn history(&self, device: &str) -> Vec<CodeSegment> {
        let now = self.clock.now();
        let mut s = self.account();
        s.settle(now);
        s.model.history(device)
    }
}

impl Account {
    /// Runs every job its bridge has reached by `now` (in order, each at the instant it
    /// reached the lock), fails those that expired unrun, and lets long algoPINs unused
    /// 24 h after their start lapse. Jobs are applied with `apply_now` at their arrival
    /// rather than queued in the model, because a job that expires must never arrive.
    fn settle(&mut self, now: Timestamp) {
        let mut last_on_bridge: HashMap<String, Timestamp> = HashMap::new();
        for i in 0..self.jobs.len() {
            let job = &self.jobs[i];
            if job.state != JobState::Pending {
                if let JobState::Done(at) = job.state {
                    let last = last_on_bridge.entry(job.bridge.clone()).or_insert(at);
                    *last = (*last).max(at);
                }
                continue;
            }
            let online = self.model.is_online(&job.device);
            let since = self
                .online_since
                .get(&job.device)
                .copied()
                .unwrap_or(Timestamp(i64::MIN));
            let after = last_on_bridge
                .get(&job.bridge)
                .copied()
                .unwrap_or(Timestamp(i64::MIN));
            let arrives = job.due.max(since).max(after);
            if online && arrives <= now && arrives < job.expiry {
                last_on_bridge.insert(job.bridge.clone(), arrives);
                self.run(i, arrives);
            } else if now >= job.expiry {
                let job = &mut self.jobs[i];
                job.state = JobState::Failed(job.expiry);
                if job.job_type == 4 {
                    let reference = format!("job:{}", job.id);
                    for c in self.custom.iter_mut().filter(|c| c.reference == reference) {
                        c.gone = true;
                    }
                }
            }
        }
        for p in self.algopins.iter_mut() {
            let long = p.window.ends_at.unix() - p.window.starts_at.unix() > DAY;
            let deadline = p.window.starts_at.plus(DAY);
            if long && !p.activated && !p.lapsed && !self.timely_first_use && now >= deadline {
                p.lapsed = true;
                self.model
                    .apply_now(&p.device, Change::Remove(p.reference.clone()), deadline);
            }
        }
    }

    /// Job `i` reaches its lock at `at`.
    fn run(&mut self, i: usize, at: Timestamp) {
        self.jobs[i].state = JobState::Done(at);
        let job = &self.jobs[i];
        let device = job.device.clone();
        match job.job_type {
            4 => {
                let data = &job.data;
                let window = Window {
                    starts_at: aligned(data.get("startDate"), "startDate").unwrap_or(at),
                    ends_at: aligned(data.get("endDate"), "endDate").unwrap_or(at),
                };
                let code = HeldCode {
                    reference: format!("job:{}", job.id),
                    name: data
                        .get("accessName")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    pin: Pin::new(data.get("pin").and_then(Value::as_str).unwrap_or_default()),
                    window,
                };
                self.model.apply_now(&device, Change::Put(code), at);
            }
            5 => {
                let pin = job
                    .data
                    .get("pin")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let on_lock: Vec<String> = self
                    .model
                    .history(&device)
                    .into_iter()
                    .filter(|s| s.pin.as_str() == pin && s.present_at(at))
                    .filter(|s| s.reference.starts_with("job:"))
                    .map(|s| s.reference)
                    .collect();
                for reference in on_lock {
                    self.model.apply_now(&device, Change::Remove(reference), at);
                }
            }
            2 => {
                let n = self.next_id;
                self.next_id += 1;
                self.unlocks.push((device, n, at));
            }
            _ => {}
        }
    }

    fn lock_json(&self, lock: &FakeLock) -> Value {
        let linked: Vec<Value> = lock
            .bridge
            .iter()
            .map(|b| json!({ "type": "Bridge", "deviceId": b }))
            .collect();
        json!({
            "id": format!("dev-{}", lock.id),
            "type": "Lock",
            "deviceId": lock.id,
            "deviceName": lock.name,
            "pairedAt": "2025-01-06T09:00:00+00:00",
            "homeId": ["home-1"],
            "linkedDevices": linked,
            "batteryLevel": self.model.battery_percent(&lock.id),
        })
    }

    fn bridge_json(&self, bridge: &str) -> Value {
        let linked: Vec<Value> = self
            .locks
            .values()
            .filter(|l| l.bridge.as_deref() == Some(bridge))
            .map(|l| json!({ "type": "Lock", "deviceId": l.id }))
            .collect();
        json!({
            "id": format!("dev-{bridge}"),
            "type": "Bridge",
            "deviceId": bridge,
            "deviceName": format!("Bridge {bridge}"),
            "pairedAt": "2025-01-06T09:00:00+00:00",
            "homeId": ["home-1"],
            "linkedDevices": linked,
            "batteryLevel": null,
        })
    }

    fn bridges(&self) -> BTreeSet<String> {
        self.locks
            .values()
            .filter_map(|l| l.bridge.clone())
            .collect()
    }

    fn job_json(&self, job: &Job) -> Value {
        let response = match job.state {
            JobState::Pending => Value::Null,
            JobState::Failed(_) => json!({
                "jobStatus": 2,
                "message": "The bridge did not reach the lock before the job expired",
            }),
            JobState::Done(at) if job.job_type == 15 => {
                json!({ "jobStatus": 0, "logs": self.logs(&job.device, at) })
            }
            JobState::Done(_) => json!({ "jobStatus": 0 }),
        };
        json!({
            "jobId": job.id,
            "expiryDate": iso(job.expiry),
            "completed": job.state != JobState::Pending,
            "jobType": job.job_type,
            "jobResponse": response,
        })
    }

    /// The lock's log as a bridge fetched it at `at`: keypad attempts and remote unlocks.
    fn logs(&self, device: &str, at: Timestamp) -> Vec<Value> {
        let mut logs: Vec<(Timestamp, Value)> = self
            .model
            .keypad_log(device, Timestamp(i64::MIN))
            .into_iter()
            .filter(|e| e.at <= at)
            .map(|e| {
                let opened = e.opened_by.is_some();
                (
                    e.at,
                    json!({
                        "id": format!("kp-{}", e.seq),
                        "date": iso(e.at),
                        "type": if opened { "PIN_UNLOCK" } else { "PIN_DENIED" },
                        "pin": e.pin.as_str(),
                        "accessName": e.opened_by.map(|c| c.name),
                    }),
                )
            })
            .collect();
        logs.extend(
            self.unlocks
                .iter()
                .filter(|(d, _, t)| d == device && *t <= at)
                .map(|(_, n, t)| {
                    (
                        *t,
                        json!({ "id": format!("ul-{n}"), "date": iso(*t), "type": "BRIDGE_UNLOCK" }),
                    )
                }),
        );
        logs.sort_by_key(|(t, _)| *t);
        logs.into_iter().map(|(_, v)| v).collect()
    }
}

async fn token(State(fake): State<IgloohomeFake>, headers: HeaderMap, body: String) -> Response {
    let now = fake.clock.now();
    let mut s = fake.account();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", s.client_id, s.client_secret))
    );
    s.recorded.push(Recorded {
        method: "POST",
        route: "/oauth2/token",
        path: "/oauth2/token".into(),
        body: None,
    });
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(expected.as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let grant = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "grant_type")
        .map(|(_, v)| v);
    if grant != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "unsupported_grant_type" })),
        )
            .into_response();
    }
    let n = s.next_id;
    s.next_id += 1;
    let value = format!("igloo-token-{n}-{:x}", now.unix());
    let lifetime = s.token_secs;
    s.tokens.insert(value.clone(), now.plus(lifetime));
    axum::Json(json!({
        "access_token": value,
        "token_type": "Bearer",
        "expires_in": lifetime,
    }))
    .into_response()
}

async fn list_devices(
    State(fake): State<IgloohomeFake>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let path = match query.get("cursor") {
        Some(c) => format!("/igloohome/devices?cursor={c}"),
        None => "/igloohome/devices".to_owned(),
    };
    let (s, _, _) = fake.enter(&headers, "GET", "/igloohome/devices", path, None)?;
    let mut all: Vec<(String, Value)> = s
        .locks
        .values()
        .map(|l| (l.id.clone(), s.lock_json(l)))
        .collect();
    all.extend(s.bridges().into_iter().map(|b| {
        let v = s.bridge_json(&b);
        (b, v)
    }));
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let start = match query.get("cursor") {
        Some(c) => c
            .parse::<usize>()
            .map_err(|_| error(StatusCode::BAD_REQUEST, "invalid cursor"))?,
        None => 0,
    };
    let end = (start + DEVICES_PAGE).min(all.len());
    let page: Vec<Value> = all
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|(_, v)| v.clone())
        .collect();
    let next = (end < all.len()).then(|| end.to_string());
    Ok(axum::Json(json!({ "nextCursor": next, "payload": page })).into_response())
}

async fn get_device(
    State(fake): State<IgloohomeFake>,
    Path(device): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let path = format!("/igloohome/devices/{device}");
    let (s, _, _) = fake.enter(&headers, "GET", "/igloohome/devices/{deviceId}", path, None)?;
    if let Some(lock) = s.locks.get(&device) {
        return Ok(axum::Json(s.lock_json(lock)).into_response());
    }
    if s.bridges().contains(&device) {
        return Ok(axum::Json(s.bridge_json(&device)).into_response());
    }
    Err(error(StatusCode::NOT_FOUND, "Device not found"))
}

async fn create_algopin(
    State(fake): State<IgloohomeFake>,
    Path((device, kind)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let path = format!("/igloohome/devices/{device}/algopin/{kind}");
    let (mut s, now, body) = fake.enter(
        &headers,
        "POST",
        "/igloohome/devices/{deviceId}/algopin/{type}",
        path,
        Some(&body),
    )?;
    if !s.locks.contains_key(&device) {
        return Err(error(StatusCode::NOT_FOUND, "Device not found"));
    }
    let kind: &'static str = match kind.as_str() {
        "hourly" => "hourly",
        "daily" => "daily",
        // One-time and permanent algoPINs exist (§3.3); Latchkey never asks for them.
        _ => {
            return Err(unprocessable(
                "This fake serves hourly and daily algoPINs only",
            ));
        }
    };
    let variance = body
        .get("variance")
        .and_then(Value::as_i64)
        .filter(|v| (1..=3).contains(v))
        .ok_or_else(|| unprocessable("variance must be 1 to 3"))?;
    let window = Window {
        starts_at: aligned(body.get("startDate"), "startDate")?,
        ends_at: aligned(body.get("endDate"), "endDate")?,
    };
    let name = access_name(body.get("accessName"))?;
    let secs = window.ends_at.unix() - window.starts_at.unix();
    if secs <= 0 {
        return Err(unprocessable("endDate must be after startDate"));
    }
    if secs > 367 * DAY {
        return Err(unprocessable("Exceeded the limit of 367 days"));
    }
    match kind {
        "hourly" if secs > 672 * HOUR => {
            return Err(unprocessable(
                "An hourly algoPIN lasts 1 to 672 hours; use a daily algoPIN",
            ));
        }
        "daily" if secs % DAY != 0 || secs < 29 * DAY => {
            return Err(unprocessable(
                "A daily algoPIN lasts 29 to 367 days and starts and ends at the same time of day",
            ));
        }
        _ => {}
    }
    let in_slot = s
        .algopins
        .iter()
        .filter(|p| p.device == device && p.kind == kind && p.window == window)
        .count();
    if in_slot >= 3 {
        return Err(unprocessable(
            "Exceeded the limit of 3 PINs for the same start and end",
        ));
    }
    let pin = algopin(&device, kind, window, variance);
    let pin_id = IgloohomeFake::new_id(&mut s, 'P');
    let reference = format!("algopin:{pin_id}");
    s.algopins.push(AlgoPin {
        reference: reference.clone(),
        device: device.clone(),
        kind,
        pin: pin.clone(),
        window,
        activated: false,
        lapsed: false,
    });
    // Computed by the lock itself: valid from now on, no radio needed.
    s.model.apply_now(
        &device,
        Change::Put(HeldCode {
            reference,
            name,
            pin: pin.clone(),
            window,
        }),
        now,
    );
    Ok(axum::Json(json!({ "pin": pin.as_str(), "pinId": pin_id })).into_response())
}

async fn create_job(
    State(fake): State<IgloohomeFake>,
    Path((device, bridge)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let path = format!("/igloohome/devices/{device}/jobs/bridges/{bridge}");
    let (mut s, now, body) = fake.enter(
        &headers,
        "POST",
        "/igloohome/devices/{lockId}/jobs/bridges/{bridgeId}",
        path,
        Some(&body),
    )?;
    let Some(lock) = s.locks.get(&device) else {
        return Err(error(StatusCode::NOT_FOUND, "Device not found"));
    };
    if lock.bridge.as_deref() != Some(bridge.as_str()) {
        return Err(unprocessable("The lock is not linked to this bridge"));
    }
    let pending = s
        .jobs
        .iter()
        .filter(|j| j.bridge == bridge && j.state == JobState::Pending)
        .count();
    if pending >= MAX_PENDING_JOBS {
        return Err(unprocessable("The bridge has too many pending jobs"));
    }
    let job_type = body
        .get("jobType")
        .and_then(Value::as_i64)
        .and_then(|t| u8::try_from(t).ok())
        .ok_or_else(|| unprocessable("jobType is required"))?;
    let data = body.get("jobData").cloned().unwrap_or(Value::Null);
    let pin = || {
        data.get("pin")
            .and_then(Value::as_str)
            .filter(|p| (6..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_owned)
            .ok_or_else(|| unprocessable("pin must be 6 to 8 digits"))
    };
    let job_id = match job_type {
        4 => {
            let pin = pin()?;
            if data.get("pinType").and_then(Value::as_i64) != Some(4) {
                return Err(unprocessable("pinType must be 4 (duration)"));
            }
            let starts_at = aligned(data.get("startDate"), "startDate")?;
            let ends_at = aligned(data.get("endDate"), "endDate")?;
            access_name(data.get("accessName"))?;
            if ends_at <= starts_at {
                return Err(unprocessable("endDate must be after startDate"));
            }
            if ends_at.unix() - starts_at.unix() > 367 * DAY {
                return Err(unprocessable("Exceeded the limit of 367 days"));
            }
            let held: Vec<&CustomPin> = s
                .custom
                .iter()
                .filter(|c| c.device == device && !c.gone)
                .collect();
            if held.iter().any(|c| c.pin.as_str() == pin) {
                return Err(error(
                    StatusCode::CONFLICT,
                    "The PIN already exists on this lock",
                ));
            }
            let algopins = s
                .algopins
                .iter()
                .filter(|p| p.device == device && !p.lapsed && p.window.ends_at > now)
                .count();
            if held.len() + algopins >= MAX_PINS {
                return Err(unprocessable("The lock holds 199 PINs already"));
            }
            let job_id = IgloohomeFake::new_id(&mut s, 'J');
            s.custom.push(CustomPin {
                reference: format!("job:{job_id}"),
                device: device.clone(),
                pin: Pin::new(pin),
                gone: false,
            });
            job_id
        }
        5 => {
            let pin = pin()?;
            for c in s
                .custom
                .iter_mut()
                .filter(|c| c.device == device && c.pin.as_str() == pin)
            {
                c.gone = true;
            }
            IgloohomeFake::new_id(&mut s, 'J')
        }
        2 | 15 => IgloohomeFake::new_id(&mut s, 'J'),
        _ => return Err(unprocessable("Unsupported jobType")),
    };
    let job_secs = s.job_secs;
    s.jobs.push(Job {
        id: job_id.clone(),
        device,
        bridge,
        job_type,
        data,
        due: now.plus(job_secs),
        expiry: now.plus(JOB_EXPIRY_SECS),
        state: JobState::Pending,
    });
    s.settle(now);
    Ok(axum::Json(json!({ "jobId": job_id })).into_response())
}

async fn get_job(
    State(fake): State<IgloohomeFake>,
    Path(job): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let path = format!("/igloohome/jobs/{job}");
    let (s, _, _) = fake.enter(&headers, "GET", "/igloohome/jobs/{jobId}", path, None)?;
    let Some(found) = s.jobs.iter().find(|j| j.id == job) else {
        return Err(error(StatusCode::NOT_FOUND, "Job not found"));
    };
    Ok(axum::Json(s.job_json(found)).into_response())
}

/// An account with `devices` locks for the replay: even indexes bridge locks (each with
/// its own bridge), odd ones algoPIN-only; all online at 80 %; served on loopback, with a
/// client connected to it (no rate limit, 10 s timeout).
///
/// # Errors
/// [`ProviderError::Unavailable`] when no loopback port can be bound; others as
/// [`Igloohome::connect`].
pub async fn start(
    devices: usize,
    clock: Arc<dyn Clock>,
) -> Result<(IgloohomeFake, Igloohome), ProviderError> {
    let locks = (0..devices)
        .map(|i| FakeLock {
            id: format!("IGL{:05}", i + 1),
            name: format!("Door {}", i + 1),
            bridge: (i % 2 == 0).then(|| format!("IGB{:05}", i + 1)),
            battery_percent: 80,
        })
        .collect();
    let fake = IgloohomeFake::new(CLIENT_ID, CLIENT_SECRET, locks, clock);
    let settings = super::serve_for_replay(fake.router(), "igloohome").await?;
    let client = Igloohome::connect(
        &settings,
        &settings.base_url,
        IgloohomeCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
        },
    )
    .await?;
    Ok((fake, client))
}
