//! States mapped from a platform's own payload (the `lodgify`, `generic` and `ical`
//! forms), and the version Latchkey gives them.
//!
//! The canonical form carries a version the platform guarantees to grow; these forms do
//! not, so the version on record is assigned here, per source and reservation, in the
//! transaction that stores the event (the inbox's `accept_mapped`):
//!
//! - the first state of a reservation gets the version after the one on record (1 when
//!   there is none);
//! - a state whose mapped content equals the last one applied keeps its version, so a
//!   repeated delivery or an unchanged poll changes nothing;
//! - a state whose payload carries an ordering value (a `version` path of the generic
//!   form) lower than the last one seen is stale, and so is an equal one with different
//!   content (the platform says nothing changed; the first delivery wins);
//! - any other change gets the next version.
//!
//! What cannot be told: without an ordering value in the payload (Lodgify, the generic
//! form without a `version` path), an old state delivered after a newer one, and not
//! byte-identical to a delivery already stored, is taken as the newest. Lodgify's
//! identical retries are caught by the body digest used as the delivery id.

use latchkey_engine::rules::EventType;
use latchkey_engine::{Reservation, ReservationStatus};
use latchkey_store::source_versions::VersionRecord;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// A reservation state mapped from a payload, before it has a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedEvent {
    /// The canonical event type.
    pub kind: EventType,
    /// The full state; its `version` is ignored and assigned on acceptance.
    pub state: Reservation,
    /// The payload's own ordering value (a version number, or a modification instant in
    /// Unix seconds), when it has one.
    pub order: Option<i64>,
}

/// How a mapped state relates to the last one applied for its reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versioned {
    /// New content: store it under this version, and record it.
    Newer(VersionRecord),
    /// The same content, or an older delivery: store it as stale under the recorded
    /// version.
    NotNewer(u64),
}

impl Versioned {
    /// The version the state is stored with.
    pub fn version(&self) -> u64 {
        match self {
            Versioned::Newer(record) => record.version,
            Versioned::NotNewer(version) => *version,
        }
    }
}

