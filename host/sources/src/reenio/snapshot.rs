//! From what the admin API answered to a canonical [`Reservation`].
//!
//! - id: `{source}-{Id}`, so two reenio accounts cannot collide;
//! - status from `State` and `IsPaid` (platforms.md §5.3): confirmed → `paid` when
//!   `IsPaid`, else `confirmed`; took place → `checked_out` (no departure time, so the stay
//!   ends at its booked check-out); did not take place → `no_show`; cancelled →
//!   `cancelled`; awaiting confirmation → no snapshot;
//! - check-in and check-out: `Start` and `End`, UTC;
//! - resources: the field the settings name, mapped through `resources`;
//! - guest: the customer detail's name, e-mail and phone (the reservation's customer name
//!   when the detail is missing).
//!
//! Versions: reenio has none. A snapshot is handed to the inbox's `accept_mapped`,
//! which keeps the version when the content is the same and takes the next one when
//! anything changed ([`crate::mapped`]), so versions only grow, a refetch of an
//! unchanged reservation is recognised as such, and the newest fetch always wins.

use latchkey_engine::{Guest, Reservation, ReservationId, ReservationStatus};

use super::wire::{CustomerDetail, ReenioState, ReservationDetail};
use super::{ReenioSettings, ResourceField};

/// Why a fetched reservation cannot become a snapshot. Retrying cannot help; a person
/// must look (unknown state numbers mean our assumption about them is wrong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// `State` is not one of the assumed numbers.
    #[error("reservation {id}: unknown State {state}")]
    UnknownState {
        /// reenio id.
        id: i64,
        /// The number.
        state: i32,
    },
    /// The field naming the resource is empty.
    #[error("reservation {id}: no {field:?} id to map to a resource")]
    NoResource {
        /// reenio id.
        id: i64,
        /// The field the settings name.
        field: ResourceField,
    },
    /// An id that does not make a valid identifier.
    #[error("reservation {id}: {message}")]
    BadId {
        /// reenio id.
        id: i64,
        /// Why.
        message: String,
    },
    /// `End` is not after `Start`.
    #[error("reservation {id}: End is not after Start")]
    EmptyTerm {
        /// reenio id.
        id: i64,
    },
}

/// The reservation id of reenio reservation `reenio_id` received through `source`.
///
/// # Errors
/// A message when the id would not be a valid identifier (an overlong source name).
pub fn reservation_id(source: &str, reenio_id: i64) -> Result<ReservationId, String> {
    ReservationId::parse(format!("{source}-{reenio_id}"))
}

/// The snapshot of `detail` (with the customer's contact data, when fetched), at version
/// 0 until [`versioned`] gives it one; `None` while it awaits confirmation.
///
/// # Errors
/// [`SnapshotError`].
pub fn build(
    settings: &ReenioSettings,
    source: &str,
    detail: &ReservationDetail,
    customer: Option<&CustomerDetail>,
) -> Result<Option<Reservation>, SnapshotError> {
    let id = detail.id;
    let state = ReenioState::from_number(detail.state).ok_or(SnapshotError::UnknownState {
        id,
        state: detail.state,
    })?;
    let status = match state {
        ReenioState::AwaitingConfirmation => return Ok(None),
        ReenioState::Confirmed if detail.is_paid => ReservationStatus::Paid,
        ReenioState::Confirmed => ReservationStatus::Confirmed,
        ReenioState::TookPlace => ReservationStatus::CheckedOut,
        ReenioState::DidNotTakePlace => ReservationStatus::NoShow,
        ReenioState::Cancelled => ReservationStatus::Cancelled,
    };
    if detail.end <= detail.start {
        return Err(SnapshotError::EmptyTerm { id });
    }
    let field = settings.resource_field;
    let resource_id = match field {
        ResourceField::Place => detail.place_id,
        ResourceField::Service => detail.service_id,
        ResourceField::Employee => detail.employee_id,
    }
    .ok_or(SnapshotError::NoResource { id, field })?;
    let bad_id = |message| SnapshotError::BadId { id, message };
    let resource = settings.resource(resource_id).map_err(bad_id)?;
    let reservation = reservation_id(source, id).map_err(bad_id)?;
    let name = customer
        .and_then(|c| c.name.clone())
        .or_else(|| detail.customer.as_ref().and_then(|c| c.name.clone()))
        .unwrap_or_default();
    Ok(Some(Reservation {
        id: reservation,
        status,
        resources: vec![resource],
        check_in: detail.start,
        check_out: detail.end,
        checked_out_at: None,
        guest: Guest {
            name,
            email: customer
                .and_then(|c| c.email.clone())
                .filter(|e| !e.is_empty()),
            phone: customer
                .and_then(|c| c.phone.clone())
                .filter(|p| !p.is_empty()),
            locale: None,
        },
        version: 0,
    }))
}

