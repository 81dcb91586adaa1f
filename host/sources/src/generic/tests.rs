use latchkey_engine::rules::EventType;
use latchkey_engine::{ReservationStatus, ResourceId, Timestamp};

use super::*;
use crate::stay_times::tests::lisbon;

/// A booking engine's payload, as a Zapier-style relay might post it.
const PAYLOAD: &str = r#"{
  "event": "booking.updated",
  "sent_at": "2026-11-20T09:12:44Z",
  "booking": {
    "ref": "BK-20931",
    "revision": 4,
    "state": "booked",
    "units": [{"code": "D-101"}, {"code": "PARKING"}],
    "arrival": "2026-11-23",
    "departure": "2026-11-25",
    "customer": {"full_name": "Jonas Weber", "email": "jonas@example.de", "phone": "+4915112345678", "lang": "de"}
  }
}"#;

fn settings() -> GenericSettings {
    toml::from_str(
        r#"verify = { scheme = "none" }
           [fields]
           id = "/booking/ref"
           status = "/booking/state"
           status_map = { booked = "confirmed", paid_in_full = "paid", voided = "cancelled" }
           resources = "/booking/units"
           resource_item = "/code"
           start = "/booking/arrival"
           end = "/booking/departure"
           guest_name = "/booking/customer/full_name"
           guest_email = "/booking/customer/email"
           guest_phone = "/booking/customer/phone"
           guest_locale = "/booking/customer/lang"
           event = "/event"
           event_map = { "booking.created" = "reservation.confirmed", "booking.updated" = "reservation.modified", "booking.voided" = "reservation.cancelled" }
           version = "/booking/revision""#,
    )
    .expect("settings")
}

/// The payload's units as JSON Pointers' targets, mapped to our rooms.
fn mapped_settings() -> GenericSettings {
    let mut s = settings();
    if let Some(f) = s.fields.as_mut() {
        f.resource_map
            .insert("D-101".into(), ResourceId::parse("101").expect("id"));
    }
    s
}

fn pointer(s: &GenericSettings, body: &str) -> String {
    match s
        .map(body.as_bytes(), &lisbon())
        .expect_err("must be refused")
    {
        Error::Invalid { pointer, .. } => pointer,
        other => panic!("expected a schema error, got {other}"),
    }
}

#[test]
fn field_paths_map_a_realistic_payload() {
    let s = mapped_settings();
    assert!(s.check("relay").is_ok());
    let event = s
        .map(PAYLOAD.as_bytes(), &lisbon())
        .expect("valid")
        .expect("mapped");
    assert_eq!(event.kind, EventType::Modified);
    assert_eq!(event.order, Some(4));
    let r = &event.state;
    assert_eq!(r.id.as_str(), "BK-20931");
    assert_eq!(r.status, ReservationStatus::Confirmed);
    assert_eq!(
        r.resources,
        vec![ResourceId::parse("101").expect("id")],
        "PARKING is not ours"
    );
    assert_eq!(
        r.check_in,
        Timestamp::parse_rfc3339("2026-11-23T15:00:00Z").expect("ts")
    );
    assert_eq!(
        r.check_out,
        Timestamp::parse_rfc3339("2026-11-25T11:00:00Z").expect("ts")
    );
    assert_eq!(r.guest.name, "Jonas Weber");
    assert_eq!(r.guest.locale.as_deref(), Some("de"));
}

#[test]
fn without_a_resource_map_the_ids_are_ours() {
    let mut s = settings();
    if let Some(f) = s.fields.as_mut() {
        f.resource_item = None;
    }
    // The items are objects, so without `resource_item` they are the wrong type.
    assert_eq!(pointer(&s, PAYLOAD), "/booking/units/0");
    let plain = PAYLOAD.replace(
        r#"[{"code": "D-101"}, {"code": "PARKING"}]"#,
        r#"["101", 201]"#,
    );
    let e = s
        .map(plain.as_bytes(), &lisbon())
        .expect("valid")
        .expect("mapped");
    assert_eq!(
        e.state.resources,
        vec![
            ResourceId::parse("101").expect("id"),
            ResourceId::parse("201").expect("id")
        ]
    );
}

