//! Reservations as the booking platform reports them.

use serde::{Deserialize, Serialize};

use super::{ReservationId, ResourceId};
use crate::Timestamp;

/// Where a reservation stands. Only the platform changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// Booked and confirmed, not (yet) paid.
    Confirmed,
    /// Confirmed and paid.
    Paid,
    /// Cancelled; final unless a newer version reinstates it.
    Cancelled,
    /// The guest did not arrive.
    NoShow,
    /// The guest has left.
    CheckedOut,
}

impl ReservationStatus {
    /// The snake_case name used on the wire and in rules.
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Confirmed => "confirmed",
            ReservationStatus::Paid => "paid",
            ReservationStatus::Cancelled => "cancelled",
            ReservationStatus::NoShow => "no_show",
            ReservationStatus::CheckedOut => "checked_out",
        }
    }
}

/// How to reach the guest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guest {
    /// Full name.
    #[serde(default)]
    pub name: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number in E.164 form.
    #[serde(default)]
    pub phone: Option<String>,
    /// Preferred language (BCP 47, e.g. `pt-PT`).
    #[serde(default)]
    pub locale: Option<String>,
}

/// The full current state of a reservation, as carried by every canonical webhook.
///
/// `check_in` and `check_out` are UTC instants; rules derive the property's local days from
/// them. `version` grows with every change the platform makes; a state with a lower version
/// than the one on record is ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The platform's identifier.
    pub id: ReservationId,
    /// Current status.
    pub status: ReservationStatus,
    /// Booked resources (room numbers, courts).
    pub resources: Vec<ResourceId>,
    /// Arrival instant, UTC.
    pub check_in: Timestamp,
    /// Departure instant, UTC.
    pub check_out: Timestamp,
    /// When the guest actually checked out, if they have.
    #[serde(default)]
    pub checked_out_at: Option<Timestamp>,
    /// Contact data.
    #[serde(default)]
    pub guest: Guest,
    /// Monotonic version of this state, starting at 1.
    pub version: u64,
}
