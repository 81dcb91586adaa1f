//! The canonical webhook body: a Standard Webhooks envelope around the reservation's full
//! current state.
//!
//! ```json
//! { "type": "reservation.paid",
//!   "timestamp": "2026-11-22T10:00:00Z",
//!   "data": { "id": "R-1001", "status": "paid", "resources": ["101"],
//!             "check_in": "2026-11-25T15:00:00Z", "check_out": "2026-11-27T11:00:00Z",
//!             "guest": { "name": "Ana Silva", "email": "ana@example.com" }, "version": 2 } }
//! ```

use latchkey_engine::rules::EventType;
use latchkey_engine::{Reservation, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A canonical event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanonicalEvent {
    /// Event type, e.g. `reservation.confirmed`.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When the platform produced the event (informational).
    #[serde(default)]
    pub timestamp: Option<Timestamp>,
    /// The reservation's full state after the event.
    pub data: Reservation,
}

fn invalid(pointer: &str, detail: impl Into<String>) -> Error {
    Error::Invalid {
        pointer: pointer.into(),
        detail: detail.into(),
    }
}

/// Parses and checks a canonical body.
///
/// # Errors
/// [`Error::Invalid`] with a JSON Pointer to the first offending field.
pub fn parse(body: &[u8]) -> Result<CanonicalEvent, Error> {
    let event: CanonicalEvent = crate::error::decode(body)?;
    check(&event)?;
    Ok(event)
}

fn check(e: &CanonicalEvent) -> Result<(), Error> {
    let r = &e.data;
    if r.version == 0 {
        return Err(invalid(
            "/data/version",
            "`/data/version` must be 1 or more",
        ));
    }
    if r.resources.is_empty() {
        return Err(invalid(
            "/data/resources",
            "`/data/resources` must name at least one resource",
        ));
    }
    if r.check_out <= r.check_in {
        return Err(invalid(
            "/data/check_out",
            "`/data/check_out` must be after `/data/check_in`",
        ));
    }
    if let Some(status) = e.kind.required_status()
        && r.status != status
    {
        return Err(invalid(
            "/data/status",
            format!(
                "`{}` events must carry status `{}`, not `{}`",
                e.kind.as_str(),
                status.as_str(),
                r.status.as_str()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"type":"reservation.confirmed","data":{"id":"R-1","status":"confirmed","resources":["101"],
        "check_in":"2026-11-25T15:00:00Z","check_out":"2026-11-27T11:00:00Z","version":1}}"#;

    fn pointer(body: &str) -> String {
        match parse(body.as_bytes()).expect_err("must be refused") {
            Error::Invalid { pointer, .. } => pointer,
            other => panic!("expected a schema error, got {other}"),
        }
    }

    #[test]
    fn parses_the_canonical_form() {
        let e = parse(OK.as_bytes()).expect("valid");
        assert_eq!(e.kind, EventType::Confirmed);
        assert_eq!(
            e.data.check_in,
            Timestamp::parse_rfc3339("2026-11-25T15:00:00Z").expect("ts")
        );
    }

    #[test]
    fn schema_errors_point_at_the_field() {
        assert_eq!(
            pointer(&OK.replace("2026-11-25T15:00:00Z", "next tuesday")),
            "/data/check_in"
        );
        assert_eq!(
            pointer(&OK.replace("reservation.confirmed", "reservation.exploded")),
            "/type"
        );
        assert_eq!(
            pointer(&OK.replace(r#""status":"confirmed""#, r#""status":"maybe""#)),
            "/data/status"
        );
        assert_eq!(pointer(&OK.replace(r#"["101"]"#, "[]")), "/data/resources");
        assert_eq!(
            pointer(&OK.replace("2026-11-27T11:00:00Z", "2026-11-20T11:00:00Z")),
            "/data/check_out"
        );
        assert_eq!(
            pointer(&OK.replace("reservation.confirmed", "reservation.cancelled")),
            "/data/status"
        );
        assert_eq!(pointer("not json"), "");
    }
}
