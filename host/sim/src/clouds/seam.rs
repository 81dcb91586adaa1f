//! A fake of Seam's API (`https://connect.getseam.com`) that follows its published
//! contract (SEAM-DOCS, collected in `../shared/reference/lock-providers.md` §4), keeping
//! Seam's own records (devices, access codes, events, action attempts) and telling the
//! shared [`LockModel`] what reaches each door, when.
//!
//! What it enforces as Seam does:
//! - A bearer API key (401 with Seam's `{"error": {"type", "message"}}` body otherwise);
//!   JSON `POST` bodies on every route; `invalid_input` (400) for bad bodies, PINs that
//!   break the device's `code_constraints` or `supported_code_lengths`, names over
//!   `name_length`, windows that end before they start or in the past; `*_not_found`
//!   (404) for unknown devices, codes and attempts.
//! - Per-device rate limits (§4.6): 10 creations, 10 updates, 20 deletions and 15 unlocks
//!   a minute (of the injected clock), beyond which it answers 429 with `Retry-After`.
//! - Online codes go `unset` → `setting` → `set`: a change is programmed a confirmation
//!   delay after the call ([`DEFAULT_CONFIRM_SECS`], [`SeamFake::set_confirm_secs`]),
//!   never while the lock is offline (the code then carries a `device_offline` error),
//!   and a code starting more than 72 h ahead is preloaded 72 h before `starts_at` and
//!   then stays `unset` with `is_scheduled_on_device` until its start (§4.3). Deletion
//!   goes `removing` → gone (`get` answers 404). After a delay of more than five minutes a
//!   code carries the `delay_in_setting_on_device` warning.
//! - A PIN already held by another code on the device gives the new code the
//!   `duplicate_code_on_device` error (the object is created, nothing reaches the lock);
//!   a full lock (`max_active_codes_supported`) gives `no_space_for_access_code_on_device`.
//!   An update onto a PIN another code holds is refused at once (400
//!   `duplicate_access_code`), since the code it would replace is still working.
//! - Devices that can only program offline codes (algoPINs) take
//!   `is_offline_access_code: true`, no `code`, and hour-aligned windows (or
//!   `max_time_rounding` `1h`/`1d`, rounded outward); the PIN is generated and is on the
//!   lock at once ([`LockModel::apply_now`]); such codes cannot be updated or deleted, and
//!   windows over 24 h carry `igloo_algopin_must_be_used_within_24_hours`.
//! - Lock events (`lock.unlocked` with `method` keycode and `access_code_id`, or remote
//!   with `action_attempt_id`; `lock.access_denied`) are recorded from
//!   [`SeamFake::enter_pin`] and remote unlocks; a lock offline reports them once it is
//!   back. `/locks/unlock_door` answers a `pending` action attempt, which
//!   `/action_attempts/get` shows resolved.
//!
//! Simplified: no pagination, no ongoing (untimed) codes, expired codes are not removed
//! automatically, no webhooks.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use latchkey_engine::clock::Clock;
use latchkey_engine::{Pin, Timestamp, Window, WindowPrecision};
use latchkey_providers::ProviderError;
use latchkey_providers::seam::Seam;
use latchkey_providers::segment::{CodeSegment, HeldCodes};
use latchkey_providers::simulator::Tamper;
use serde_json::{Value, json};

use super::faults::Faults;
use super::model::{Change, HeldCode, LockModel};

/// Seconds a change takes to reach an online lock, by default.
pub const DEFAULT_CONFIRM_SECS: i64 = 5;
/// The API key of the account [`start`] makes.
pub const REPLAY_API_KEY: &str = "seam_replay_0000000000000000";
/// Seam preloads natively scheduled codes this long before `starts_at` (§4.3).
const PRELOAD_SECS: i64 = 72 * 3600;
/// A change slower than this shows `delay_in_setting_on_device`.
const DELAY_WARNING_SECS: i64 = 300;

/// Per-device rate limits a minute (§4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Limit {
    Create,
    Update,
    Delete,
    Unlock,
}

impl Limit {
    fn per_minute(self) -> usize {
        match self {
            Limit::Create | Limit::Update => 10,
            Limit::Delete => 20,
            Limit::Unlock => 15,
        }
    }
}

/// A lock in the fake workspace.
#[derive(Debug, Clone)]
pub struct FakeDevice {
    /// `device_id` (a UUID).
    pub id: String,
    /// Its name.
    pub name: String,
    /// `can_program_online_access_codes`.
    pub online_codes: bool,
    /// `can_program_offline_access_codes`.
    pub offline_codes: bool,
    /// `can_remotely_unlock`.
    pub remote_unlock: bool,
    /// Reachable at the start.
    pub online: bool,
    /// Battery charge at the start, 0–100 %.
    pub battery_percent: u8,
    /// `supported_code_lengths`.
    pub code_lengths: Vec<u8>,
    /// `no_zeros` constraint.
    pub no_zeros: bool,
    /// `cannot_start_with_12` constraint.
    pub cannot_start_with_12: bool,
    /// `max_active_codes_supported`.
    pub max_codes: u32,
    /// `name_length.max_length`.
    pub name_max_len: u32,
}

