use latchkey_engine::Timestamp;

use super::*;
use crate::stay_times::tests::lisbon;

const BOOKED: &str = include_str!("../../../../examples/hotel/payloads/lodgify_booked.json");
const SECRET: &str = "3fa1b6c8e2d94f0a9c7e5b1d2a4f6c8e";

fn settings() -> LodgifySettings {
    LodgifySettings {
        secret: SECRET.into(),
        room_types: HashMap::from([("377120".into(), ResourceId::parse("101").expect("id"))]),
        properties: HashMap::new(),
    }
}

fn map_text(body: &str) -> Result<Option<MappedEvent>, Error> {
    map("lodgify", &settings(), &lisbon(), body.as_bytes())
}

fn pointer(body: &str) -> String {
    match map_text(body).expect_err("must be refused") {
        Error::Invalid { pointer, .. } => pointer,
        other => panic!("expected a schema error, got {other}"),
    }
}

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("instant")
}

#[test]
fn a_paid_booking_maps_to_a_paid_stay_on_local_days() {
    let event = map_text(BOOKED).expect("valid").expect("a booking");
    assert_eq!(event.kind, EventType::Paid);
    let r = &event.state;
    assert_eq!(r.id.as_str(), "lodgify:8471203");
    assert_eq!(r.status, ReservationStatus::Paid);
    assert_eq!(r.resources, vec![ResourceId::parse("101").expect("id")]);
    // Lisbon in November is UTC+0: 15:00 on the 23rd, 11:00 on the 25th.
    assert_eq!(r.check_in, at("2026-11-23T15:00:00Z"));
    assert_eq!(r.check_out, at("2026-11-25T11:00:00Z"));
    assert_eq!(r.guest.email.as_deref(), Some("ana.silva@example.com"));
    assert_eq!(r.guest.phone.as_deref(), Some("+351912345678"));
    assert_eq!(r.guest.locale.as_deref(), Some("pt"));
}

#[test]
fn statuses_and_actions_map_per_platforms_section_5() {
    let owed = BOOKED.replace(r#""balance_due": "0.00""#, r#""balance_due": 118.0"#);
    let e = map_text(&owed).expect("valid").expect("booking");
    assert_eq!(
        (e.kind, e.state.status),
        (EventType::Confirmed, ReservationStatus::Confirmed)
    );

    let change = owed.replace("booking_new_status_booked", "booking_change");
    let e = map_text(&change).expect("valid").expect("booking");
    assert_eq!(
        (e.kind, e.state.status),
        (EventType::Modified, ReservationStatus::Confirmed)
    );

    let declined = BOOKED
        .replace(
            "booking_new_status_booked",
            "booking_status_change_declined",
        )
        .replace(r#""status": "Booked""#, r#""status": "Declined""#);
    let e = map_text(&declined).expect("valid").expect("booking");
    assert_eq!(
        (e.kind, e.state.status),
        (EventType::Cancelled, ReservationStatus::Cancelled)
    );

    let tentative = BOOKED
        .replace(
            "booking_new_status_booked",
            "booking_status_change_tentative",
        )
        .replace(r#""status": "Booked""#, r#""status": "Tentative""#);
    let e = map_text(&tentative).expect("valid").expect("booking");
    assert_eq!(
        (e.kind, e.state.status),
        (EventType::Modified, ReservationStatus::Cancelled),
        "tentative holds no access"
    );

    let rates = r#"{"action":"rate_change","property_id":312554,"room_type_ids":[377120]}"#;
    assert_eq!(map_text(rates).expect("valid"), None, "not about a booking");
}

#[test]
fn a_property_rented_whole_maps_through_properties() {
    let mut s = settings();
    s.room_types.clear();
    s.properties
        .insert("312554".into(), ResourceId::parse("201").expect("id"));
    let e = map("lodgify", &s, &lisbon(), BOOKED.as_bytes())
        .expect("valid")
        .expect("booking");
    assert_eq!(
        e.state.resources,
        vec![ResourceId::parse("201").expect("id")]
    );
}

#[test]
fn bad_payloads_point_at_the_field() {
    assert_eq!(pointer("not json"), "");
    assert_eq!(pointer(r#"{"action":"booking_change"}"#), "/booking");
    assert_eq!(
        pointer(&BOOKED.replace(r#""status": "Booked""#, r#""status": "Maybe""#)),
        "/booking/status"
    );
    assert_eq!(
        pointer(&BOOKED.replace(r#""2026-11-23T00:00:00""#, r#""23/11/2026""#)),
        "/booking/date_arrival"
    );
    assert_eq!(
        pointer(&BOOKED.replace(r#""2026-11-25T00:00:00""#, r#""2026-11-20T00:00:00""#)),
        "/booking/date_departure"
    );
    assert_eq!(
        pointer(&BOOKED.replace(r#""date_arrival": "2026-11-23T00:00:00","#, "")),
        "/booking"
    );
    assert_eq!(
        pointer(&BOOKED.replace(
            r#""date_departure": "2026-11-25T00:00:00""#,
            r#""date_departure": 20261125"#
        )),
        "/booking/date_departure"
    );
    assert_eq!(
        pointer(&BOOKED.replace("377120", "999999")),
        "/booking/room_types"
    );
}

fn headers(value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(SIGNATURE_HEADER, value.parse().expect("header"));
    h
}

#[test]
fn ms_signature_is_checked_in_hex_or_base64() {
    let body = BOOKED.as_bytes();
    let mac = signature::hmac_sha256(SECRET.as_bytes(), &[body]);
    let hex_sig = format!("sha256={}", DigestEncoding::Hex.encode(&mac));
    let b64_sig = format!("sha256={}", DigestEncoding::Base64.encode(&mac));
    assert!(verify(&settings(), &headers(&hex_sig), body).is_ok());
    assert!(
        verify(
            &settings(),
            &headers(&hex_sig.to_uppercase().replace("SHA256=", "sha256=")),
            body
        )
        .is_ok()
    );
    assert!(verify(&settings(), &headers(&b64_sig), body).is_ok());
    let tampered = BOOKED.replace("Ana Silva", "Eve");
    assert!(verify(&settings(), &headers(&hex_sig), tampered.as_bytes()).is_err());
    let mut other = settings();
    other.secret = "another secret".into();
    assert!(verify(&other, &headers(&hex_sig), body).is_err());
    assert!(verify(&settings(), &headers("sha256=not-a-digest"), body).is_err());
    let missing = verify(&settings(), &HeaderMap::new(), body).expect_err("no header");
    assert!(missing.to_string().contains("ms-signature"), "{missing}");
}
