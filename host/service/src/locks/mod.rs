//! Locks as the front desk manages them: which branch each belongs to
//! ([`assignment`]), regenerating their PINs ([`regenerate`]), and opening a door
//! remotely ([`unlock`]). The HTTP routes are in `http/locks_admin.rs`.

pub mod assignment;
pub mod regenerate;

use latchkey_engine::LockId;

use crate::app::AppState;
use crate::error::{Error, Result};

/// Opens lock `id` now through its provider.
///
/// # Errors
/// [`Error::NotFound`] for a lock the property does not have; [`Error::Conflict`] for a
/// lock whose provider cannot unlock it remotely; [`Error::Upstream`] when the provider
/// refuses or fails (nothing is retried: a door opening minutes late is worse than an
/// error the person at the desk sees now).
pub async fn unlock(app: &AppState, id: &LockId) -> Result<()> {
    let lock = app.catalog.lock(id).ok_or_else(|| Error::NotFound {
        what: "lock",
        id: id.to_string(),
    })?;
    if !lock.capabilities.remote_unlock {
        return Err(Error::Conflict(format!(
            "lock `{id}` cannot be unlocked remotely (its provider does not offer it)"
        )));
    }
    let mut conn = app.pool.acquire().await?;
    let provider = app.provider(&mut conn, &lock.provider).await?;
    drop(conn);
    let provider = provider.ok_or_else(|| {
        Error::internal(format!(
            "lock `{id}` names unknown provider `{}`",
            lock.provider
        ))
    })?;
    let device = lock.device.clone().unwrap_or_else(|| id.to_string());
    provider
        .unlock(&device)
        .await
        .map_err(|e| Error::Upstream(format!("lock `{id}`: {e}")))
}
