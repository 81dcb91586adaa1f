//! Injected faults: the `--faults` spec, delivery perturbations, lock outages, and codes
//! changed behind Latchkey's back.
//!
//! Every random choice is drawn from the caller's generator in a fixed order, so one seed
//! gives one replay.

use std::str::FromStr;
use std::sync::Arc;

use latchkey_engine::{LockId, Pin, Timestamp};
use latchkey_providers::segment::CodeSegment;
use latchkey_providers::simulator::Tamper;
use rand::Rng;

use super::clouds::Tamperable;
use super::timeline::PlannedWebhook;

/// What to break, and how often. Probabilities are in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// A webhook is delivered twice (the copy 0–120 s later).
    pub duplicate: f64,
    /// A webhook is held back until just after the next webhook of the same reservation.
    pub reorder: f64,
    /// The 2xx is lost; the platform redelivers the same webhook id 1–10 minutes later.
    pub lost_ack: f64,
    /// A provider call fails with an error.
    pub provider_error: f64,
    /// A provider call times out, possibly after taking effect.
    pub provider_timeout: f64,
    /// Per lock and simulated day: an outage starts.
    pub outage: f64,
    /// Longest outage, in minutes.
    pub outage_max_minutes: u32,
    /// Restart the service every this many delivered webhooks; 0 never.
    pub restart_every: u64,
    /// Per delivered webhook: one of Latchkey's codes on an online lock whose cloud lists
    /// codes (the simulator, and the Nuki, TTLock and Seam fakes) is deleted or given
    /// another PIN behind its back, as in the vendor's app, and the lock's cloud reports
    /// the change (the service syncs that lock).
    pub tamper: f64,
}

impl FaultSpec {
    /// No faults at all.
    pub fn none() -> FaultSpec {
        FaultSpec {
            duplicate: 0.0,
            reorder: 0.0,
            lost_ack: 0.0,
            provider_error: 0.0,
            provider_timeout: 0.0,
            outage: 0.0,
            outage_max_minutes: 60,
            restart_every: 0,
            tamper: 0.0,
        }
    }

    /// `--faults default`: a standard mix of every fault.
    pub fn default_mix() -> FaultSpec {
        FaultSpec {
            duplicate: 0.05,
            reorder: 0.05,
            lost_ack: 0.02,
            provider_error: 0.02,
            provider_timeout: 0.01,
            outage: 0.02,
            outage_max_minutes: 60,
            restart_every: 500,
            tamper: 0.01,
        }
    }

    /// True when nothing is injected.
    pub fn is_none(&self) -> bool {
        *self
            == FaultSpec {
                outage_max_minutes: self.outage_max_minutes,
                ..FaultSpec::none()
            }
    }
}

/// Why a `--faults` spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultSpecError {
    /// An entry is not `key=value`.
    #[error("`{0}` is not key=value (or `default`, `none`)")]
    Syntax(String),
    /// The key is not a known fault.
    #[error(
        "unknown fault `{0}`; known: duplicate, reorder, lost-ack, provider-error, \
         provider-timeout, outage, outage-max, restart-every, tamper"
    )]
    UnknownKey(String),
    /// The value does not fit the key.
    #[error("`{key}={value}`: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What was expected.
        reason: &'static str,
    },
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    /// `none`, empty, `default`, or comma-separated `key=value` (starting from no faults;
    /// `default,reorder=0.1` starts from the default mix).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut spec = FaultSpec::none();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "none" => spec = FaultSpec::none(),
                "default" => spec = FaultSpec::default_mix(),
                _ => {
                    let (key, value) = part
                        .split_once('=')
                        .map(|(k, v)| (k.trim(), v.trim()))
                        .ok_or_else(|| FaultSpecError::Syntax(part.to_string()))?;
                    let bad = |reason| FaultSpecError::BadValue {
                        key: key.to_string(),
                        value: value.to_string(),
                        reason,
                    };
                    let prob = || match value.parse::<f64>() {
                        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
                        _ => Err(bad("expected a probability from 0 to 1")),
                    };
                    match key {
                        "duplicate" => spec.duplicate = prob()?,
                        "reorder" => spec.reorder = prob()?,
                        "lost-ack" => spec.lost_ack = prob()?,
                        "provider-error" => spec.provider_error = prob()?,
                        "provider-timeout" => spec.provider_timeout = prob()?,
                        "outage" => spec.outage = prob()?,
                        "tamper" => spec.tamper = prob()?,
                        "outage-max" => {
                            spec.outage_max_minutes = match value.parse::<u32>() {
                                Ok(m) if (1..=24 * 60).contains(&m) => m,
                                _ => return Err(bad("expected whole minutes from 1 to 1440")),
                            }
                        }
                        "restart-every" => {
                            spec.restart_every = value.parse::<u64>().map_err(|_| {
                                bad("expected a whole number of webhooks (0 = never)")
                            })?
                        }
                        _ => return Err(FaultSpecError::UnknownKey(key.to_string())),
                    }
                }
            }
        }
        Ok(spec)
    }
}