#[cfg(test)]
mod tests {
    use latchkey_engine::Timestamp;

    use super::*;
    use crate::reenio::wire::CustomerRef;

    fn settings() -> ReenioSettings {
        toml::from_str(
            r#"secrets = ["0123456789abcdef0123"]
               resources = { "3" = "101" }"#,
        )
        .expect("settings")
    }

    fn detail(state: i32, is_paid: bool) -> ReservationDetail {
        ReservationDetail {
            id: 4410,
            name: Some("Double room".into()),
            service_id: Some(9),
            place_id: Some(3),
            employee_id: None,
            start: Timestamp::parse_rfc3339("2026-11-25T15:00:00Z").expect("ts"),
            end: Timestamp::parse_rfc3339("2026-11-27T11:00:00Z").expect("ts"),
            code: Some("R4410".into()),
            state,
            is_paid,
            capacity: Some(2),
            customer: Some(CustomerRef {
                id: 31,
                name: Some("Ana Silva".into()),
            }),
        }
    }

    fn customer() -> CustomerDetail {
        CustomerDetail {
            id: 31,
            name: Some("Ana Silva".into()),
            email: Some("ana@example.com".into()),
            phone: Some("+351912345678".into()),
        }
    }

    fn status(state: i32, paid: bool) -> Option<ReservationStatus> {
        build(&settings(), "reenio", &detail(state, paid), None)
            .expect("builds")
            .map(|r| r.status)
    }

    #[test]
    fn statuses_follow_state_and_payment() {
        assert_eq!(status(0, true), None, "awaiting confirmation gives nothing");
        assert_eq!(status(1, false), Some(ReservationStatus::Confirmed));
        assert_eq!(status(1, true), Some(ReservationStatus::Paid));
        assert_eq!(status(2, true), Some(ReservationStatus::CheckedOut));
        assert_eq!(status(3, false), Some(ReservationStatus::NoShow));
        assert_eq!(status(4, true), Some(ReservationStatus::Cancelled));
        assert_eq!(
            build(&settings(), "reenio", &detail(7, true), None),
            Err(SnapshotError::UnknownState { id: 4410, state: 7 })
        );
    }

    #[test]
    fn the_snapshot_carries_resource_and_contact() {
        let r = build(&settings(), "reenio", &detail(1, true), Some(&customer()))
            .expect("builds")
            .expect("confirmed");
        assert_eq!(r.id.as_str(), "reenio-4410");
        assert_eq!(r.resources[0].as_str(), "101");
        assert_eq!(r.guest.email.as_deref(), Some("ana@example.com"));
        assert_eq!(r.guest.phone.as_deref(), Some("+351912345678"));
        let mut no_place = detail(1, true);
        no_place.place_id = None;
        assert!(matches!(
            build(&settings(), "reenio", &no_place, None),
            Err(SnapshotError::NoResource { .. })
        ));
        let mut empty = detail(1, true);
        empty.end = empty.start;
        assert_eq!(
            build(&settings(), "reenio", &empty, None),
            Err(SnapshotError::EmptyTerm { id: 4410 })
        );
    }
}