impl FakeDevice {
    /// A lock with a bridge: online codes of 4–8 digits with no zeros and not starting
    /// with 12 (Nuki-like constraints), remote unlock, 50 codes, names up to 20.
    pub fn online_codes(id: impl Into<String>) -> FakeDevice {
        let id = id.into();
        FakeDevice {
            name: format!("Seam door {id}"),
            id,
            online_codes: true,
            offline_codes: false,
            remote_unlock: true,
            online: true,
            battery_percent: 80,
            code_lengths: vec![4, 5, 6, 7, 8],
            no_zeros: true,
            cannot_start_with_12: true,
            max_codes: 50,
            name_max_len: 20,
        }
    }

    /// A lock without a bridge: offline algoPINs of 9 digits only, no remote unlock.
    pub fn offline_codes(id: impl Into<String>) -> FakeDevice {
        FakeDevice {
            online_codes: false,
            offline_codes: true,
            remote_unlock: false,
            code_lengths: vec![9],
            no_zeros: false,
            cannot_start_with_12: false,
            max_codes: 200,
            ..FakeDevice::online_codes(id)
        }
    }
}

/// A request as the fake received it, for contract checks.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The route, e.g. `/access_codes/create`.
    pub route: String,
    /// The `Content-Type` header sent.
    pub content_type: Option<String>,
    /// The JSON body (`{}` when empty).
    pub body: Value,
    /// The status answered.
    pub status: u16,
    /// The JSON answered.
    pub answer: Option<Value>,
}

/// The fake Seam workspace. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct SeamFake {
    state: Arc<Mutex<Account>>,
    clock: Arc<dyn Clock>,
    faults: Faults,
}

impl std::fmt::Debug for SeamFake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeamFake")
            .field("api_key", &"<redacted>")
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

struct Account {
    api_key: String,
    devices: BTreeMap<String, FakeDevice>,
    model: LockModel,
    codes: Vec<Code>,
    events: Vec<Event>,
    attempts: BTreeMap<String, Attempt>,
    rate: HashMap<(String, Limit), VecDeque<Timestamp>>,
    next_id: u64,
    confirm_secs: i64,
    recorded: Vec<Recorded>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Live,
    Removing,
    Removed,
}

