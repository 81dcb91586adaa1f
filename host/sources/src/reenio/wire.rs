//! reenio's shapes on the wire: the webhook body (RW, platforms.md §1.2) and the admin
//! API's reservation and customer details (RA, §1.5; field names as the 2020 community
//! client maps them). Unknown fields are ignored: reenio adds fields over time.

use latchkey_engine::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// A custom-message webhook: ids only, all integers (RW). `reservationId` and `customerId`
/// may be missing on triggers about a customer alone (`5`, customer registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookBody {
    /// What happened (see [`super::triggers`]).
    pub trigger_type: u32,
    /// The customer, if any.
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// The reservation, if any.
    #[serde(default)]
    pub reservation_id: Option<i64>,
}

impl WebhookBody {
    /// Parses a delivery's body.
    ///
    /// # Errors
    /// [`Error::Invalid`] with a pointer to the field at fault (`/triggerType` for a
    /// string where an integer belongs, `` for a body that is not a JSON object).
    pub fn parse(body: &[u8]) -> Result<WebhookBody, Error> {
        crate::error::decode(body)
    }
}

/// True for the empty object reenio posts when the admin saves the webhook settings (RW);
/// it carries no data and must be answered like any event.
pub fn is_probe(body: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<serde_json::Value>(body),
        Ok(serde_json::Value::Object(map)) if map.is_empty()
    )
}

/// A reservation's `State`. reenio's number-to-name table is not in the material read
/// (§1.5); we assume the order of its manual's states, and the fake follows it:
/// 0 awaiting confirmation, 1 confirmed (*POTVRZENÁ*), 2 took place (*PROBĚHLA*),
/// 3 did not take place (*NEPROBĚHLA*), 4 cancelled. Any other number is refused
/// loudly rather than guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReenioState {
    /// Booked, not yet confirmed by staff.
    AwaitingConfirmation,
    /// Confirmed.
    Confirmed,
    /// Took place (set by staff; may never come).
    TookPlace,
    /// Did not take place.
    DidNotTakePlace,
    /// Cancelled (for any reason).
    Cancelled,
}

impl ReenioState {
    /// The state numbered `n`, if it is one of the assumed numbers.
    pub fn from_number(n: i32) -> Option<ReenioState> {
        Some(match n {
            0 => ReenioState::AwaitingConfirmation,
            1 => ReenioState::Confirmed,
            2 => ReenioState::TookPlace,
            3 => ReenioState::DidNotTakePlace,
            4 => ReenioState::Cancelled,
            _ => return None,
        })
    }

    /// Its number on the wire.
    pub fn number(self) -> i32 {
        match self {
            ReenioState::AwaitingConfirmation => 0,
            ReenioState::Confirmed => 1,
            ReenioState::TookPlace => 2,
            ReenioState::DidNotTakePlace => 3,
            ReenioState::Cancelled => 4,
        }
    }
}

/// The customer as a reservation names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomerRef {
    /// Customer id.
    pub id: i64,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET /reservation/detail/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReservationDetail {
    /// The id webhooks name as `reservationId`.
    pub id: i64,
    /// Service or term name.
    #[serde(default)]
    pub name: Option<String>,
    /// The booked service.
    #[serde(default)]
    pub service_id: Option<i64>,
    /// The booked place (room, court).
    #[serde(default)]
    pub place_id: Option<i64>,
    /// The booked employee.
    #[serde(default)]
    pub employee_id: Option<i64>,
    /// Start of the reserved term, UTC.
    #[serde(with = "utc")]
    pub start: Timestamp,
    /// End of the reserved term, UTC.
    #[serde(with = "utc")]
    pub end: Timestamp,
    /// Reservation code.
    #[serde(default)]
    pub code: Option<String>,
    /// State number (see [`ReenioState`]).
    pub state: i32,
    /// Paid in full.
    #[serde(default)]
    pub is_paid: bool,
    /// Places booked.
    #[serde(default)]
    pub capacity: Option<i32>,
    /// The customer.
    #[serde(default)]
    pub customer: Option<CustomerRef>,
}

/// `GET /customer/detail/{id}`: contact data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomerDetail {
    /// Customer id.
    pub id: i64,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number, as entered.
    #[serde(default)]
    pub phone: Option<String>,
}

/// Date-times as RA gives them: ISO 8601 in UTC, with an offset or `Z`, or without one
/// (then read as UTC); written back with `Z`.
mod utc {
    use super::*;

    pub fn serialize<S: Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        if let Ok(at) = Timestamp::parse_rfc3339(&text) {
            return Ok(at);
        }
        chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
            .map(|naive| Timestamp(naive.and_utc().timestamp()))
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not an ISO 8601 date-time")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_bodies() {
        let b = WebhookBody::parse(br#"{"triggerType":7,"customerId":31,"reservationId":4410}"#)
            .expect("valid");
        assert_eq!(
            (b.trigger_type, b.customer_id, b.reservation_id),
            (7, Some(31), Some(4410))
        );
        let pointer = |body: &[u8]| match WebhookBody::parse(body) {
            Err(Error::Invalid { pointer, .. }) => pointer,
            other => panic!("expected a schema error, got {other:?}"),
        };
        assert_eq!(
            pointer(br#"{"triggerType":"7","reservationId":1}"#),
            "/triggerType"
        );
        assert_eq!(
            pointer(br#"{"triggerType":-1,"reservationId":1}"#),
            "/triggerType"
        );
        assert_eq!(
            pointer(br#"{"triggerType":7,"reservationId":"x"}"#),
            "/reservationId"
        );
        assert_eq!(pointer(br#"{"reservationId":1}"#), "");
        assert_eq!(pointer(b"[]"), "");
        assert!(is_probe(b"{}"));
        assert!(is_probe(b" { } "));
        assert!(!is_probe(br#"{"triggerType":0}"#));
        assert!(!is_probe(b"[]"));
    }

    #[test]
    fn details_read_utc_with_or_without_offset() {
        let d: ReservationDetail = serde_json::from_str(
            r#"{"Id":4410,"Name":"Room","PlaceId":3,"Start":"2026-11-25T15:00:00","End":"2026-11-27T11:00:00Z",
                "State":1,"IsPaid":true,"Customer":{"Id":31,"Name":"Ana Silva"},"Color":"red"}"#,
        )
        .expect("valid");
        assert_eq!(
            d.start,
            Timestamp::parse_rfc3339("2026-11-25T15:00:00Z").expect("ts")
        );
        assert_eq!(
            d.end,
            Timestamp::parse_rfc3339("2026-11-27T11:00:00Z").expect("ts")
        );
        assert_eq!(
            ReenioState::from_number(d.state),
            Some(ReenioState::Confirmed)
        );
        assert_eq!(ReenioState::from_number(9), None);
        let back: ReservationDetail =
            serde_json::from_value(serde_json::to_value(&d).expect("json")).expect("round trip");
        assert_eq!(back, d);
    }
}