#[test]
fn bad_values_point_at_their_field() {
    let s = mapped_settings();
    let missing = PAYLOAD.replace(r#""ref": "BK-20931","#, "");
    assert_eq!(pointer(&s, &missing), "/booking/ref");
    assert_eq!(
        pointer(&s, &PAYLOAD.replace(r#""booked""#, r#""pencilled""#)),
        "/booking/state"
    );
    assert_eq!(
        pointer(&s, &PAYLOAD.replace(r#""booked""#, "true")),
        "/booking/state"
    );
    assert_eq!(
        pointer(&s, &PAYLOAD.replace("booking.updated", "booking.exploded")),
        "/event"
    );
    assert_eq!(
        pointer(&s, &PAYLOAD.replace("2026-11-23", "soon")),
        "/booking/arrival"
    );
    assert_eq!(
        pointer(&s, &PAYLOAD.replace("2026-11-25", "2026-11-21")),
        "/booking/departure"
    );
    assert_eq!(
        pointer(
            &s,
            &PAYLOAD.replace(r#""revision": 4"#, r#""revision": [4]"#)
        ),
        "/booking/revision"
    );
    assert_eq!(
        pointer(&s, &PAYLOAD.replace("D-101", "D-999")),
        "/booking/units"
    );
    assert_eq!(
        pointer(
            &s,
            &PAYLOAD.replace(r#"{"code": "PARKING"}"#, r#"{"kind": "PARKING"}"#)
        ),
        "/booking/units/1/code"
    );
    assert_eq!(
        pointer(&s, &PAYLOAD.replace("booking.updated", "booking.voided")),
        "/booking/state",
        "a cancellation must carry a cancelled status"
    );
    assert_eq!(pointer(&s, "[1, 2"), "");
}

#[test]
fn settings_need_exactly_one_mapping() {
    let both: GenericSettings = toml::from_str(
        r#"verify = { scheme = "none" }
           transform = "fn transform(p) { () }"
           [fields]
           id = "/id"
           status = "/s"
           resources = "/r"
           start = "/a"
           end = "/b""#,
    )
    .expect("parses");
    assert!(both.check("x").is_err());
    let bad_path: GenericSettings = toml::from_str(
        r#"verify = { scheme = "none" }
           [fields]
           id = "booking.id"
           status = "/s"
           resources = "/r"
           start = "/a"
           end = "/b""#,
    )
    .expect("parses");
    let err = bad_path.check("x").expect_err("not a pointer");
    assert!(err.contains("fields.id"), "{err}");
    let broken: GenericSettings =
        toml::from_str("verify = { scheme = \"none\" }\ntransform = \"fn transform(p) {\"")
            .expect("parses");
    assert!(broken.check("x").is_err());
}

const TRANSFORM: &str = r#"
fn transform(p) {
    if p.event != "booking.updated" { return (); }
    let b = p.booking;
    let rooms = [];
    for u in b.units { if u.code.starts_with("D-") { rooms.push(u.code.sub_string(2)); } }
    #{ type: "reservation.modified", id: b.ref, version: b.revision,
       status: if b.state == "booked" { "confirmed" } else { "cancelled" },
       resources: rooms, check_in: b.arrival, check_out: b.departure,
       guest: #{ name: b.customer.full_name, email: b.customer.email } }
}
"#;

fn transform_settings(script: &str) -> GenericSettings {
    let mut s: GenericSettings = toml::from_str("verify = { scheme = \"none\" }").expect("parses");
    s.transform = Some(script.into());
    s
}

#[test]
fn a_transform_maps_or_ignores() {
    let s = transform_settings(TRANSFORM);
    assert!(s.check("relay").is_ok());
    let event = s
        .map(PAYLOAD.as_bytes(), &lisbon())
        .expect("valid")
        .expect("mapped");
    assert_eq!(
        event.state.resources,
        vec![ResourceId::parse("101").expect("id")]
    );
    assert_eq!((event.kind, event.order), (EventType::Modified, Some(4)));
    let other = PAYLOAD.replace("booking.updated", "invoice.sent");
    assert_eq!(s.map(other.as_bytes(), &lisbon()).expect("valid"), None);
}

#[test]
fn a_transform_that_fails_or_returns_bad_fields_is_a_422() {
    let s = transform_settings(TRANSFORM);
    // No "D-" unit: the transform returns no resources.
    let err = s
        .map(PAYLOAD.replace("D-101", "X-101").as_bytes(), &lisbon())
        .expect_err("no resources");
    assert!(
        matches!(&err, Error::Invalid { pointer, detail } if pointer == "/resources" && detail.contains("transform")),
        "{err:?}"
    );
    // `units` missing: the script fails on a unit value.
    let err = s
        .map(
            PAYLOAD.replace(r#""units""#, r#""unitz""#).as_bytes(),
            &lisbon(),
        )
        .expect_err("script error");
    assert!(
        matches!(&err, Error::Invalid { pointer, .. } if pointer.is_empty()),
        "{err:?}"
    );
    let spin = transform_settings("fn transform(p) { loop {} }");
    let err = spin.map(PAYLOAD.as_bytes(), &lisbon()).expect_err("limit");
    assert!(err.to_string().contains("limit"), "{err}");
}
