//! [`AccountClient`]: the client of one lock-cloud account, replaced in place when the
//! account's credentials change, so that everything holding the account's provider (the
//! registry, its circuit breaker and metering) goes on with the new client without being
//! rebuilt.

use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use latchkey_engine::{Capabilities, Timestamp};

use crate::{
    ActivityEntry, CodeReceipt, CodeRequest, DeviceInfo, ListedCode, LockStatus, Provider,
    ProviderError,
};

/// A [`Provider`] that forwards every call to the client connected with the account's
/// newest credentials. `revision` says which credentials those are (the count of sets on
/// record when they were read: 1 for the first set), so the service can tell when a newer
/// set has been stored.
pub struct AccountClient {
    current: RwLock<Connected>,
}

struct Connected {
    revision: i64,
    client: Arc<dyn Provider>,
}

impl AccountClient {
    /// A client connected with the credentials of `revision`.
    pub fn new(client: Arc<dyn Provider>, revision: i64) -> AccountClient {
        AccountClient {
            current: RwLock::new(Connected { revision, client }),
        }
    }

    /// The revision of the credentials the current client was connected with.
    pub fn revision(&self) -> i64 {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .revision
    }

    /// Replaces the client with one connected with the credentials of `revision`; calls
    /// already under way finish on the old one.
    pub fn replace(&self, client: Arc<dyn Provider>, revision: i64) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) =
            Connected { revision, client };
    }

    fn client(&self) -> Arc<dyn Provider> {
        // A poisoned lock still holds a whole `Connected`: replacing it is one assignment.
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .client,
        )
    }
}

impl std::fmt::Debug for AccountClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountClient")
            .field("revision", &self.revision())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Provider for AccountClient {
    fn capabilities(&self, device: &str) -> Option<Capabilities> {
        self.client().capabilities(device)
    }

    async fn create_code(
        &self,
        device: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        self.client().create_code(device, req).await
    }

    async fn update_code(
        &self,
        device: &str,
        reference: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        self.client().update_code(device, reference, req).await
    }

    async fn revoke_code(&self, device: &str, reference: &str) -> Result<(), ProviderError> {
        self.client().revoke_code(device, reference).await
    }

    async fn read_code(
        &self,
        device: &str,
        reference: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        self.client().read_code(device, reference).await
    }

    async fn find_code(
        &self,
        device: &str,
        marker: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        self.client().find_code(device, marker).await
    }

    async fn list_codes(&self, device: &str) -> Result<Vec<ListedCode>, ProviderError> {
        self.client().list_codes(device).await
    }

    async fn list_locks(&self) -> Result<Vec<DeviceInfo>, ProviderError> {
        self.client().list_locks().await
    }

    async fn lock_status(&self, device: &str) -> Result<LockStatus, ProviderError> {
        self.client().lock_status(device).await
    }

    async fn activity(
        &self,
        device: &str,
        since: Timestamp,
    ) -> Result<Vec<ActivityEntry>, ProviderError> {
        self.client().activity(device, since).await
    }

    async fn unlock(&self, device: &str) -> Result<(), ProviderError> {
        self.client().unlock(device).await
    }
}