/// How a delivery relates to the webhook's first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryKind {
    /// The platform's first attempt. Its 2xx is lost when a [`DeliveryKind::Redelivery`]
    /// of the same webhook follows.
    First,
    /// A spurious second copy.
    Duplicate,
    /// The platform retrying after a lost 2xx.
    Redelivery,
}

/// One HTTP delivery of a webhook at `deliver_at` (UTC seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// When it is delivered.
    pub deliver_at: Timestamp,
    /// The webhook, shared between its copies.
    pub webhook: Arc<PlannedWebhook>,
    /// First attempt, duplicate or redelivery.
    pub kind: DeliveryKind,
}

/// A lock out of reach during `[from, until)` (UTC seconds).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FaultWindow {
    /// The lock.
    pub lock: LockId,
    /// First instant of the outage.
    pub from: Timestamp,
    /// First instant after it.
    pub until: Timestamp,
}

/// Draws `true` with probability `p`; NaN or out-of-range rates never panic.
pub fn chance(rng: &mut impl Rng, p: f64) -> bool {
    p > 0.0 && rng.random::<f64>() < p
}

/// Turns webhooks (sorted by send instant) into deliveries, sorted by delivery instant.
///
/// Reordering holds a webhook back until one second after the next webhook of the same
/// reservation is delivered, keeping its id and version, so the receiver sees an older
/// version after a newer one. The last webhook of a reservation is never held back.
pub fn apply_delivery_faults(
    webhooks: Vec<PlannedWebhook>,
    spec: &FaultSpec,
    rng: &mut impl Rng,
) -> Vec<Delivery> {
    let webhooks: Vec<Arc<PlannedWebhook>> = webhooks.into_iter().map(Arc::new).collect();
    let held: Vec<bool> = webhooks.iter().map(|_| chance(rng, spec.reorder)).collect();
    let mut next_of_same: Vec<Option<usize>> = vec![None; webhooks.len()];
    let mut last_seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, w) in webhooks.iter().enumerate().rev() {
        next_of_same[i] = last_seen.insert(w.reservation.id.as_str(), i);
    }
    // Backwards, so a held webhook knows when its successor (itself perhaps held) goes out.
    let mut first_at: Vec<i64> = webhooks.iter().map(|w| w.send_at.unix()).collect();
    for i in (0..webhooks.len()).rev() {
        if let (true, Some(next)) = (held[i], next_of_same[i]) {
            first_at[i] = first_at[next].max(first_at[i]) + 1;
        }
    }
    let mut out: Vec<(i64, usize, Delivery)> = Vec::with_capacity(webhooks.len());
    for (i, w) in webhooks.iter().enumerate() {
        let at = first_at[i];
        let mut deliver = |t: i64, kind: DeliveryKind| {
            let delivery = Delivery {
                deliver_at: Timestamp(t),
                webhook: Arc::clone(w),
                kind,
            };
            out.push((t, i, delivery));
        };
        deliver(at, DeliveryKind::First);
        if chance(rng, spec.duplicate) {
            deliver(at + rng.random_range(0..=120), DeliveryKind::Duplicate);
        }
        if chance(rng, spec.lost_ack) {
            deliver(at + rng.random_range(60..=600), DeliveryKind::Redelivery);
        }
    }
    out.sort_by_key(|(at, i, d)| (*at, *i, d.kind));
    out.into_iter().map(|(_, _, d)| d).collect()
}