#[derive(Debug, Clone)]
struct Code {
    id: String,
    device: String,
    name: String,
    pin: String,
    window: Window,
    created_at: Timestamp,
    offline: bool,
    /// Terminal errors (duplicate, no space): the code never reaches the lock.
    errors: Vec<(&'static str, String)>,
    warnings: Vec<(&'static str, String)>,
    life: Life,
    /// A change Seam has not started sending to the lock yet.
    pending: Option<Pending>,
    /// When programming of the latest change began (for the delay warning).
    programming_from: Timestamp,
}

#[derive(Debug, Clone)]
struct Pending {
    change: Change,
    /// When it reaches the lock, if the lock is online.
    due: Timestamp,
}

#[derive(Debug, Clone)]
struct Event {
    id: String,
    kind: &'static str,
    device: String,
    at: Timestamp,
    method: Option<&'static str>,
    access_code_id: Option<String>,
    action_attempt_id: Option<String>,
    /// Reached Seam (a lock offline reports it when back).
    reported: bool,
}

#[derive(Debug, Clone)]
struct Attempt {
    id: String,
    device: String,
    error: Option<(&'static str, String)>,
}

/// An error answer, boxed: a `Response` is large.
type Refused = Box<Response>;
type Answer = Result<Value, Refused>;

impl SeamFake {
    /// A workspace reachable with `api_key`, holding `devices`, on `clock`.
    pub fn new(
        api_key: impl Into<String>,
        devices: Vec<FakeDevice>,
        clock: Arc<dyn Clock>,
    ) -> SeamFake {
        let mut model = LockModel::default();
        for d in &devices {
            model.add_lock(&d.id, d.online, d.battery_percent);
        }
        SeamFake {
            state: Arc::new(Mutex::new(Account {
                api_key: api_key.into(),
                devices: devices.into_iter().map(|d| (d.id.clone(), d)).collect(),
                model,
                codes: Vec::new(),
                events: Vec::new(),
                attempts: BTreeMap::new(),
                rate: HashMap::new(),
                next_id: 1,
                confirm_secs: DEFAULT_CONFIRM_SECS,
                recorded: Vec::new(),
            })),
            clock,
            faults: Faults::default(),
        }
    }

    /// The routes this fake serves: `POST /{group}/{action}` for every Seam endpoint used.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/{group}/{action}", post(dispatch))
            .layer(axum::middleware::from_fn_with_state(
                self.faults.clone(),
                Faults::delay_answers,
            ))
            .with_state(self.clone())
    }

    /// The fault plan (failures and delays on demand).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Replaces the workspace's API key, as an admin does in Seam's console by creating a
    /// new key and deleting the old one: from now on the old key is answered 401
    /// `unauthorized`, as any key Seam does not know (lock-providers.md, Seam: every call
    /// carries `Authorization: Bearer seam_…`).
    pub fn rotate_api_key(&self, api_key: impl Into<String>) {
        self.account().api_key = api_key.into();
    }

    /// Seconds a change takes to reach an online lock.
    pub fn set_confirm_secs(&self, secs: i64) {
        self.account().confirm_secs = secs.max(0);
    }

    /// Changes access code `id` behind Latchkey's back (in the lock maker's own app, which
    /// Seam then reads from the lock): deleted or given another PIN, at once. False when
    /// there is no such live code.
    pub fn tamper(&self, id: &str, change: Tamper) -> bool {
        let now = self.clock.now();
        let mut s = self.account();
        s.settle(now);
        let Some(index) = s
            .codes
            .iter()
            .position(|c| c.id == id && c.life == Life::Live)
        else {
            return false;
        };
        let code = &mut s.codes[index];
        code.pending = None;
        let device = code.device.clone();
        let lock_change = match change {
            Tamper::Delete => {
                code.life = Life::Removed;
                Change::Remove(code.id.clone())
            }
            Tamper::ChangePin(pin) => {
                code.pin = pin.as_str().to_owned();
                Change::Put(HeldCode {
                    reference: code.id.clone(),
                    name: code.name.clone(),
                    pin,
                    window: code.window,
                })
            }
        };
        s.model.apply_now(&device, lock_change, now);
        true
    }

    /// Takes `device` offline or back online now; changes wait while it is offline, and
    /// events it logged meanwhile reach Seam when it is back.
    pub fn set_online(&self, device: &str, online: bool) {
        let now = self.clock.now();
        let mut s = self.account();
        s.settle(now);
        s.model.set_online(device, online, now);
        if online {
            for e in s.events.iter_mut().filter(|e| e.device == device) {
                e.reported = true;
            }
        }
        s.settle(now);
    }

    /// Sets `device`'s battery charge, 0–100 %.
    pub fn set_battery(&self, device: &str, percent: u8) {
        self.account().model.set_battery(device, percent);
    }

    /// A guest types `pin` on `device` now: logged as `lock.unlocked` (method keycode, with
    /// the code's `access_code_id`) or `lock.access_denied`. Returns whether it opened.
    pub fn enter_pin(&self, device: &str, pin: &str) -> bool {
        let now = self.clock.now();
        let mut s = self.account();
        s.settle(now);
        if !s.devices.contains_key(device) {
            return false;
        }
        let opened = s.model.enter_pin(device, pin, now);
        let opened_by = s
            .model
            .keypad_log(device, now)
            .last()
            .and_then(|e| e.opened_by.clone());
        let reported = s.model.is_online(device);
        let id = s.next("evt");
        s.events.push(Event {
            id,
            kind: if opened {
                "lock.unlocked"
            } else {
                "lock.access_denied"
            },
            device: device.to_owned(),
            at: now,
            method: opened.then_some("keycode"),
            access_code_id: opened_by.map(|c| c.reference),
            action_attempt_id: None,
            reported,
        });
        opened
    }

    /// The device ids, as the client uses them.
    pub fn devices(&self) -> Vec<String> {
        self.account().devices.keys().cloned().collect()
    }

    /// Every request received so far (after faults and authentication).
    pub fn recorded(&self) -> Vec<Recorded> {
        self.account().recorded.clone()
    }

    fn account(&self) -> MutexGuard<'_, Account> {
        // Every change to the account is made whole under the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl HeldCodes for SeamFake {
    fn history(&self, device: &str) -> Vec<CodeSegment> {
        let now = self.clock.now();
        let mut s = self.account();
        s.settle(now);
        s.model.history(device)
    }
}

/// A workspace with `devices` locks (even index: online codes, odd: offline algoPINs),
/// served on loopback, and a client connected to it with no rate limit and a 10 s timeout.
///
/// # Errors
/// [`ProviderError::Unavailable`] when no loopback port can be bound; the client's
/// errors from [`Seam::connect`].
pub async fn start(
    devices: usize,
    clock: Arc<dyn Clock>,
) -> Result<(SeamFake, Seam), ProviderError> {
    let locks = (0..devices)
        .map(|i| {
            let id = format!("00000000-0000-4000-8000-{:012x}", i + 1);
            if i % 2 == 0 {
                FakeDevice::online_codes(id)
            } else {
                FakeDevice::offline_codes(id)
            }
        })
        .collect();
    let fake = SeamFake::new(REPLAY_API_KEY, locks, clock);
    let settings = super::serve_for_replay(fake.router(), "Seam").await?;
    let client = Seam::connect(&settings, REPLAY_API_KEY).await?;
    Ok((fake, client))
}

/// Seam's error body: `{"error": {"type", "message"}}`.
fn seam_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({ "error": { "type": kind, "message": message, "request_id": "fake" } });
    (status, axum::Json(body)).into_response()
}

fn invalid(message: &str) -> Refused {
    Box::new(seam_error(
        StatusCode::BAD_REQUEST,
        "invalid_input",
        message,
    ))
}

fn not_found(kind: &str, message: &str) -> Refused {
    Box::new(seam_error(StatusCode::NOT_FOUND, kind, message))
}

/// ISO 8601 UTC with milliseconds, as Seam writes instants.
fn iso(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp(t.unix(), 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

async fn dispatch(
    State(fake): State<SeamFake>,
    Path((group, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(failure) = fake.faults.take_failure() {
        let response = seam_error(failure.status, "injected_failure", "injected failure");
        return failure.decorate(response);
    }
    let now = fake.clock.now();
    let mut s = fake.account();
    let expected = format!("Bearer {}", s.api_key);
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(expected.as_str())
    {
        return seam_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized: missing or invalid API key",
        );
    }
    let route = format!("/{group}/{action}");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let parsed = if body.is_empty() {
        Ok(json!({}))
    } else {
        serde_json::from_slice::<Value>(&body)
    };
    s.recorded.push(Recorded {
        route: route.clone(),
        content_type,
        body: parsed.as_ref().cloned().unwrap_or(Value::Null),
        status: 0,
        answer: None,
    });
    s.settle(now);
    let answer = match parsed {
        Ok(body) if body.is_object() => route_to(&mut s, &route, now, &body),
        _ => Err(invalid("The body must be a JSON object")),
    };
    match answer {
        Ok(mut value) => {
            value["ok"] = Value::Bool(true);
            if let Some(last) = s.recorded.last_mut() {
                last.status = 200;
                last.answer = Some(value.clone());
            }
            (StatusCode::OK, axum::Json(value)).into_response()
        }
        Err(response) => {
            if let Some(last) = s.recorded.last_mut() {
                last.status = response.status().as_u16();
            }
            *response
        }
    }
}

fn route_to(s: &mut Account, route: &str, now: Timestamp, body: &Value) -> Answer {
    match route {
        "/locks/list" | "/devices/list" => {
            let key = if route == "/locks/list" {
                "locks"
            } else {
                "devices"
            };
            let devices: Vec<Value> = s.devices.values().map(|d| s.device_json(d)).collect();
            Ok(json!({ key: devices }))
        }
        "/locks/get" | "/devices/get" => {
            let d = s.device_of(body)?;
            let key = if route == "/locks/get" {
                "lock"
            } else {
                "device"
            };
            Ok(json!({ key: s.device_json(&d) }))
        }
        "/access_codes/create" => s.create(now, body),
        "/access_codes/update" => s.update(now, body),
        "/access_codes/delete" => s.delete(now, body),
        "/access_codes/get" => {
            let i = s.code_index(body)?;
            Ok(json!({ "access_code": s.code_json(&s.codes[i], now) }))
        }
        "/access_codes/list" => {
            let d = s.device_of(body)?;
            let codes: Vec<Value> = s
                .codes
                .iter()
                .filter(|c| c.device == d.id && c.life != Life::Removed)
                .map(|c| s.code_json(c, now))
                .collect();
            Ok(json!({ "access_codes": codes }))
        }
        "/events/list" => s.list_events(body),
        "/locks/unlock_door" => s.unlock(now, body),
        "/action_attempts/get" => {
            let id = body
                .get("action_attempt_id")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("action_attempt_id is required"))?;
            let a = s
                .attempts
                .get(id)
                .ok_or_else(|| not_found("action_attempt_not_found", "Action attempt not found"))?;
            Ok(json!({ "action_attempt": attempt_json(a, false) }))
        }
        _ => Err(not_found("route_not_found", "Route not found")),
    }
}

fn attempt_json(a: &Attempt, just_created: bool) -> Value {
    let (status, error) = match (&a.error, just_created) {
        (_, true) => ("pending", Value::Null),
        (None, false) => ("success", Value::Null),
        (Some((kind, message)), false) => ("error", json!({ "type": kind, "message": message })),
    };
    json!({
        "action_attempt_id": a.id,
        "action_type": "UNLOCK_DOOR",
        "device_id": a.device,
        "status": status,
        "result": if status == "success" { json!({ "was_confirmed_by_device": true }) } else { Value::Null },
        "error": error,
    })
}

/// Digits from a seed (SplitMix64), `len` long, honouring the device's constraints.
fn generated_pin(seed: u64, d: &FakeDevice) -> String {
    let len = usize::from(d.code_lengths.iter().copied().max().unwrap_or(6));
    let mut state = seed;
    loop {
        let mut pin = String::with_capacity(len);
        while pin.len() < len {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let digit = u8::try_from(z % 10).unwrap_or(0);
            if d.no_zeros && digit == 0 {
                continue;
            }
            pin.push(char::from(b'0' + digit));
        }
        if !(d.cannot_start_with_12 && pin.starts_with("12")) {
            return pin;
        }
    }
}

impl Account {
    fn next(&mut self, prefix: &str) -> String {
        let n = self.next_id;
        self.next_id += 1;
        match prefix {
            "ac" | "aa" | "evt" => format!("{n:08x}-{prefix:0>4}-4000-8000-5ea000000000"),
            _ => format!("{prefix}-{n}"),
        }
    }

    /// Hands every change whose time has come to the model, delivers what reached an
    /// online lock, and forgets codes whose removal is done.
    fn settle(&mut self, now: Timestamp) {
        for code in &mut self.codes {
            if let Some(p) = code.pending.take_if(|p| p.due <= now) {
                self.model.queue(&code.device, p.change, p.due);
            }
        }
        self.model.settle(now);
        for code in &mut self.codes {
            if code.life == Life::Removing
                && code.pending.is_none()
                && !self.model.is_pending(&code.device, &code.id)
            {
                code.life = Life::Removed;
            }
        }
    }

    fn device_of(&self, body: &Value) -> Result<FakeDevice, Refused> {
        let id = body
            .get("device_id")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("device_id is required"))?;
        self.devices
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("device_not_found", "Device not found"))
    }

    fn code_index(&self, body: &Value) -> Result<usize, Refused> {
        let id = body
            .get("access_code_id")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("access_code_id is required"))?;
        self.codes
            .iter()
            .position(|c| c.id == id && c.life != Life::Removed)
            .ok_or_else(|| not_found("access_code_not_found", "Access code not found"))
    }