/// The id of a delivery whose sender gives none (Lodgify, unsigned or HMAC-signed generic
/// payloads): `sha256:` and the body's SHA-256 in hex, so identical retries are one
/// delivery.
pub fn body_id(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

/// SHA-256 (hex) of the state's content, leaving out its version.
pub fn digest(state: &Reservation) -> String {
    let mut content = state.clone();
    content.version = 0;
    // Serialising plain data cannot fail; a failure would hash as empty and only cost a
    // redundant version.
    let json = serde_json::to_vec(&content).unwrap_or_default();
    hex::encode(Sha256::digest(json))
}

/// Decides the version of `event` given the `last` record of its source and the version
/// of the state `on_record` (from any source).
pub fn decide(event: &MappedEvent, last: Option<&VersionRecord>, on_record: u64) -> Versioned {
    let digest = digest(&event.state);
    if let Some(last) = last {
        let older = match (event.order, last.order_key) {
            (Some(new), Some(old)) => new < old || (new == old && digest != last.digest),
            _ => false,
        };
        if older || digest == last.digest {
            return Versioned::NotNewer(last.version);
        }
    }
    let base = last.map_or(0, |l| l.version).max(on_record);
    Versioned::Newer(VersionRecord {
        version: base + 1,
        digest,
        order_key: event.order.or(last.and_then(|l| l.order_key)),
    })
}

/// The event type a status implies when the payload names none: the status's own event,
/// `reservation.confirmed` for a confirmed one.
pub fn event_for_status(status: ReservationStatus) -> EventType {
    match status {
        ReservationStatus::Confirmed => EventType::Confirmed,
        ReservationStatus::Paid => EventType::Paid,
        ReservationStatus::Cancelled => EventType::Cancelled,
        ReservationStatus::NoShow => EventType::NoShow,
        ReservationStatus::CheckedOut => EventType::CheckedOut,
    }
}

/// Checks what the canonical form checks of a mapped state, pointing into the payload:
/// `pointers` gives, for `resources`, `check_out` and `status`, where the payload held them.
///
/// # Errors
/// [`Error::Invalid`] for no resources, a departure not after the arrival, or an event
/// that needs another status (a cancellation of a reservation that is not cancelled).
pub fn check(event: &MappedEvent, pointers: &Pointers<'_>) -> Result<(), Error> {
    let r = &event.state;
    if r.resources.is_empty() {
        return Err(Error::Invalid {
            pointer: pointers.resources.into(),
            detail: format!("`{}` maps to no known resource", pointers.resources),
        });
    }
    if r.check_out <= r.check_in {
        return Err(Error::Invalid {
            pointer: pointers.check_out.into(),
            detail: format!(
                "`{}` ({}) must be after the arrival ({})",
                pointers.check_out, r.check_out, r.check_in
            ),
        });
    }
    if let Some(status) = event.kind.required_status()
        && r.status != status
    {
        return Err(Error::Invalid {
            pointer: pointers.status.into(),
            detail: format!(
                "`{}` events need status `{}`, but `{}` maps to `{}`",
                event.kind.as_str(),
                status.as_str(),
                pointers.status,
                r.status.as_str()
            ),
        });
    }
    Ok(())
}

/// Where a form's payload held the fields [`check`] looks at (JSON Pointers).
#[derive(Debug, Clone, Copy)]
pub struct Pointers<'a> {
    /// The resources.
    pub resources: &'a str,
    /// The departure.
    pub check_out: &'a str,
    /// The status.
    pub status: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_engine::{ReservationId, ResourceId, Timestamp};

    fn event(check_out: i64, order: Option<i64>) -> MappedEvent {
        MappedEvent {
            kind: EventType::Confirmed,
            state: Reservation {
                id: ReservationId::parse("L-1").expect("id"),
                status: ReservationStatus::Confirmed,
                resources: vec![ResourceId::parse("101").expect("id")],
                check_in: Timestamp(1_000),
                check_out: Timestamp(check_out),
                checked_out_at: None,
                guest: Default::default(),
                version: 0,
            },
            order,
        }
    }

    fn record(v: &Versioned) -> VersionRecord {
        match v {
            Versioned::Newer(r) => r.clone(),
            Versioned::NotNewer(_) => panic!("expected a new version, got {v:?}"),
        }
    }

    #[test]
    fn versions_grow_with_content_and_outgrow_the_state_on_record() {
        let first = record(&decide(&event(2_000, None), None, 0));
        assert_eq!(first.version, 1);
        assert_eq!(
            decide(&event(2_000, None), Some(&first), 1),
            Versioned::NotNewer(1),
            "the same content is not a new version"
        );
        let moved = record(&decide(&event(3_000, None), Some(&first), 1));
        assert_eq!(moved.version, 2);
        // Another source (or the canonical form) set version 7 meanwhile.
        assert_eq!(
            record(&decide(&event(4_000, None), Some(&moved), 7)).version,
            8
        );
    }

    #[test]
    fn an_ordering_value_makes_older_deliveries_stale() {
        let v5 = record(&decide(&event(2_000, Some(5)), None, 0));
        assert_eq!(
            decide(&event(3_000, Some(4)), Some(&v5), 1),
            Versioned::NotNewer(1),
            "order 4 after order 5 is stale, whatever it says"
        );
        assert_eq!(
            decide(&event(3_000, Some(5)), Some(&v5), 1),
            Versioned::NotNewer(1),
            "the same order with other content: the first delivery wins"
        );
        let v6 = record(&decide(&event(3_000, Some(6)), Some(&v5), 1));
        assert_eq!((v6.version, v6.order_key), (2, Some(6)));
    }

    #[test]
    fn check_points_into_the_payload() {
        let pointers = Pointers {
            resources: "/booking/room_types",
            check_out: "/booking/date_departure",
            status: "/booking/status",
        };
        let err = check(&event(500, None), &pointers).expect_err("departure before arrival");
        assert!(
            matches!(&err, Error::Invalid { pointer, .. } if pointer == "/booking/date_departure"),
            "{err:?}"
        );
        let mut cancelled = event(2_000, None);
        cancelled.kind = EventType::Cancelled;
        let err = check(&cancelled, &pointers).expect_err("status must be cancelled");
        assert!(
            matches!(&err, Error::Invalid { pointer, .. } if pointer == "/booking/status"),
            "{err:?}"
        );
        let mut none = event(2_000, None);
        none.state.resources.clear();
        assert!(check(&none, &pointers).is_err());
        assert!(check(&event(2_000, None), &pointers).is_ok());
    }
}
