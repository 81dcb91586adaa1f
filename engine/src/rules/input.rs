//! What a rule receives.

use serde::{Deserialize, Serialize};

use crate::{Lock, Property, Reservation, ReservationStatus, Resource, Timestamp};

/// The canonical reservation event types a platform sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// `reservation.confirmed`: the booking exists and is confirmed.
    #[serde(rename = "reservation.confirmed")]
    Confirmed,
    /// `reservation.paid`: payment received.
    #[serde(rename = "reservation.paid")]
    Paid,
    /// `reservation.starts_soon`: the platform's "starts in N hours" message.
    #[serde(rename = "reservation.starts_soon")]
    StartsSoon,
    /// `reservation.modified`: dates, resources or guest changed.
    #[serde(rename = "reservation.modified")]
    Modified,
    /// `reservation.cancelled`.
    #[serde(rename = "reservation.cancelled")]
    Cancelled,
    /// `reservation.no_show`: the guest did not arrive.
    #[serde(rename = "reservation.no_show")]
    NoShow,
    /// `reservation.checked_out`: the guest has left.
    #[serde(rename = "reservation.checked_out")]
    CheckedOut,
}

impl EventType {
    /// Every event type, in lifecycle order.
    pub const ALL: [EventType; 7] = [
        EventType::Confirmed,
        EventType::Paid,
        EventType::StartsSoon,
        EventType::Modified,
        EventType::Cancelled,
        EventType::NoShow,
        EventType::CheckedOut,
    ];

    /// The wire name, e.g. `reservation.paid`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Confirmed => "reservation.confirmed",
            EventType::Paid => "reservation.paid",
            EventType::StartsSoon => "reservation.starts_soon",
            EventType::Modified => "reservation.modified",
            EventType::Cancelled => "reservation.cancelled",
            EventType::NoShow => "reservation.no_show",
            EventType::CheckedOut => "reservation.checked_out",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The status a reservation must carry with this event: a cancellation, a no-show or a
    /// check-out that says otherwise is refused. `None`: any status.
    pub fn required_status(self) -> Option<ReservationStatus> {
        match self {
            EventType::Cancelled => Some(ReservationStatus::Cancelled),
            EventType::NoShow => Some(ReservationStatus::NoShow),
            EventType::CheckedOut => Some(ReservationStatus::CheckedOut),
            _ => None,
        }
    }
}

/// The latest platform event applied to the reservation.
///
/// Rules should plan from `reservation`, not from this: events may arrive duplicated or out
/// of order, and a scheduled wake-up re-evaluates with the same event as before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleEvent {
    /// Event type.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When Latchkey accepted it (UTC Unix seconds).
    pub received_at: Timestamp,
}

/// Everything a rule may look at. Instants are UTC Unix seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleInput {
    /// The latest event applied to the reservation.
    pub event: RuleEvent,
    /// The reservation's full current state.
    pub reservation: Reservation,
    /// The property: time zone and default stay times.
    pub property: Property,
    /// The booked resources (with their branch and kind).
    pub resources: Vec<Resource>,
    /// The locks that may concern the reservation: every shared door of the property and
    /// the private doors of the booked resources.
    pub locks: Vec<Lock>,
    /// The evaluation instant.
    pub now: Timestamp,
}
