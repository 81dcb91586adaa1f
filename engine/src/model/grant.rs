//! Grants: the access a rule wants to exist.

use serde::{Deserialize, Serialize};

use super::LockId;
use crate::Timestamp;

/// A half-open interval of instants `[starts_at, ends_at)`, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    /// First instant at which the code opens the door.
    pub starts_at: Timestamp,
    /// First instant at which it no longer does.
    pub ends_at: Timestamp,
}

impl Window {
    /// True when `at` falls inside the window.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.starts_at <= at && at < self.ends_at
    }

    /// Length in seconds (zero or negative for an empty window).
    pub fn len_secs(&self) -> i64 {
        self.ends_at.unix() - self.starts_at.unix()
    }
}

/// The kind of credential a grant asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A keypad PIN code.
    #[default]
    Pin,
}

/// What the host does for a guest whose code is needed on a lock that is full: every slot
/// taken by a code needed as soon (see `crate::capacity`). The rule chooses; the host
/// carries it out. Documented in `docs/rules.md`, "When a door is full".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// The guest gets a code on the door the property names for guests beyond this
    /// door's capacity (`overflow` on the lock in `property.toml`), for the same window,
    /// and is told that door. Where the property names none, or that door is full too,
    /// as [`WhenFull::Backup`]. The default, and what rules of WebAssembly world 0.2 get.
    #[default]
    Overflow,
    /// The code goes on regardless: the lock refuses it, and the guest is given one of
    /// the lock's backup codes, while its pool has one.
    Backup,
}

/// One desired access: `lock` opens for the reservation's guest during
/// `[starts_at, ends_at)`, and the code is put on the lock no earlier than `issue_at`.
///
/// All instants are UTC Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The lock to open.
    pub lock: LockId,
    /// Start of access.
    pub starts_at: Timestamp,
    /// End of access (exclusive).
    pub ends_at: Timestamp,
    /// Earliest instant the code is put on the lock; defaults to `starts_at`.
    #[serde(default)]
    pub issue_at: Option<Timestamp>,
    /// Credential kind; `pin` by default.
    #[serde(default)]
    pub credential: CredentialKind,
    /// What happens when the code is needed and the lock is full; `overflow` by default.
    #[serde(default)]
    pub when_full: WhenFull,
}

impl Grant {
    /// The access window.
    pub fn window(&self) -> Window {
        Window {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        }
    }

    /// When the code should be put on the lock.
    pub fn issue_at(&self) -> Timestamp {
        self.issue_at.unwrap_or(self.starts_at)
    }
}
