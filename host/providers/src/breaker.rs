//! A circuit breaker per lock, so a lock that stays unreachable is not hammered: a dead
//! lock once drew 19,694 failed commands in a few days from a popular open-source lock
//! manager. Every code job on the lock retries on its own schedule; the breaker lets one
//! call through per cool-down instead of one per job.
//!
//! After [`BreakerPolicy::threshold`] consecutive failures that say the lock or its cloud
//! is unreachable (unavailable, timed out), the circuit opens: calls fail at once with
//! [`ProviderError::CircuitOpen`], without reaching the cloud, for the cool-down; the error
//! says when the next call is let through, so a job waits for that instant rather than
//! for its own backoff, and a lock that comes back is used again within a cool-down. Then
//! one call goes through (half-open) while the others are held back for
//! [`TRIAL_HOLD_SECS`]: an answer closes the circuit, another failure opens it again for
//! twice as long, up to [`BreakerPolicy::max_cooldown_secs`]. Any answer from the cloud,
//! even a refusal, counts as reachable; a rate limit is the account's, not the lock's, and
//! counts as neither.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use latchkey_engine::clock::Clock;
use latchkey_engine::{Capabilities, Timestamp};

use super::{
    ActivityEntry, CodeReceipt, CodeRequest, DeviceInfo, ListedCode, LockStatus, Provider,
    ProviderError,
};

/// When a circuit opens, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive unreachable answers that open the circuit.
    pub threshold: u32,
    /// The first cool-down, in seconds.
    pub cooldown_secs: i64,
    /// The longest cool-down, in seconds. Kept at the code jobs' longest backoff (120 s),
    /// so a lock that comes back is not left waiting longer than its jobs would.
    pub max_cooldown_secs: i64,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            threshold: 3,
            cooldown_secs: 30,
            max_cooldown_secs: 120,
        }
    }
}

/// How long, in seconds, the half-open circuit holds other calls back while its trial call
/// runs: every job waiting on the lock is due at the same instant, and a lock still down
/// should get one call, not one per job. A trial that never reports (its caller gave up)
/// lets the next one through after this.
pub const TRIAL_HOLD_SECS: i64 = 10;

#[derive(Debug, Clone, Copy, Default)]
struct Circuit {
    failures: u32,
    /// Open until this instant; the first call after it is the trial.
    open_until: Option<Timestamp>,
    cooldown_secs: i64,
}

/// A provider whose calls go through a circuit per device.
pub struct Guarded {
    inner: Arc<dyn Provider>,
    clock: Arc<dyn Clock>,
    policy: BreakerPolicy,
    circuits: Mutex<HashMap<String, Circuit>>,
}

impl Guarded {
    /// Guards `inner` with `policy`, timed by `clock`.
    pub fn new(inner: Arc<dyn Provider>, clock: Arc<dyn Clock>, policy: BreakerPolicy) -> Guarded {
        Guarded {
            inner,
            clock,
            policy,
            circuits: Mutex::new(HashMap::new()),
        }
    }

