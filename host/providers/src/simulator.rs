//! The built-in lock simulator: a provider whose locks live in memory.
//!
//! Three lock profiles cover the behaviours real clouds show:
//! - `online`: custom PINs (6 digits from 1–9, not starting with `12`, as on Nuki),
//!   minute windows, update and revoke in place;
//! - `offline`: provider-generated PINs, whole-hour windows, no update, no revocation
//!   (igloohome algoPIN, TTLock random PINs without a gateway);
//! - `slow`: like `online`, but every change reaches the lock [`SLOW_DELAY_SECS`] after the
//!   call, which answers `Pending` until then.
//!
//! The simulator records every code each lock has held over time, so a test or the replay
//! oracle can ask "does PIN P open lock L at instant T?" exactly. Faults are injected on
//! demand: random errors, timeouts that lose the response after the change took effect,
//! and outages during which a lock answers nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use latchkey_engine::{
    Capabilities, Connectivity, Pin, PinRules, Timestamp, Window, WindowPrecision,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

pub use super::segment::CodeSegment;
use super::segment::HeldCodes;
use super::{
    AccessMethod, ActivityEntry, CodeReceipt, CodeRequest, DeviceInfo, ListedCode, LockAction,
    LockStatus, Provider, ProviderError, ReceiptStatus,
};
use latchkey_engine::clock::Clock;

/// Seconds a `slow` lock takes to apply a change.
pub const SLOW_DELAY_SECS: i64 = 90;

/// Codes one simulated lock holds at once unless it is given its own capacity
/// ([`Simulator::set_max_codes`], `max_codes` in `property.toml`).
pub const SIM_MAX_CODES: u32 = 1000;

/// How a simulated lock behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimProfile {
    /// Online keypad: custom PINs, minute windows, update and revoke.
    Online,
    /// Offline keypad: generated PINs, whole-hour windows, no update or revoke.
    Offline,
    /// Online, but changes take [`SLOW_DELAY_SECS`] to reach the lock.
    Slow,
}

impl SimProfile {
    /// The capabilities a lock of this profile declares.
    pub fn capabilities(self) -> Capabilities {
        let online = self != SimProfile::Offline;
        Capabilities {
            connectivity: if online {
                Connectivity::Online
            } else {
                Connectivity::Offline
            },
            custom_pin: online,
            precision: if online {
                WindowPrecision::Minute
            } else {
                WindowPrecision::Hour
            },
            can_revoke: online,
            can_update: online,
            remote_unlock: online,
            max_codes: SIM_MAX_CODES,
            pin: PinRules {
                min_len: 6,
                max_len: 6,
                alphabet: "123456789".into(),
                forbidden_prefixes: vec!["12".into()],
            },
        }
    }
}

/// Random faults applied to every call, as probabilities in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SimFaults {
    /// A call fails with [`ProviderError::Unavailable`] before doing anything.
    pub error_rate: f64,
    /// A call takes effect, then fails with [`ProviderError::Timeout`].
    pub timeout_rate: f64,
}

#[derive(Debug)]
struct SimLock {
    profile: SimProfile,
    /// Codes it holds at once: a create beyond them is refused.
    max_codes: u32,
    segments: Vec<CodeSegment>,
    battery_percent: u8,
    activity: Vec<ActivityEntry>,
}

impl SimLock {
    /// Its profile's capabilities, with its own capacity.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_codes: self.max_codes,
            ..self.profile.capabilities()
        }
    }

    /// The latest segment of `reference`, if it has not left the lock as of `at`.
    fn current(&mut self, reference: &str, at: Timestamp) -> Option<&mut CodeSegment> {
        self.segments
            .iter_mut()
            .rev()
            .find(|s| s.reference == reference)
            .filter(|s| s.present_until.is_none_or(|end| end > at))
    }
}

#[derive(Debug)]
struct State {
    locks: HashMap<String, SimLock>,
    faults: SimFaults,
    outages: HashMap<String, Vec<Window>>,
    rng: StdRng,
    next_ref: u64,
    calls: u64,
    repeated_creates: u64,
}

