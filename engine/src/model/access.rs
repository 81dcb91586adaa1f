//! Who may do what in a workspace's admin API: the caller's role. Checked by the
//! service's `auth` module, stored with every API key and dashboard user.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A caller's role in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A booking platform: reads its reservations and their codes.
    Platform,
    /// A plugin author: uploads and lists plugins.
    Partner,
    /// Everything.
    Admin,
    /// Front-desk staff: watch locks and fix a guest's access.
    Desk,
}

impl Role {
    /// Every role, for listings and tests.
    pub const ALL: [Role; 4] = [Role::Platform, Role::Partner, Role::Admin, Role::Desk];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Platform => "platform",
            Role::Partner => "partner",
            Role::Admin => "admin",
            Role::Desk => "desk",
        }
    }

    /// The role named `text`, if any.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