    /// Counts the request against `device`'s limit; the seconds to wait when over it.
    fn over_limit(&mut self, device: &str, limit: Limit, now: Timestamp) -> Option<u64> {
        let times = self.rate.entry((device.to_owned(), limit)).or_default();
        while times.front().is_some_and(|t| t.unix() <= now.unix() - 60) {
            times.pop_front();
        }
        if times.len() >= limit.per_minute() {
            let oldest = times.front().copied().unwrap_or(now);
            let wait = (oldest.unix() + 60 - now.unix()).max(1);
            return Some(u64::try_from(wait).unwrap_or(60));
        }
        times.push_back(now);
        None
    }

    fn rate_limited(&mut self, device: &str, limit: Limit, now: Timestamp) -> Result<(), Refused> {
        match self.over_limit(device, limit, now) {
            None => Ok(()),
            Some(wait) => {
                let mut response = seam_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_exceeded",
                    "Too many requests for this device; retry later",
                );
                if let Ok(v) = header::HeaderValue::from_str(&wait.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
                Err(Box::new(response))
            }
        }
    }

    fn check_pin(d: &FakeDevice, pin: &str) -> Result<(), Refused> {
        let len = u8::try_from(pin.len()).unwrap_or(u8::MAX);
        if pin.is_empty() || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("code must contain only digits"));
        }
        if !d.code_lengths.contains(&len) {
            return Err(invalid(&format!(
                "code length {len} is not supported by this device ({:?})",
                d.code_lengths
            )));
        }
        if d.no_zeros && pin.contains('0') {
            return Err(invalid(
                "code cannot contain zeros on this device (no_zeros)",
            ));
        }
        if d.cannot_start_with_12 && pin.starts_with("12") {
            return Err(invalid("code cannot start with 12 on this device"));
        }
        Ok(())
    }

    fn check_name(d: &FakeDevice, name: &str) -> Result<(), Refused> {
        if name.chars().count() > usize::try_from(d.name_max_len).unwrap_or(usize::MAX) {
            return Err(invalid(&format!(
                "name must be at most {} characters on this device",
                d.name_max_len
            )));
        }
        Ok(())
    }

    fn instant(body: &Value, key: &str) -> Result<Option<Timestamp>, Refused> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(|t| Timestamp::parse_rfc3339(t).ok())
                .map(Some)
                .ok_or_else(|| invalid(&format!("{key} must be an ISO 8601 date-time"))),
        }
    }

    fn check_window(window: Window, now: Timestamp) -> Result<(), Refused> {
        if window.ends_at <= window.starts_at {
            return Err(invalid("ends_at must be after starts_at"));
        }
        if window.ends_at <= now {
            return Err(invalid("ends_at must be in the future"));
        }
        Ok(())
    }

    /// True when another live, working code on `device` has `pin`.
    fn pin_taken(&self, device: &str, pin: &str, except: Option<&str>) -> bool {
        self.codes.iter().any(|c| {
            c.device == device
                && c.life == Life::Live
                && c.errors.is_empty()
                && c.pin == pin
                && Some(c.id.as_str()) != except
        })
    }

    fn live_codes(&self, device: &str) -> usize {
        self.codes
            .iter()
            .filter(|c| c.device == device && c.life == Life::Live && c.errors.is_empty())
            .count()
    }

    /// When an online change reaches the lock: a confirmation from now, or 72 h before
    /// the start for natively scheduled codes.
    fn due(&self, window: Window, now: Timestamp) -> Timestamp {
        now.plus(self.confirm_secs)
            .max(window.starts_at.plus(-PRELOAD_SECS))
    }

    fn create(&mut self, now: Timestamp, body: &Value) -> Answer {
        let d = self.device_of(body)?;
        self.rate_limited(&d.id, Limit::Create, now)?;
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Self::check_name(&d, &name)?;
        let (Some(starts_at), Some(ends_at)) = (
            Self::instant(body, "starts_at")?,
            Self::instant(body, "ends_at")?,
        ) else {
            return Err(invalid(
                "starts_at and ends_at are required (this fake makes time-bound codes only)",
            ));
        };
        let mut window = Window { starts_at, ends_at };
        Self::check_window(window, now)?;
        let wants_offline = body
            .get("is_offline_access_code")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let code = body.get("code").and_then(Value::as_str).map(str::to_owned);
        let offline = match (wants_offline, d.offline_codes, d.online_codes) {
            (true, true, _) => true,
            (true, false, _) => {
                return Err(invalid("this device cannot program offline access codes"));
            }
            (false, _, true) => false,
            (false, _, false) => {
                return Err(invalid(
                    "this device cannot program online access codes: set is_offline_access_code",
                ));
            }
        };
        if offline {
            if code.is_some() {
                return Err(invalid(
                    "offline access codes are generated: code cannot be specified (cannot_specify_pin_code)",
                ));
            }
            window = match body.get("max_time_rounding").and_then(Value::as_str) {
                Some("1h") => WindowPrecision::Hour.round_outward(window),
                Some("1d") => round_days(window),
                Some(other) => {
                    return Err(invalid(&format!(
                        "max_time_rounding `{other}` is not 1h or 1d"
                    )));
                }
                None if WindowPrecision::Hour.round_outward(window) == window => window,
                None => {
                    return Err(invalid(
                        "offline access codes need hour-aligned times or max_time_rounding",
                    ));
                }
            };
        }
        if let Some(pin) = &code {
            Self::check_pin(&d, pin)?;
        }
        let id = self.next("ac");
        let pin = match code {
            Some(pin) => pin,
            None => {
                let mut seed = self.next_id.wrapping_mul(7919);
                loop {
                    let pin = generated_pin(seed, &d);
                    if !self.pin_taken(&d.id, &pin, None) {
                        break pin;
                    }
                    seed = seed.wrapping_add(1);
                }
            }
        };
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        if self.pin_taken(&d.id, &pin, None) {
            errors.push((
                "duplicate_code_on_device",
                "An access code with this code already exists on the device".to_owned(),
            ));
        } else if self.live_codes(&d.id) >= usize::try_from(d.max_codes).unwrap_or(usize::MAX) {
            errors.push((
                "no_space_for_access_code_on_device",
                "No space for another access code on the device".to_owned(),
            ));
        }
        if offline && window.len_secs() > 24 * 3600 {
            warnings.push((
                "igloo_algopin_must_be_used_within_24_hours",
                "The algoPIN must be used within 24 hours of its start or it expires".to_owned(),
            ));
        }
        let held = HeldCode {
            reference: id.clone(),
            name: name.clone(),
            pin: Pin::new(pin.clone()),
            window,
        };
        let pending = if !errors.is_empty() {
            None
        } else if offline {
            self.model.apply_now(&d.id, Change::Put(held), now);
            None
        } else {
            Some(Pending {
                change: Change::Put(held),
                due: self.due(window, now),
            })
        };
        let programming_from = pending
            .as_ref()
            .map_or(now, |p| p.due.plus(-self.confirm_secs).max(now));
        self.codes.push(Code {
            id,
            device: d.id.clone(),
            name,
            pin,
            window,
            created_at: now,
            offline,
            errors,
            warnings,
            life: Life::Live,
            pending,
            programming_from,
        });
        self.settle(now);
        let code = self.codes.last().map(|c| self.code_json(c, now));
        Ok(json!({ "access_code": code }))
    }

    fn update(&mut self, now: Timestamp, body: &Value) -> Answer {
        let i = self.code_index(body)?;
        let current = self.codes[i].clone();
        let d = self
            .devices
            .get(&current.device)
            .cloned()
            .ok_or_else(|| not_found("device_not_found", "Device not found"))?;
        self.rate_limited(&d.id, Limit::Update, now)?;
        if current.offline {
            return Err(invalid("offline access codes cannot be updated"));
        }
        if current.life == Life::Removing {
            return Err(invalid("the access code is being removed"));
        }
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .map_or(current.name.clone(), str::to_owned);
        Self::check_name(&d, &name)?;
        let window = Window {
            starts_at: Self::instant(body, "starts_at")?.unwrap_or(current.window.starts_at),
            ends_at: Self::instant(body, "ends_at")?.unwrap_or(current.window.ends_at),
        };
        Self::check_window(window, now)?;
        let pin = match body.get("code").and_then(Value::as_str) {
            Some(pin) => {
                Self::check_pin(&d, pin)?;
                pin.to_owned()
            }
            None => current.pin.clone(),
        };
        if self.pin_taken(&d.id, &pin, Some(&current.id)) {
            return Err(Box::new(seam_error(
                StatusCode::BAD_REQUEST,
                "duplicate_access_code",
                "Another access code on the device has this code",
            )));
        }
        let due = self.due(window, now);
        let confirm = self.confirm_secs;
        let code = &mut self.codes[i];
        code.name = name.clone();
        code.pin = pin.clone();
        code.window = window;
        code.errors.clear();
        code.programming_from = due.plus(-confirm).max(now);
        code.pending = Some(Pending {
            change: Change::Put(HeldCode {
                reference: code.id.clone(),
                name,
                pin: Pin::new(pin),
                window,
            }),
            due,
        });
        self.settle(now);
        Ok(json!({}))
    }

    fn delete(&mut self, now: Timestamp, body: &Value) -> Answer {
        let i = self.code_index(body)?;
        let device = self.codes[i].device.clone();
        self.rate_limited(&device, Limit::Delete, now)?;
        let confirm = self.confirm_secs;
        let code = &mut self.codes[i];
        if code.offline {
            return Err(invalid(
                "offline access codes (algoPINs) cannot be deleted through Seam",
            ));
        }
        if code.life == Life::Removing {
            return Ok(json!({}));
        }
        code.life = Life::Removing;
        code.programming_from = now;
        code.pending = Some(Pending {
            change: Change::Remove(code.id.clone()),
            due: now.plus(confirm),
        });
        self.settle(now);
        Ok(json!({}))
    }

    fn list_events(&self, body: &Value) -> Answer {
        let device = body.get("device_id").and_then(Value::as_str);
        let since = Self::instant(body, "since")?.unwrap_or(Timestamp(i64::MIN));
        let types: Vec<&str> = match body.get("event_types").and_then(Value::as_array) {
            Some(list) => list.iter().filter_map(Value::as_str).collect(),
            None => body
                .get("event_type")
                .and_then(Value::as_str)
                .into_iter()
                .collect(),
        };
        let limit = body
            .get("limit")
            .and_then(Value::as_u64)
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(500);
        let events: Vec<Value> = self
            .events
            .iter()
            .rev()
            .filter(|e| e.reported && e.at >= since)
            .filter(|e| device.is_none_or(|d| d == e.device))
            .filter(|e| types.is_empty() || types.contains(&e.kind))
            .take(limit)
            .map(|e| {
                let mut v = json!({
                    "event_id": e.id,
                    "event_type": e.kind,
                    "device_id": e.device,
                    "workspace_id": "00000000-0000-4000-8000-000000000000",
                    "occurred_at": iso(e.at),
                    "created_at": iso(e.at),
                });
                if let Some(m) = e.method {
                    v["method"] = json!(m);
                }
                if let Some(a) = &e.access_code_id {
                    v["access_code_id"] = json!(a);
                    v["access_code_is_managed"] = json!(true);
                }
                if let Some(a) = &e.action_attempt_id {
                    v["action_attempt_id"] = json!(a);
                }
                v
            })
            .collect();
        Ok(json!({ "events": events }))
    }

    fn unlock(&mut self, now: Timestamp, body: &Value) -> Answer {
        let d = self.device_of(body)?;
        self.rate_limited(&d.id, Limit::Unlock, now)?;
        if !d.remote_unlock {
            return Err(invalid("this device cannot be unlocked remotely"));
        }
        let id = self.next("aa");
        let online = self.model.is_online(&d.id);
        let attempt = Attempt {
            id: id.clone(),
            device: d.id.clone(),
            error: (!online).then(|| ("device_offline", "The device is offline".to_owned())),
        };
        if online {
            let event = self.next("evt");
            self.events.push(Event {
                id: event,
                kind: "lock.unlocked",
                device: d.id.clone(),
                at: now,
                method: Some("remote"),
                access_code_id: None,
                action_attempt_id: Some(id.clone()),
                reported: true,
            });
        }
        let answer = json!({ "action_attempt": attempt_json(&attempt, true) });
        self.attempts.insert(id, attempt);
        Ok(answer)
    }

    fn device_json(&self, d: &FakeDevice) -> Value {
        let percent = self.model.battery_percent(&d.id);
        let level = f64::from(percent) / 100.0;
        let status = match percent {
            0..=10 => "critical",
            11..=25 => "low",
            26..=80 => "good",
            _ => "full",
        };
        let mut constraints =
            vec![json!({ "constraint_type": "name_length", "max_length": d.name_max_len })];
        if d.no_zeros {
            constraints.push(json!({ "constraint_type": "no_zeros" }));
        }
        if d.cannot_start_with_12 {
            constraints.push(json!({ "constraint_type": "cannot_start_with_12" }));
        }
        if !d.online_codes {
            constraints.push(json!({ "constraint_type": "cannot_specify_pin_code" }));
        }
        json!({
            "device_id": d.id,
            "device_type": if d.online_codes { "nuki_lock" } else { "igloohome_lock" },
            "display_name": d.name,
            "workspace_id": "00000000-0000-4000-8000-000000000000",
            "connected_account_id": "00000000-0000-4000-8000-00000000acc0",
            "capabilities_supported": ["access_code", "lock"],
            "can_program_online_access_codes": d.online_codes,
            "can_program_offline_access_codes": d.offline_codes,
            "can_remotely_unlock": d.remote_unlock,
            "can_remotely_lock": d.remote_unlock,
            "errors": [],
            "warnings": [],
            "properties": {
                "name": d.name,
                "online": self.model.is_online(&d.id),
                "locked": true,
                "door_open": false,
                "battery_level": level,
                "battery": { "level": level, "status": status },
                "code_constraints": constraints,
                "supported_code_lengths": d.code_lengths,
                "max_active_codes_supported": d.max_codes,
                "supports_backup_access_code_pool": false,
            },
        })
    }

    /// An access code as Seam shows it now (see the module documentation for statuses).
    fn code_json(&self, c: &Code, now: Timestamp) -> Value {
        let online = self.model.is_online(&c.device);
        let pending = c.pending.is_some() || self.model.is_pending(&c.device, &c.id);
        let mut errors: Vec<(&str, String)> = c.errors.clone();
        let mut warnings: Vec<(&str, String)> = c.warnings.clone();
        let mut scheduled = false;
        let status = if c.life == Life::Removing {
            "removing"
        } else if !c.errors.is_empty() {
            "unset"
        } else if c.offline {
            "set"
        } else if pending {
            if now.unix() - c.programming_from.unix() > DELAY_WARNING_SECS
                && now >= c.programming_from
            {
                warnings.push((
                    "delay_in_setting_on_device",
                    "Setting the code on the device is taking longer than expected".to_owned(),
                ));
            }
            if now < c.programming_from {
                "unset"
            } else if online {
                "setting"
            } else {
                "unset"
            }
        } else if now < c.window.starts_at {
            scheduled = true;
            "unset"
        } else {
            "set"
        };
        if pending && !online {
            errors.push(("device_offline", "The device is offline".to_owned()));
        }
        let notice = |key: &str, list: &[(&str, String)]| -> Vec<Value> {
            list.iter()
                .map(|(code, message)| {
                    json!({ key: code, "message": message, "created_at": iso(now) })
                })
                .collect()
        };
        let mut error_values = notice("error_code", &errors);
        for e in &mut error_values {
            e["is_access_code_error"] = json!(true);
        }
        json!({
            "access_code_id": c.id,
            "device_id": c.device,
            "name": c.name,
            "code": c.pin,
            "type": "time_bound",
            "status": status,
            "starts_at": iso(c.window.starts_at),
            "ends_at": iso(c.window.ends_at),
            "created_at": iso(c.created_at),
            "errors": error_values,
            "warnings": notice("warning_code", &warnings),
            "is_managed": true,
            "is_offline_access_code": c.offline,
            "is_one_time_use": false,
            "is_scheduled_on_device": scheduled,
            "is_waiting_for_code_assignment": false,
            "is_backup_access_code_available": false,
            "is_external_modification_allowed": false,
            "common_code_key": null,
            "pulled_backup_access_code_id": null,
        })
    }
}

/// Rounds a window outward to whole UTC days (`max_time_rounding: 1d`).
fn round_days(w: Window) -> Window {
    const DAY: i64 = 86_400;
    let start = w.starts_at.unix().div_euclid(DAY) * DAY;
    let end = w.ends_at.unix().div_euclid(DAY) * DAY
        + if w.ends_at.unix().rem_euclid(DAY) == 0 {
            0
        } else {
            DAY
        };
    Window {
        starts_at: Timestamp(start),
        ends_at: Timestamp(end),
    }
}
