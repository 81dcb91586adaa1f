//! What a provider reports about a lock besides its codes: the devices it lists here; the
//! reachability, battery and activity log every cloud is normalised to live in the engine
//! ([`latchkey_engine::monitor`]), which judges them.

use serde::Serialize;

pub use latchkey_engine::monitor::{
    AccessMethod, ActivityEntry, BatteryLevel, LockAction, LockStatus,
};

/// A lock as its provider lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// The provider's device id (what `property.toml` calls `device`).
    pub device: String,
    /// The name given in the vendor's app.
    pub name: String,
}
