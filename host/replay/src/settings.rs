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
    /// How the derived room locks are simulated, in rotation: each entry a profile
    /// (`"online"`), or a profile with the codes the lock holds at once
    /// (`{ simulator = "online", max_codes = 100 }`).
    #[serde(default = "default_room_profiles")]
    pub room_lock_profiles: Vec<RoomLock>,
}

/// One entry of `room_lock_profiles`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(
    untagged,
    expecting = "a simulator profile (\"online\", \"slow\", \"offline\"), or a table \
                 { simulator = \"online\", max_codes = 100 }"
)]
pub enum RoomLock {
    /// A profile, with the simulator's default capacity.
    Profile(SimProfile),
    /// A profile and a capacity.
    WithCapacity {
        /// How the lock behaves.
        simulator: SimProfile,
        /// Codes it holds at once.
        max_codes: u32,
    },
}

impl RoomLock {
    /// How the lock behaves.
    pub fn profile(self) -> SimProfile {
        match self {
            RoomLock::Profile(profile)
            | RoomLock::WithCapacity {
                simulator: profile, ..
            } => profile,
        }
    }

    /// Codes it holds at once, when set.
    pub fn max_codes(self) -> Option<u32> {
        match self {
            RoomLock::Profile(_) => None,
            RoomLock::WithCapacity { max_codes, .. } => Some(max_codes),
        }
    }
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

fn default_room_profiles() -> Vec<RoomLock> {
    vec![RoomLock::Profile(SimProfile::Online)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> Result<ReplaySettings, toml::de::Error> {
        ReplaySettings::from_table(&toml.parse::<toml::Table>().expect("toml"))
    }

    #[test]
    fn room_locks_take_a_profile_or_a_profile_with_a_capacity() {
        let read =
            settings(r#"room_lock_profiles = ["slow", { simulator = "online", max_codes = 100 }]"#)
                .expect("valid");
        assert_eq!(
            read.room_lock_profiles,
            vec![
                RoomLock::Profile(SimProfile::Slow),
                RoomLock::WithCapacity {
                    simulator: SimProfile::Online,
                    max_codes: 100
                }
            ]
        );
        assert_eq!(read.room_lock_profiles[1].max_codes(), Some(100));
        let wrong = settings(r#"room_lock_profiles = [{ simulator = "online", max = 1 }]"#)
            .expect_err("unknown key");
        assert!(wrong.to_string().contains("a simulator profile"), "{wrong}");
    }
}