/// Outages per lock: for each simulated day from `start` to `end` (UTC seconds, 24 h steps),
/// with probability `spec.outage`, one outage starting at a random second of that day and
/// lasting 1 to `outage_max_minutes` minutes. Sorted by (start, lock).
pub fn outages(
    locks: &[LockId],
    start: Timestamp,
    end: Timestamp,
    spec: &FaultSpec,
    rng: &mut impl Rng,
) -> Vec<FaultWindow> {
    const DAY: i64 = 86_400;
    let mut out = Vec::new();
    if spec.outage.is_nan() || spec.outage <= 0.0 || end <= start {
        return out;
    }
    let max_secs = i64::from(spec.outage_max_minutes.max(1)) * 60;
    for lock in locks {
        let mut day = start.unix();
        while day < end.unix() {
            if chance(rng, spec.outage) {
                let from = day + rng.random_range(0..DAY);
                let until = from + rng.random_range(60..=max_secs);
                out.push(FaultWindow {
                    lock: lock.clone(),
                    from: Timestamp(from),
                    until: Timestamp(until),
                });
            }
            day = day.saturating_add(DAY);
        }
    }
    out.sort_by(|a, b| (a.from, &a.lock).cmp(&(b.from, &b.lock)));
    out
}

/// A lock whose codes a replay may change behind the service's back: the lock, the cloud
/// that holds it, and its device there.
#[derive(Clone)]
pub struct TamperTarget {
    /// The lock.
    pub lock: LockId,
    /// Its cloud.
    pub cloud: Arc<dyn Tamperable>,
    /// Its device id in that cloud.
    pub device: String,
}

/// Changes one of Latchkey's codes present at `now` on one of `locks` (drawn uniformly),
/// behind its back: deletes it, or gives it another PIN of the same length that no code
/// on that lock has. Returns the lock, or `None` when the lock drawn holds none of our
/// codes.
pub fn tamper_one(locks: &[TamperTarget], now: Timestamp, rng: &mut impl Rng) -> Option<LockId> {
    if locks.is_empty() {
        return None;
    }
    let TamperTarget {
        lock,
        cloud,
        device,
    } = &locks[rng.random_range(0..locks.len())];
    let present: Vec<CodeSegment> = cloud
        .history(device)
        .into_iter()
        .filter(|seg| seg.present_at(now))
        .collect();
    let ours: Vec<&CodeSegment> = present.iter().filter(|s| !s.marker.is_empty()).collect();
    if ours.is_empty() {
        return None;
    }
    let code = ours[rng.random_range(0..ours.len())];
    let change = if rng.random_bool(0.5) {
        Tamper::Delete
    } else {
        let digits = code.pin.as_str().len().clamp(4, 9);
        // Ten draws make a clash with a code present all but impossible; a rare one is
        // a deletion instead.
        (0..10)
            .map(|_| {
                (0..digits)
                    .map(|_| char::from(b'1' + rng.random_range(0..9u8)))
                    .collect::<String>()
            })
            .find(|pin| present.iter().all(|s| s.pin.as_str() != pin))
            .map_or(Tamper::Delete, |pin| Tamper::ChangePin(Pin::new(pin)))
    };
    tracing::debug!(%lock, reference = %code.reference, marker = %code.marker, ?change, at = %now, "code changed behind the service's back");
    cloud
        .tamper(device, &code.reference, change)
        .then(|| lock.clone())
}
