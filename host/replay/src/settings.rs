//! The `[replay]` table of `property.toml`: how `latchkey replay` equips the rooms it
//! derives from the bookings. The service keeps the table as written; only the replay
//! reads it.

use latchkey_engine::BranchId;
use latchkey_providers::simulator::SimProfile;
use serde::Deserialize;

/// `[replay]`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaySettings {
    /// Branch of the derived rooms; the property's first branch when not given.
    #[serde(default)]
    pub branch: Option<BranchId>,
    /// Simulator profiles given to the derived room locks, in rotation.
    #[serde(default = "default_room_profiles")]
    pub room_lock_profiles: Vec<SimProfile>,
}

impl ReplaySettings {
    /// Reads the property's `[replay]` table.
    ///
    /// # Errors
    /// An unknown key or a value of the wrong type, with serde's message.
    pub fn from_table(table: &toml::Table) -> Result<ReplaySettings, toml::de::Error> {
        toml::Value::Table(table.clone()).try_into()
    }
}

fn default_room_profiles() -> Vec<SimProfile> {
    vec![SimProfile::Online]
}
