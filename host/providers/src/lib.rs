//! Lock providers: the lock makers' clouds, behind one trait.
//!
//! The reconciler never branches on a provider's name: it reads [`Capabilities`] and calls
//! [`Provider`]. Every call is made from a durable job, so it may be repeated: `create_code`
//! takes an idempotency `marker` that [`Provider::find_code`] can look up after a lost
//! response.

pub mod account;
pub mod accounts;
pub mod breaker;
pub mod credentials;
pub mod http;
pub mod igloohome;
pub mod metered;
pub mod monitoring;
pub mod nuki;
pub mod seam;
pub mod segment;
pub mod simulator;
pub mod token;
pub mod ttlock;

pub use monitoring::{
    AccessMethod, ActivityEntry, BatteryLevel, DeviceInfo, LockAction, LockStatus,
};

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
pub use latchkey_engine::drift::ListedCode;
use latchkey_engine::{Capabilities, Pin, Timestamp, Window};

use crate::metered::Metered;

/// What Latchkey asks a lock to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRequest {
    /// Idempotency marker, at most 20 characters (Nuki's name limit); unique per code.
    pub marker: String,
    /// The PIN to set, for locks with `custom_pin`; `None` lets the provider generate one.
    pub pin: Option<Pin>,
    /// The requested window (UTC); the provider may round it outward.
    pub window: Window,
}

/// Whether the lock already holds the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptStatus {
    /// On the lock.
    Active,
    /// Accepted by the cloud, not yet confirmed on the lock; read back later.
    Pending,
}

/// The provider's answer about a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeReceipt {
    /// The provider's identifier for the code.
    pub reference: String,
    /// The PIN (known once the provider generated it).
    pub pin: Pin,
    /// The window the lock enforces, after rounding.
    pub window: Window,
    /// Confirmed on the lock or not yet.
    pub status: ReceiptStatus,
}

/// Why a provider call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Temporarily unavailable (outage, 5xx, lock or bridge offline): retry later.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// No answer in time; the call may or may not have taken effect.
    #[error("provider call timed out")]
    Timeout,
    /// Rate-limited; retry after the given number of seconds.
    #[error("rate limited, retry after {0} s")]
    RateLimited(i64),
    /// The PIN is already in use on this lock (or account).
    #[error("PIN already in use")]
    PinConflict,
    /// The provider has no such code or device.
    #[error("not found: {0}")]
    NotFound(String),
    /// The lock cannot do this at all (see its capabilities).
    #[error("not supported: {0}")]
    Unsupported(&'static str),
    /// Refused for good (invalid PIN, invalid window, lock full).
    #[error("rejected: {0}")]
    Rejected(String),
    /// Not tried: the lock stopped answering and its circuit is open
    /// ([`breaker::Guarded`]). The next call is let through, as the trial, in
    /// `retry_in_secs` seconds.
    #[error(
        "lock `{lock}` stopped answering; its circuit lets a call through in {retry_in_secs} s"
    )]
    CircuitOpen {
        /// The provider's device identifier.
        lock: String,
        /// Seconds until the circuit lets a trial call through.
        retry_in_secs: i64,
    },
}

impl ProviderError {
    /// True when retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::Unavailable(_)
                | ProviderError::Timeout
                | ProviderError::RateLimited(_)
                | ProviderError::CircuitOpen { .. }
        )
    }
}

/// A lock maker's cloud. Devices are the provider's lock identifiers.
#[async_trait]
pub trait Provider: Send + Sync {
    /// What `device` can do, or `None` when the provider does not know it.
    fn capabilities(&self, device: &str) -> Option<Capabilities>;

    /// Puts a code on the lock.
    async fn create_code(
        &self,
        device: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError>;

    /// Changes an existing code's window (and PIN, where given). Only for locks with
    /// `can_update`.
    async fn update_code(
        &self,
        device: &str,
        reference: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError>;

    /// Deletes a code. Deleting a code that is already gone succeeds.
    async fn revoke_code(&self, device: &str, reference: &str) -> Result<(), ProviderError>;

    /// Reads a code back by reference; `None` when it is not on the lock.
    async fn read_code(
        &self,
        device: &str,
        reference: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError>;

    /// Finds a code by the marker it was created with; `None` when there is none.
    async fn find_code(
        &self,
        device: &str,
        marker: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError>;

    /// Every code `device` holds, as its cloud lists them (for drift: codes deleted,
    /// changed or added behind Latchkey's back), in the cloud's order.
    /// [`ProviderError::Unsupported`] where the cloud cannot list a lock's codes.
    async fn list_codes(&self, device: &str) -> Result<Vec<ListedCode>, ProviderError>;

    /// The account's locks, as the cloud lists them.
    async fn list_locks(&self) -> Result<Vec<DeviceInfo>, ProviderError>;

    /// Whether `device` is reachable, and its battery, normalised
    /// ([`LockStatus::from_percent`]).
    async fn lock_status(&self, device: &str) -> Result<LockStatus, ProviderError>;

    /// What happened at `device` from `since` (UTC, inclusive) on, oldest first, as far as
    /// the cloud knows (offline locks report only what reached it).
    async fn activity(
        &self,
        device: &str,
        since: Timestamp,
    ) -> Result<Vec<ActivityEntry>, ProviderError>;

    /// Opens the door now. Only for locks with `remote_unlock`.
    async fn unlock(&self, device: &str) -> Result<(), ProviderError>;
}

/// The providers configured in this process, by key (`simulator`, `nuki`, …).
#[derive(Clone, Default)]
pub struct Providers(HashMap<String, Arc<dyn Provider>>);

impl Providers {
    /// Registers `provider` under `key`.
    pub fn with(mut self, key: impl Into<String>, provider: Arc<dyn Provider>) -> Providers {
        self.0.insert(key.into(), provider);
        self
    }

    /// Every provider guarded by a circuit breaker per lock ([`breaker`]), timed by
    /// `clock`; the calls that pass the breaker are counted and timed under the
    /// provider's key ([`crate::metered`]).
    pub fn guarded(
        self,
        clock: &Arc<dyn latchkey_engine::clock::Clock>,
        policy: breaker::BreakerPolicy,
    ) -> Providers {
        Providers(
            self.0
                .into_iter()
                .map(|(key, inner)| {
                    let metered: Arc<dyn Provider> = Arc::new(Metered::new(key.clone(), inner));
                    let guarded: Arc<dyn Provider> =
                        Arc::new(breaker::Guarded::new(metered, Arc::clone(clock), policy));
                    (key, guarded)
                })
                .collect(),
        )
    }

    /// The provider registered under `key`.
    pub fn get(&self, key: &str) -> Option<&Arc<dyn Provider>> {
        self.0.get(key)
    }
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}