/// A change made to a code behind Latchkey's back ([`Simulator::tamper`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tamper {
    /// The code is deleted.
    Delete,
    /// The code gets this PIN.
    ChangePin(Pin),
}

/// The simulator. Clones share the same locks.
#[derive(Debug, Clone)]
pub struct Simulator {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
}

impl Simulator {
    /// An empty simulator reading time from `clock`; `seed` drives generated PINs and faults.
    pub fn new(clock: Arc<dyn Clock>, seed: u64) -> Simulator {
        let state = State {
            locks: HashMap::new(),
            faults: SimFaults::default(),
            outages: HashMap::new(),
            rng: StdRng::seed_from_u64(seed),
            next_ref: 1,
            calls: 0,
            repeated_creates: 0,
        };
        Simulator {
            state: Arc::new(Mutex::new(state)),
            clock,
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the tables half-written (every change
        // is a push or a field store), so a poisoned mutex is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a lock holding [`SIM_MAX_CODES`] codes (or changes its profile).
    pub fn add_lock(&self, device: &str, profile: SimProfile) {
        let mut s = self.lock_state();
        s.locks
            .entry(device.to_owned())
            .and_modify(|l| l.profile = profile)
            .or_insert(SimLock {
                profile,
                max_codes: SIM_MAX_CODES,
                segments: Vec::new(),
                battery_percent: 100,
                activity: Vec::new(),
            });
    }

    /// Sets how many codes `device` holds at once: creating one more is refused with
    /// [`ProviderError::Rejected`] until one leaves, as a full keypad refuses it. Offline
    /// locks compute their PINs and hold none, so they never fill up.
    pub fn set_max_codes(&self, device: &str, max_codes: u32) {
        if let Some(lock) = self.lock_state().locks.get_mut(device) {
            lock.max_codes = max_codes;
        }
    }

    /// Sets `device`'s battery charge (0–100 %).
    pub fn set_battery(&self, device: &str, percent: u8) {
        if let Some(lock) = self.lock_state().locks.get_mut(device) {
            lock.battery_percent = percent.min(100);
        }
    }

    /// A guest types `pin` on `device`'s keypad now: the door opens if a code held allows
    /// it, and the attempt goes into the lock's activity log either way. Returns whether
    /// the door opened.
    pub fn enter_pin(&self, device: &str, pin: &str) -> bool {
        let now = self.clock.now();
        let mut s = self.lock_state();
        let next = s.next_ref;
        s.next_ref += 1;
        let Some(lock) = s.locks.get_mut(device) else {
            return false;
        };
        let used = lock
            .segments
            .iter()
            .find(|seg| seg.pin.as_str() == pin && seg.opens_at(now))
            .cloned();
        lock.activity.push(ActivityEntry {
            id: format!("sim-log-{next}"),
            at: now,
            action: if used.is_some() {
                LockAction::Unlock
            } else {
                LockAction::Denied
            },
            method: AccessMethod::Keypad,
            code_reference: used.as_ref().map(|seg| seg.reference.clone()),
            code_name: used.as_ref().map(|seg| seg.marker.clone()),
            pin: Some(Pin::new(pin)),
            actor: None,
        });
        used.is_some()
    }

    /// Sets the random fault rates for every later call.
    pub fn set_faults(&self, faults: SimFaults) {
        self.lock_state().faults = faults;
    }

    /// Makes `device` unreachable during `window`.
    pub fn add_outage(&self, device: &str, window: Window) {
        self.lock_state()
            .outages
            .entry(device.to_owned())
            .or_default()
            .push(window);
    }

    /// Every code `device` has held, oldest first.
    pub fn history(&self, device: &str) -> Vec<CodeSegment> {
        self.lock_state()
            .locks
            .get(device)
            .map(|l| l.segments.clone())
            .unwrap_or_default()
    }

    /// The devices known to the simulator, sorted.
    pub fn devices(&self) -> Vec<String> {
        let mut d: Vec<_> = self.lock_state().locks.keys().cloned().collect();
        d.sort();
        d
    }

    /// True when `pin` opens `device` at `at`.
    pub fn opens(&self, device: &str, pin: &str, at: Timestamp) -> bool {
        self.lock_state().locks.get(device).is_some_and(|l| {
            l.segments
                .iter()
                .any(|s| s.pin.as_str() == pin && s.opens_at(at))
        })
    }

    /// Number of provider calls answered so far.
    pub fn calls(&self) -> u64 {
        self.lock_state().calls
    }

    /// Creations of a code whose marker the lock already held: a provider call made twice
    /// for one idempotency marker (0 when every retry looked the code up first).
    pub fn repeated_creates(&self) -> u64 {
        self.lock_state().repeated_creates
    }

    /// Changes the code `reference` on `device` outside Latchkey, as someone might in the
    /// vendor's app: deletes it, or gives it another PIN. False when the lock holds no
    /// such code now.
    pub fn tamper(&self, device: &str, reference: &str, change: Tamper) -> bool {
        let now = self.clock.now();
        let mut s = self.lock_state();
        let Some(current) = s
            .locks
            .get_mut(device)
            .and_then(|lock| lock.current(reference, now))
        else {
            return false;
        };
        let mut next = current.clone();
        current.present_until = Some(now.max(current.present_from));
        if let Tamper::ChangePin(pin) = change {
            next.pin = pin;
            next.present_from = now;
            if let Some(lock) = s.locks.get_mut(device) {
                lock.segments.push(next);
            }
        }
        true
    }

    /// Puts a code on the lock outside Latchkey, as staff might in the vendor's app.
    pub fn put_foreign_code(&self, device: &str, pin: &str, window: Window) {
        let now = self.clock.now();
        let mut s = self.lock_state();
        let reference = format!("foreign-{}", s.next_ref);
        s.next_ref += 1;
        if let Some(lock) = s.locks.get_mut(device) {
            lock.segments.push(CodeSegment {
                reference,
                marker: String::new(),
                pin: Pin::new(pin),
                window,
                present_from: now,
                present_until: None,
            });
        }
    }

    /// Runs `op` on `device` under the fault model: outage and random error first (nothing
    /// happens), then the operation, then possibly a lost response.
    fn call<T>(
        &self,
        device: &str,
        op: impl FnOnce(&mut State, Timestamp) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let now = self.clock.now();
        let mut s = self.lock_state();
        s.calls += 1;
        if s.outages
            .get(device)
            .is_some_and(|o| o.iter().any(|w| w.contains(now)))
        {
            return Err(ProviderError::Unavailable(format!(
                "lock `{device}` is offline"
            )));
        }
        let faults = s.faults;
        if faults.error_rate > 0.0 && s.rng.random_bool(faults.error_rate.min(1.0)) {
            return Err(ProviderError::Unavailable("simulated cloud error".into()));
        }
        let result = op(&mut s, now)?;
        if faults.timeout_rate > 0.0 && s.rng.random_bool(faults.timeout_rate.min(1.0)) {
            return Err(ProviderError::Timeout);
        }
        Ok(result)
    }
}

fn receipt(seg: &CodeSegment, now: Timestamp) -> CodeReceipt {
    CodeReceipt {
        reference: seg.reference.clone(),
        pin: seg.pin.clone(),
        window: seg.window,
        status: if seg.present_from <= now {
            ReceiptStatus::Active
        } else {
            ReceiptStatus::Pending
        },
    }
}

fn unknown(device: &str) -> ProviderError {
    ProviderError::NotFound(format!("device `{device}`"))
}

/// A PIN no code present on the lock uses (offline locks: no code ever), from the rules.
fn generate_pin(
    rng: &mut StdRng,
    rules: &PinRules,
    taken: impl Fn(&str) -> bool,
) -> Result<Pin, ProviderError> {
    let alphabet: Vec<char> = rules.alphabet.chars().collect();
    for _ in 0..1000 {
        let pin: String = (0..rules.max_len)
            .map(|_| alphabet[rng.random_range(0..alphabet.len())])
            .collect();
        if rules.check(&pin).is_ok() && !taken(&pin) {
            return Ok(Pin::new(pin));
        }
    }
    Err(ProviderError::Rejected(
        "no free PIN left on this lock".into(),
    ))
}

#[async_trait]
impl Provider for Simulator {
    fn capabilities(&self, device: &str) -> Option<Capabilities> {
        self.lock_state()
            .locks
            .get(device)
            .map(SimLock::capabilities)
    }

    async fn create_code(
        &self,
        device: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        self.call(device, |s, now| {
            let reference = format!("sim-{}", s.next_ref);
            let State {
                locks,
                rng,
                next_ref,
                repeated_creates,
                ..
            } = s;
            let lock = locks.get_mut(device).ok_or_else(|| unknown(device))?;
            if lock.segments.iter().any(|seg| seg.marker == req.marker) {
                *repeated_creates += 1;
            }
            let caps = lock.capabilities();
            let present = |seg: &&CodeSegment| seg.present_until.is_none_or(|end| end > now);
            // Offline PINs are computed by the lock, not stored on it: no slots to run out of.
            let stores_codes = caps.connectivity == Connectivity::Online;
            if stores_codes
                && lock.segments.iter().filter(present).count() >= caps.max_codes as usize
            {
                return Err(ProviderError::Rejected(format!(
                    "lock holds its maximum of {} codes",
                    caps.max_codes
                )));
            }
            let pin = match (&req.pin, caps.custom_pin) {
                (Some(pin), true) => {
                    caps.pin
                        .check(pin.as_str())
                        .map_err(ProviderError::Rejected)?;
                    if lock
                        .segments
                        .iter()
                        .filter(present)
                        .any(|seg| seg.pin == *pin)
                    {
                        return Err(ProviderError::PinConflict);
                    }
                    pin.clone()
                }
                (None, true) => generate_pin(rng, &caps.pin, |p| {
                    lock.segments
                        .iter()
                        .filter(present)
                        .any(|seg| seg.pin.as_str() == p)
                })?,
                (_, false) => generate_pin(rng, &caps.pin, |p| {
                    lock.segments.iter().any(|seg| seg.pin.as_str() == p)
                })?,
            };
            let delay = if lock.profile == SimProfile::Slow {
                SLOW_DELAY_SECS
            } else {
                0
            };
            let seg = CodeSegment {
                reference,
                marker: req.marker.clone(),
                pin,
                window: caps.precision.round_outward(req.window),
                present_from: now.plus(delay),
                present_until: None,
            };
            *next_ref += 1;
            let out = receipt(&seg, now);
            lock.segments.push(seg);
            Ok(out)
        })
    }

    async fn update_code(
        &self,
        device: &str,
        reference: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        self.call(device, |s, now| {
            let lock = s.locks.get_mut(device).ok_or_else(|| unknown(device))?;
            let caps = lock.capabilities();
            if !caps.can_update {
                return Err(ProviderError::Unsupported("this lock cannot change a code"));
            }
            let delay = if lock.profile == SimProfile::Slow {
                SLOW_DELAY_SECS
            } else {
                0
            };
            let current = lock
                .current(reference, now)
                .ok_or_else(|| ProviderError::NotFound(reference.into()))?;
            let switch_at = now.plus(delay).max(current.present_from);
            let mut next = current.clone();
            current.present_until = Some(switch_at);
            next.window = caps.precision.round_outward(req.window);
            next.present_from = switch_at;
            if let Some(pin) = &req.pin {
                next.pin = pin.clone();
            }
            let out = receipt(&next, now);
            lock.segments.push(next);
            Ok(out)
        })
    }

    async fn revoke_code(&self, device: &str, reference: &str) -> Result<(), ProviderError> {
        self.call(device, |s, now| {
            let lock = s.locks.get_mut(device).ok_or_else(|| unknown(device))?;
            if !lock.capabilities().can_revoke {
                return Err(ProviderError::Unsupported("this lock cannot delete a code"));
            }
            let delay = if lock.profile == SimProfile::Slow {
                SLOW_DELAY_SECS
            } else {
                0
            };
            if let Some(current) = lock.current(reference, now) {
                current.present_until = Some(now.plus(delay).max(current.present_from));
            }
            Ok(())
        })
    }

    async fn read_code(
        &self,
        device: &str,
        reference: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        self.call(device, |s, now| {
            let lock = s.locks.get_mut(device).ok_or_else(|| unknown(device))?;
            Ok(lock.current(reference, now).map(|seg| receipt(seg, now)))
        })
    }

    async fn find_code(
        &self,
        device: &str,
        marker: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        self.call(device, |s, now| {
            let lock = s.locks.get(device).ok_or_else(|| unknown(device))?;
            Ok(lock
                .segments
                .iter()
                .rev()
                .find(|seg| seg.marker == marker && seg.present_until.is_none_or(|end| end > now))
                .map(|seg| receipt(seg, now)))
        })
    }

    /// The codes present on the lock now (the lock sync asks online locks only).
    async fn list_codes(&self, device: &str) -> Result<Vec<ListedCode>, ProviderError> {
        self.call(device, |s, now| {
            let lock = s.locks.get(device).ok_or_else(|| unknown(device))?;
            Ok(lock
                .segments
                .iter()
                .filter(|seg| seg.present_at(now))
                .map(|seg| ListedCode {
                    reference: seg.reference.clone(),
                    name: Some(seg.marker.clone()).filter(|m| !m.is_empty()),
                    pin: Some(seg.pin.clone()),
                    window: Some(seg.window),
                    enabled: true,
                })
                .collect())
        })
    }

    async fn list_locks(&self) -> Result<Vec<DeviceInfo>, ProviderError> {
        Ok(self
            .devices()
            .into_iter()
            .map(|device| DeviceInfo {
                name: format!("Simulated {device}"),
                device,
            })
            .collect())
    }

    /// Answered by the simulated cloud even during an outage, which it reports as offline.
    async fn lock_status(&self, device: &str) -> Result<LockStatus, ProviderError> {
        let now = self.clock.now();
        let mut s = self.lock_state();
        s.calls += 1;
        let offline = s
            .outages
            .get(device)
            .is_some_and(|o| o.iter().any(|w| w.contains(now)));
        let lock = s.locks.get(device).ok_or_else(|| unknown(device))?;
        Ok(LockStatus::from_percent(
            !offline,
            Some(lock.battery_percent),
        ))
    }

    async fn activity(
        &self,
        device: &str,
        since: Timestamp,
    ) -> Result<Vec<ActivityEntry>, ProviderError> {
        self.call(device, |s, _| {
            let lock = s.locks.get(device).ok_or_else(|| unknown(device))?;
            Ok(lock
                .activity
                .iter()
                .filter(|e| e.at >= since)
                .cloned()
                .collect())
        })
    }

    async fn unlock(&self, device: &str) -> Result<(), ProviderError> {
        self.call(device, |s, now| {
            let next = s.next_ref;
            s.next_ref += 1;
            let lock = s.locks.get_mut(device).ok_or_else(|| unknown(device))?;
            if !lock.capabilities().remote_unlock {
                return Err(ProviderError::Unsupported(
                    "this lock cannot be opened remotely",
                ));
            }
            lock.activity.push(ActivityEntry {
                id: format!("sim-log-{next}"),
                at: now,
                action: LockAction::Unlock,
                method: AccessMethod::Remote,
                code_reference: None,
                code_name: None,
                pin: None,
                actor: None,
            });
            Ok(())
        })
    }
}

impl HeldCodes for Simulator {
    fn history(&self, device: &str) -> Vec<CodeSegment> {
        Simulator::history(self, device)
    }

    fn opens(&self, device: &str, pin: &str, at: Timestamp) -> bool {
        Simulator::opens(self, device, pin, at)
    }
}

#[cfg(test)]
mod tests;