    fn circuits(&self) -> std::sync::MutexGuard<'_, HashMap<String, Circuit>> {
        // Each circuit is replaced whole, so a poisoned map is still consistent.
        self.circuits.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuses the call while the device's circuit is open; once it is due, lets one call
    /// through as the trial and holds the others back while it runs.
    fn admit(&self, device: &str) -> Result<(), ProviderError> {
        let now = self.clock.now();
        let mut circuits = self.circuits();
        let Some(circuit) = circuits.get_mut(device) else {
            return Ok(());
        };
        match circuit.open_until {
            Some(until) if now < until => Err(ProviderError::CircuitOpen {
                lock: device.to_owned(),
                retry_in_secs: until.unix() - now.unix(),
            }),
            Some(_) => {
                circuit.open_until = Some(now.plus(TRIAL_HOLD_SECS));
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// True while the device's circuit refuses calls (tests watch the cool-downs).
    #[cfg(test)]
    fn is_open(&self, device: &str) -> bool {
        let now = self.clock.now();
        self.circuits()
            .get(device)
            .and_then(|c| c.open_until)
            .is_some_and(|until| now < until)
    }

    /// Counts the outcome of a call that went through.
    fn record<T>(&self, device: &str, outcome: &Result<T, ProviderError>) {
        let unreachable = matches!(
            outcome,
            Err(ProviderError::Unavailable(_) | ProviderError::Timeout)
        );
        if matches!(outcome, Err(ProviderError::RateLimited(_))) {
            return;
        }
        let now = self.clock.now();
        let mut circuits = self.circuits();
        let circuit = circuits.entry(device.to_owned()).or_default();
        if !unreachable {
            *circuit = Circuit::default();
            return;
        }
        circuit.failures += 1;
        let tripped = circuit.open_until.is_some() || circuit.failures >= self.policy.threshold;
        if tripped {
            circuit.cooldown_secs = match circuit.open_until {
                Some(_) => (circuit.cooldown_secs * 2).min(self.policy.max_cooldown_secs),
                None => self.policy.cooldown_secs,
            };
            circuit.open_until = Some(now.plus(circuit.cooldown_secs));
            tracing::warn!(
                device,
                failures = circuit.failures,
                cooldown_secs = circuit.cooldown_secs,
                "lock unreachable; circuit open"
            );
        }
    }

    async fn call<T, F>(&self, device: &str, f: F) -> Result<T, ProviderError>
    where
        F: std::future::Future<Output = Result<T, ProviderError>>,
    {
        self.admit(device)?;
        let outcome = f.await;
        self.record(device, &outcome);
        outcome
    }
}

#[async_trait]
impl Provider for Guarded {
    fn capabilities(&self, device: &str) -> Option<Capabilities> {
        self.inner.capabilities(device)
    }

    async fn create_code(
        &self,
        device: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        self.call(device, self.inner.create_code(device, req)).await
    }

    async fn update_code(
        &self,
        device: &str,
        reference: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        self.call(device, self.inner.update_code(device, reference, req))
            .await
    }

    async fn revoke_code(&self, device: &str, reference: &str) -> Result<(), ProviderError> {
        self.call(device, self.inner.revoke_code(device, reference))
            .await
    }

    async fn read_code(
        &self,
        device: &str,
        reference: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        self.call(device, self.inner.read_code(device, reference))
            .await
    }

    async fn find_code(
        &self,
        device: &str,
        marker: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        self.call(device, self.inner.find_code(device, marker))
            .await
    }

    async fn list_codes(&self, device: &str) -> Result<Vec<ListedCode>, ProviderError> {
        self.call(device, self.inner.list_codes(device)).await
    }

    async fn list_locks(&self) -> Result<Vec<DeviceInfo>, ProviderError> {
        self.inner.list_locks().await
    }

    /// Not guarded: the cloud answers for a lock it cannot reach (that is how an offline
    /// lock is seen to come back), and the sync asks once per interval, not per retry.
    async fn lock_status(&self, device: &str) -> Result<LockStatus, ProviderError> {
        self.inner.lock_status(device).await
    }

    async fn activity(
        &self,
        device: &str,
        since: Timestamp,
    ) -> Result<Vec<ActivityEntry>, ProviderError> {
        self.call(device, self.inner.activity(device, since)).await
    }

    async fn unlock(&self, device: &str) -> Result<(), ProviderError> {
        self.call(device, self.inner.unlock(device)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_engine::clock::SimClock;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A provider that counts calls and answers what it is told.
    struct Scripted {
        calls: AtomicU32,
        down: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl Provider for Scripted {
        fn capabilities(&self, _: &str) -> Option<Capabilities> {
            None
        }
        async fn create_code(
            &self,
            _: &str,
            _: &CodeRequest,
        ) -> Result<CodeReceipt, ProviderError> {
            Err(ProviderError::Unsupported("not used"))
        }
        async fn update_code(
            &self,
            _: &str,
            _: &str,
            _: &CodeRequest,
        ) -> Result<CodeReceipt, ProviderError> {
            Err(ProviderError::Unsupported("not used"))
        }
        async fn revoke_code(&self, _: &str, _: &str) -> Result<(), ProviderError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.down.load(Ordering::SeqCst) {
                Err(ProviderError::Timeout)
            } else {
                Ok(())
            }
        }
        async fn read_code(&self, _: &str, _: &str) -> Result<Option<CodeReceipt>, ProviderError> {
            Ok(None)
        }
        async fn find_code(&self, _: &str, _: &str) -> Result<Option<CodeReceipt>, ProviderError> {
            Ok(None)
        }
        async fn list_codes(&self, _: &str) -> Result<Vec<ListedCode>, ProviderError> {
            Ok(Vec::new())
        }
        async fn list_locks(&self) -> Result<Vec<DeviceInfo>, ProviderError> {
            Ok(Vec::new())
        }
        async fn lock_status(&self, _: &str) -> Result<LockStatus, ProviderError> {
            Err(ProviderError::Unsupported("not used"))
        }
        async fn activity(
            &self,
            _: &str,
            _: Timestamp,
        ) -> Result<Vec<ActivityEntry>, ProviderError> {
            Ok(Vec::new())
        }
        async fn unlock(&self, _: &str) -> Result<(), ProviderError> {
            Err(ProviderError::Unsupported("not used"))
        }
    }

    /// A lock that does not answer, behind a breaker with the default policy, on a
    /// simulated clock.
    fn unreachable_lock() -> (SimClock, Arc<Scripted>, Guarded) {
        let clock = SimClock::new(Timestamp(1_800_000_000));
        let inner = Arc::new(Scripted {
            calls: AtomicU32::new(0),
            down: true.into(),
        });
        let guarded = Guarded::new(
            inner.clone(),
            Arc::new(clock.clone()),
            BreakerPolicy::default(),
        );
        (clock, inner, guarded)
    }

    #[tokio::test]
    async fn an_unreachable_lock_gets_one_call_per_cooldown_and_recovers() {
        let (clock, inner, guarded) = unreachable_lock();
        let calls = || inner.calls.load(Ordering::SeqCst);

        for _ in 0..3 {
            assert_eq!(
                guarded.revoke_code("door", "c").await,
                Err(ProviderError::Timeout)
            );
        }
        assert_eq!(calls(), 3);
        // Open: a hundred attempts reach nothing, each told when the trial is due.
        clock.advance_to(clock.now().plus(12));
        for _ in 0..100 {
            assert_eq!(
                guarded.revoke_code("door", "c").await,
                Err(ProviderError::CircuitOpen {
                    lock: "door".into(),
                    retry_in_secs: 18
                })
            );
        }
        assert_eq!(calls(), 3, "the open circuit spared the lock");
        assert!(guarded.revoke_code("other-door", "c").await.is_err());
        assert_eq!(calls(), 4, "circuits are per lock");

        // 30 s after it opened, one trial; it fails, so the next cool-down is 60 s.
        clock.advance_to(clock.now().plus(18));
        assert_eq!(
            guarded.revoke_code("door", "c").await,
            Err(ProviderError::Timeout)
        );
        assert!(guarded.revoke_code("door", "c").await.is_err());
        assert_eq!(calls(), 5);
        clock.advance_to(clock.now().plus(59));
        assert!(guarded.revoke_code("door", "c").await.is_err());
        assert_eq!(calls(), 5, "still open after 59 s");

        // The lock comes back: the trial succeeds and the circuit closes.
        inner.down.store(false, Ordering::SeqCst);
        clock.advance_to(clock.now().plus(1));
        assert_eq!(guarded.revoke_code("door", "c").await, Ok(()));
        assert_eq!(guarded.revoke_code("door", "c").await, Ok(()));
        assert_eq!(calls(), 7);
    }

    #[tokio::test]
    async fn cooldowns_double_up_to_the_cap() {
        let (clock, _, guarded) = unreachable_lock();
        for _ in 0..3 {
            let _ = guarded.revoke_code("door", "c").await;
        }
        let mut cooldowns = Vec::new();
        for _ in 0..5 {
            let mut waited = 0;
            while guarded.is_open("door") {
                clock.advance_to(clock.now().plus(1));
                waited += 1;
            }
            cooldowns.push(waited);
            let _ = guarded.revoke_code("door", "c").await;
        }
        assert_eq!(cooldowns, vec![30, 60, 120, 120, 120]);
    }

    /// Half-open, the first call is the trial and the others wait for its answer: a lock
    /// still down is called once however many jobs were waiting for it, and a lock that
    /// answers again takes the held-back calls as soon as they return.
    #[tokio::test]
    async fn the_trial_holds_the_other_calls_back() {
        let (clock, inner, guarded) = unreachable_lock();
        let calls = || inner.calls.load(Ordering::SeqCst);
        for _ in 0..3 {
            let _ = guarded.revoke_code("door", "c").await;
        }
        clock.advance_to(clock.now().plus(30));
        // The trial reaches the lock; the jobs due at the same instant are held back.
        assert!(guarded.admit("door").is_ok());
        for _ in 0..10 {
            assert_eq!(
                guarded.revoke_code("door", "c").await,
                Err(ProviderError::CircuitOpen {
                    lock: "door".into(),
                    retry_in_secs: TRIAL_HOLD_SECS
                })
            );
        }
        assert_eq!(calls(), 3, "nothing but the trial may reach the lock");
        // The trial's answer closes the circuit for everyone.
        inner.down.store(false, Ordering::SeqCst);
        guarded.record::<()>("door", &Ok(()));
        assert_eq!(guarded.revoke_code("door", "c").await, Ok(()));
        assert_eq!(calls(), 4);
    }
}
