//! Properties, branches and bookable resources.

use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{BranchId, PropertyId, ResourceId};
use crate::time::LocalTime;

/// A property: where the doors are, in which time zone, and its default stay times.
///
/// All times of day are local wall-clock times in [`Property::timezone`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Property {
    /// Stable identifier.
    pub id: PropertyId,
    /// Display name.
    pub name: String,
    /// IANA zone, e.g. `Europe/Lisbon`.
    #[serde(serialize_with = "ser_tz", deserialize_with = "de_tz")]
    pub timezone: Tz,
    /// Default local check-in time (e.g. `15:00`).
    pub check_in_time: LocalTime,
    /// Default local check-out time (e.g. `11:00`).
    pub check_out_time: LocalTime,
    /// Local start of a day-use stay (zero nights), default `09:00`.
    #[serde(default = "default_day_use_start")]
    pub day_use_start: LocalTime,
    /// Local end of a day-use stay, default `18:00`.
    #[serde(default = "default_day_use_end")]
    pub day_use_end: LocalTime,
    /// When true, no code is issued until the reservation is `paid`.
    #[serde(default)]
    pub requires_payment: bool,
}

fn default_day_use_start() -> LocalTime {
    LocalTime::new(9, 0).unwrap_or_else(|| unreachable!("09:00 is a valid time"))
}

fn default_day_use_end() -> LocalTime {
    LocalTime::new(18, 0).unwrap_or_else(|| unreachable!("18:00 is a valid time"))
}

fn ser_tz<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

fn de_tz<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
    let name = String::deserialize(d)?;
    crate::time::parse_tz(&name).map_err(serde::de::Error::custom)
}

/// A branch: a building or site. Locks not assigned to a branch get no codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    /// Stable identifier.
    pub id: BranchId,
    /// Display name.
    pub name: String,
}

/// What a guest books.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// A hotel room or apartment.
    Room,
    /// A sports court.
    Court,
    /// A locker.
    Locker,
    /// A meeting room.
    MeetingRoom,
}

/// A bookable resource and the branch it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The platform's identifier (`101`, `court-2`).
    pub id: ResourceId,
    /// What it is.
    pub kind: ResourceKind,
    /// Where it is; shared doors of this branch open for its guests.
    pub branch: BranchId,
    /// Display name.
    #[serde(default)]
    pub name: String,
}
