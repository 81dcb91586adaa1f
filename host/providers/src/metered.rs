//! A provider that counts and times its calls ([`PROVIDER_CALLS`],
//! [`PROVIDER_CALL_SECONDS`]) through the `metrics` facade; the service's exporter
//! describes and serves them.
//!
//! It sits inside the circuit breaker ([`crate::breaker`]), so it sees the calls
//! that reach the cloud and their real latency, not the instant refusals of an open
//! circuit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use latchkey_engine::{Capabilities, Timestamp};

use crate::{
    ActivityEntry, CodeReceipt, CodeRequest, DeviceInfo, ListedCode, LockStatus, Provider,
    ProviderError,
};

/// Counter: calls that reached a lock provider, by `provider` (its key: `simulator`,
/// `nuki`, …), `operation` (`create_code`, `lock_status`, …) and `outcome` (`ok`, or the
/// error: `unavailable`, `timeout`, `rate_limited`, `pin_conflict`, `not_found`,
/// `unsupported`, `rejected`). Calls refused by an open circuit never reach the provider
/// and are not counted.
pub const PROVIDER_CALLS: &str = "latchkey_provider_calls_total";
/// Histogram: how long a provider call took, in seconds, by `provider` and `operation`.
pub const PROVIDER_CALL_SECONDS: &str = "latchkey_provider_call_duration_seconds";

/// `inner`, registered under `key`, with every call recorded.
pub struct Metered {
    key: String,
    inner: Arc<dyn Provider>,
}

impl Metered {
    /// Records the calls of `inner` under the provider label `key`.
    pub fn new(key: impl Into<String>, inner: Arc<dyn Provider>) -> Metered {
        Metered {
            key: key.into(),
            inner,
        }
    }

    async fn call<T, F>(&self, operation: &'static str, f: F) -> Result<T, ProviderError>
    where
        F: Future<Output = Result<T, ProviderError>>,
    {
        let started = Instant::now();
        let outcome = f.await;
        provider_called(
            &self.key,
            operation,
            provider_outcome(&outcome),
            started.elapsed(),
        );
        outcome
    }
}

#[async_trait]
impl Provider for Metered {
    fn capabilities(&self, device: &str) -> Option<Capabilities> {
        self.inner.capabilities(device)
    }

    async fn create_code(
        &self,
        device: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        self.call("create_code", self.inner.create_code(device, req))
            .await
    }

    async fn update_code(
        &self,
        device: &str,
        reference: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        self.call(
            "update_code",
            self.inner.update_code(device, reference, req),
        )
        .await
    }

    async fn revoke_code(&self, device: &str, reference: &str) -> Result<(), ProviderError> {
        self.call("revoke_code", self.inner.revoke_code(device, reference))
            .await
    }

    async fn read_code(
        &self,
        device: &str,
        reference: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        self.call("read_code", self.inner.read_code(device, reference))
            .await
    }

    async fn find_code(
        &self,
        device: &str,
        marker: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        self.call("find_code", self.inner.find_code(device, marker))
            .await
    }

    async fn list_codes(&self, device: &str) -> Result<Vec<ListedCode>, ProviderError> {
        self.call("list_codes", self.inner.list_codes(device)).await
    }

    async fn list_locks(&self) -> Result<Vec<DeviceInfo>, ProviderError> {
        self.call("list_locks", self.inner.list_locks()).await
    }

    async fn lock_status(&self, device: &str) -> Result<LockStatus, ProviderError> {
        self.call("lock_status", self.inner.lock_status(device))
            .await
    }

    async fn activity(
        &self,
        device: &str,
        since: Timestamp,
    ) -> Result<Vec<ActivityEntry>, ProviderError> {
        self.call("activity", self.inner.activity(device, since))
            .await
    }

    async fn unlock(&self, device: &str) -> Result<(), ProviderError> {
        self.call("unlock", self.inner.unlock(device)).await
    }
}

/// The `outcome` label of a provider call's result.
pub fn provider_outcome<T>(result: &Result<T, ProviderError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(ProviderError::Unavailable(_)) => "unavailable",
        Err(ProviderError::Timeout) => "timeout",
        Err(ProviderError::RateLimited(_)) => "rate_limited",
        Err(ProviderError::PinConflict) => "pin_conflict",
        Err(ProviderError::NotFound(_)) => "not_found",
        Err(ProviderError::Unsupported(_)) => "unsupported",
        Err(ProviderError::Rejected(_)) => "rejected",
        Err(ProviderError::CircuitOpen { .. }) => "circuit_open",
    }
}

/// Records a call to `provider`'s `operation` that took `elapsed` and ended in `outcome`
/// ([`provider_outcome`]).
pub fn provider_called(
    provider: &str,
    operation: &'static str,
    outcome: &'static str,
    elapsed: Duration,
) {
    metrics::counter!(
        PROVIDER_CALLS,
        "provider" => provider.to_owned(),
        "operation" => operation,
        "outcome" => outcome
    )
    .increment(1);
    metrics::histogram!(
        PROVIDER_CALL_SECONDS,
        "provider" => provider.to_owned(),
        "operation" => operation
    )
    .record(elapsed.as_secs_f64());
}
