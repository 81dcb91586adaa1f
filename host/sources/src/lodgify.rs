//! The `lodgify` form: Lodgify's booking webhooks (platforms.md §3.1 and §5 "Lodgify";
//! <https://docs.lodgify.com/reference/webhooks>).
//!
//! A delivery is the full booking (`action`, `booking`, `guest`, `balance_due`), signed
//! with `ms-signature: sha256=<digest>`, an HMAC-SHA256 of the raw body keyed with the
//! secret Lodgify returned, once, when the subscription was made. The digest's encoding is
//! not stated (§3.1), so hex and base64 are both accepted. Lodgify sends no delivery id,
//! so the body's SHA-256 stands for one: its retries (up to 10) are identical and
//! deduplicated.
//!
//! Mapping (§5): `Booked` is `confirmed` (`paid` once `balance_due` is 0), `Declined` is
//! `cancelled`, and `Tentative` and `Open` hold no access (stored as `cancelled` with a
//! `reservation.modified` event, so a later `Booked` reinstates the stay). `booking_change`
//! is `reservation.modified`. Room types map to resources through the settings; the
//! zone-less dates (`2022-05-21T00:00:00`) are property-local days, given the property's
//! check-in and check-out times. Other actions (rates, availability) are acknowledged and
//! ignored.

use std::collections::HashMap;

use axum::http::HeaderMap;
use latchkey_engine::rules::EventType;
use latchkey_engine::{Guest, Property, Reservation, ReservationId, ReservationStatus, ResourceId};
use serde::Deserialize;

use super::mapped::{self, MappedEvent, Pointers};
use super::signature::{self, DigestEncoding};
use super::stay_times::{self, Edge};
use crate::error::Error;

/// The signature header Lodgify sends.
pub const SIGNATURE_HEADER: &str = "ms-signature";

/// Settings of a `lodgify` source (`[sources.lodgify]` in `property.toml`).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LodgifySettings {
    /// The subscription's secret, as Lodgify returned it from `POST /webhooks/v1/subscribe`.
    pub secret: String,
    /// Lodgify room type ids (`booking.room_types[].room_type_id`) to our resource ids.
    #[serde(default)]
    pub room_types: HashMap<String, ResourceId>,
    /// Lodgify property ids (`booking.property_id`) to our resource ids, for properties
    /// rented whole, used when none of the booking's room types is mapped.
    #[serde(default)]
    pub properties: HashMap<String, ResourceId>,
}

impl std::fmt::Debug for LodgifySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LodgifySettings")
            .field("secret", &"<redacted>")
            .field("room_types", &self.room_types)
            .field("properties", &self.properties)
            .finish()
    }
}

/// Checks `ms-signature` against `body`, in constant time.
///
/// # Errors
/// [`Error::Unauthorized`] when the header is missing, not a digest, or does not match.
pub fn verify(settings: &LodgifySettings, headers: &HeaderMap, body: &[u8]) -> Result<(), Error> {
    let value = headers
        .get(SIGNATURE_HEADER)
        .ok_or_else(|| Error::Unauthorized(format!("missing header `{SIGNATURE_HEADER}`")))?
        .to_str()
        .map_err(|_| Error::Unauthorized(format!("header `{SIGNATURE_HEADER}` is not ASCII")))?
        .trim();
    let digest = value
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("sha256="))
        .map_or(value, |_| &value[7..]);
    let given = [DigestEncoding::Hex, DigestEncoding::Base64]
        .into_iter()
        .filter_map(|e| e.decode(digest))
        .find(|bytes| bytes.len() == 32)
        .ok_or_else(|| {
            Error::Unauthorized(format!(
                "`{SIGNATURE_HEADER}` is not sha256=<hex or base64>"
            ))
        })?;
    if signature::hmac_sha256_matches(settings.secret.as_bytes(), &[body], &given) {
        Ok(())
    } else {
        Err(Error::Unauthorized(format!(
            "`{SIGNATURE_HEADER}` does not match this body"
        )))
    }
}

#[derive(Debug, Deserialize)]
struct Delivery {
    action: String,
    #[serde(default)]
    booking: Option<Booking>,
    #[serde(default)]
    guest: Option<LodgifyGuest>,
    #[serde(default)]
    balance_due: Option<Amount>,
}

#[derive(Debug, Deserialize)]
struct Booking {
    id: Id,
    date_arrival: String,
    date_departure: String,
    #[serde(default)]
    property_id: Option<Id>,
    status: String,
    #[serde(default)]
    room_types: Vec<RoomType>,
    #[serde(default)]
    language: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RoomType {
    room_type_id: Id,
}

#[derive(Debug, Default, Deserialize)]
struct LodgifyGuest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone_number: Option<String>,
}

/// Lodgify writes ids as numbers; strings are taken too.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Id {
    Number(u64),
    Text(String),
}

impl Id {
    fn text(&self) -> String {
        match self {
            Id::Number(n) => n.to_string(),
            Id::Text(s) => s.clone(),
        }
    }
}

