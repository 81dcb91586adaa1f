//! Identifier newtypes. Each is a short, printable string chosen by whoever owns the thing
//! (the booking platform for reservations, the admin for locks), validated on parse.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Longest identifier accepted, in bytes.
pub const MAX_ID_LEN: usize = 128;

fn validate(kind: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("{kind} must not be empty"));
    }
    if s.len() > MAX_ID_LEN {
        return Err(format!("{kind} is longer than {MAX_ID_LEN} bytes"));
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "{kind} `{}` contains whitespace or control characters",
            s.escape_debug()
        ));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `s`.
            ///
            /// # Errors
            /// When `s` is empty, longer than [`MAX_ID_LEN`] or holds whitespace or control
            /// characters.
            pub fn parse(s: impl Into<String>) -> Result<Self, String> {
                let s = s.into();
                validate($kind, &s)?;
                Ok(Self(s))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad` honours width and alignment, so ids line up in tables.
                f.pad(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::parse(String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A workspace: one customer account, the unit of isolation.
    WorkspaceId, "workspace id");
id_type!(
    /// A property (hotel, sports centre) inside a workspace.
    PropertyId, "property id");
id_type!(
    /// A branch: a building or site of a property; locks are assigned to one.
    BranchId, "branch id");
id_type!(
    /// A bookable resource (room, court, locker, meeting room), as the platform names it.
    ResourceId, "resource id");
id_type!(
    /// A lock, as the admin names it (`room-101`, `main-entrance`).
    LockId, "lock id");
id_type!(
    /// A reservation, as the booking platform identifies it.
    ReservationId, "reservation id");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_long_and_spaced_ids() {
        assert!(LockId::parse("").is_err());
        assert!(LockId::parse("a b").is_err());
        assert!(LockId::parse("x".repeat(MAX_ID_LEN + 1)).is_err());
        assert_eq!(
            LockId::parse("room-101").expect("valid").as_str(),
            "room-101"
        );
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<ReservationId>("\"\"").is_err());
        assert!(serde_json::from_str::<ReservationId>("\"R-1\"").is_ok());
    }
}
