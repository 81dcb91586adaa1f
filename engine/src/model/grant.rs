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