/// Amounts come as numbers or as decimal strings (`"0.00"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Amount {
    Number(f64),
    Text(String),
}

impl Amount {
    fn is_settled(&self) -> bool {
        match self {
            Amount::Number(n) => *n <= 0.0,
            Amount::Text(s) => s.trim().parse::<f64>().is_ok_and(|n| n <= 0.0),
        }
    }
}

/// Lodgify's booking statuses (the `booking_status_change_*` events, §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LodgifyStatus {
    Booked,
    Tentative,
    Open,
    Declined,
}

fn lodgify_status(text: &str) -> Option<LodgifyStatus> {
    match text.trim().to_ascii_lowercase().as_str() {
        "booked" => Some(LodgifyStatus::Booked),
        "tentative" => Some(LodgifyStatus::Tentative),
        "open" => Some(LodgifyStatus::Open),
        "declined" | "cancelled" | "canceled" => Some(LodgifyStatus::Declined),
        _ => None,
    }
}

fn invalid(pointer: &str, detail: impl Into<String>) -> Error {
    Error::Invalid {
        pointer: pointer.into(),
        detail: detail.into(),
    }
}

const POINTERS: Pointers<'static> = Pointers {
    resources: "/booking/room_types",
    check_out: "/booking/date_departure",
    status: "/booking/status",
};

/// Maps a verified delivery from source `source` to a canonical state, or `None` for an
/// action that is not about a booking. The reservation id is `{source}:{booking.id}`.
///
/// # Errors
/// [`Error::Invalid`] with a pointer into the payload: not JSON, a missing or mistyped
/// field, an unknown status, dates that are not dates, or no mapped room type.
pub fn map(
    source: &str,
    settings: &LodgifySettings,
    property: &Property,
    body: &[u8],
) -> Result<Option<MappedEvent>, Error> {
    let delivery: Delivery = crate::error::decode(body)?;
    if !delivery.action.starts_with("booking_") {
        return Ok(None);
    }
    let booking = delivery.booking.ok_or_else(|| {
        invalid(
            "/booking",
            format!("`{}` carries no `booking`", delivery.action),
        )
    })?;
    let status = lodgify_status(&booking.status).ok_or_else(|| {
        invalid(
            POINTERS.status,
            format!(
                "`/booking/status` `{}` is none of Booked, Tentative, Open, Declined",
                booking.status
            ),
        )
    })?;
    let paid = delivery
        .balance_due
        .as_ref()
        .is_some_and(Amount::is_settled);
    let (status, kind) = match status {
        LodgifyStatus::Declined => (ReservationStatus::Cancelled, EventType::Cancelled),
        LodgifyStatus::Tentative | LodgifyStatus::Open => {
            (ReservationStatus::Cancelled, EventType::Modified)
        }
        LodgifyStatus::Booked => {
            let status = if paid {
                ReservationStatus::Paid
            } else {
                ReservationStatus::Confirmed
            };
            let kind = if delivery.action == "booking_change" {
                EventType::Modified
            } else {
                mapped::event_for_status(status)
            };
            (status, kind)
        }
    };
    let day = |text: &str, pointer: &str, edge| {
        stay_times::leading_date(text)
            .map(|d| stay_times::on_day(d, edge, property))
            .map_err(|e| invalid(pointer, format!("`{pointer}`: {e}")))
    };
    let check_in = day(
        &booking.date_arrival,
        "/booking/date_arrival",
        Edge::Arrival,
    )?;
    let check_out = day(&booking.date_departure, POINTERS.check_out, Edge::Departure)?;
    let id = format!("{source}:{}", booking.id.text());
    let id = ReservationId::parse(id).map_err(|e| invalid("/booking/id", e))?;
    let guest = delivery.guest.unwrap_or_default();
    let state = Reservation {
        id,
        status,
        resources: resources(settings, &booking),
        check_in,
        check_out,
        checked_out_at: None,
        guest: Guest {
            name: guest.name.unwrap_or_default(),
            email: guest.email.filter(|e| !e.is_empty()),
            phone: guest.phone_number.filter(|p| !p.is_empty()),
            locale: booking.language.filter(|l| !l.is_empty()),
        },
        version: 0,
    };
    let event = MappedEvent {
        kind,
        state,
        order: None,
    };
    mapped::check(&event, &POINTERS)?;
    Ok(Some(event))
}

/// The booking's mapped room types, or else its mapped property.
fn resources(settings: &LodgifySettings, booking: &Booking) -> Vec<ResourceId> {
    let mut found: Vec<ResourceId> = Vec::new();
    for room in &booking.room_types {
        if let Some(r) = settings.room_types.get(&room.room_type_id.text())
            && !found.contains(r)
        {
            found.push(r.clone());
        }
    }
    if found.is_empty()
        && let Some(r) = booking
            .property_id
            .as_ref()
            .and_then(|p| settings.properties.get(&p.text()))
    {
        found.push(r.clone());
    }
    found
}

#[cfg(test)]
mod tests;
