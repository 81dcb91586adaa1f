//! Lodgify's booking webhooks through the service: a signed booking puts the guest's PIN
//! on the room's lock for the property-local stay, changes move it, a decline revokes it;
//! bad deliveries get problem+json and change nothing.

use axum::http::StatusCode;
use latchkey_sources::signature::{DigestEncoding, hmac_sha256};
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp, assert_invalid_at, assert_problem, at, post_raw, source};

const NOW: &str = "2026-11-22T10:00:00Z";
const SECRET: &str = "3fa1b6c8e2d94f0a9c7e5b1d2a4f6c8e";
const BOOKED: &str = include_str!("../../examples/hotel/payloads/lodgify_booked.json");
const ID: &str = "lodgify:8471203";

async fn spawn() -> TestApp {
    TestApp::spawn_with(
        latchkey_engine::clock::SimClock::new(at(NOW)),
        None,
        |file| {
            file.sources.push(source(json!({
                "name": "lodgify", "form": "lodgify",
                "lodgify": { "secret": SECRET, "room_types": { "377120": "101" } }
            })));
        },
        Vec::new(),
    )
    .await
}

fn signed(body: &[u8]) -> Vec<(&'static str, String)> {
    let mac = hmac_sha256(SECRET.as_bytes(), &[body]);
    vec![(
        "ms-signature",
        format!("sha256={}", DigestEncoding::Hex.encode(&mac)),
    )]
}

async fn deliver(app: &TestApp, body: &str) -> Reply {
    post_raw(
        app,
        "/v1/hooks/lodgify",
        "application/json",
        &signed(body.as_bytes()),
        body.into(),
    )
    .await
}

fn with(edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(BOOKED).expect("payload");
    edit(&mut v);
    serde_json::to_string(&v).expect("json")
}

#[tokio::test]
async fn a_booking_opens_the_room_for_its_local_days_and_follows_changes_to_the_decline() {
    let app = spawn().await;
    let first = deliver(&app, BOOKED).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{:?}", first.body);
    assert_eq!(first.body["outcome"], "applied");
    app.run_jobs().await;
    let (pin, state) = app.code_on(ID, "room-101").await.expect("room code");
    assert_eq!(state, "active");
    // 15:00 and 11:00 in Lisbon (UTC+0 in November), with the default rule's margins.
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-23T14:00:00Z"))
    );
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-25T11:15:00Z"))
    );

    // Lodgify retries an unanswered delivery with the same body: one event.
    let again = deliver(&app, BOOKED).await;
    assert_eq!(
        (again.status, &again.body["status"]),
        (StatusCode::OK, &json!("duplicate"))
    );

    // The guest stays a night longer: same booking, new departure.
    let longer = with(|v| {
        v["action"] = json!("booking_change");
        v["booking"]["date_departure"] = json!("2026-11-26T00:00:00");
        v["booking"]["nights"] = json!(3);
    });
    assert_eq!(deliver(&app, &longer).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    let view = app.reservation(ID).await;
    assert_eq!(view["reservation"]["version"], 2);
    let (pin, _) = app.code_on(ID, "room-101").await.expect("room code");
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-26T11:00:00Z"))
    );

    let declined = with(|v| {
        v["action"] = json!("booking_status_change_declined");
        v["booking"]["date_departure"] = json!("2026-11-26T00:00:00");
        v["booking"]["status"] = json!("Declined");
    });
    assert_eq!(deliver(&app, &declined).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    assert_eq!(
        app.reservation(ID).await["reservation"]["status"],
        "cancelled"
    );
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-24T12:00:00Z")),
        "revoked"
    );

    // A late retry of the first delivery is the same body: a duplicate, not a reinstatement.
    assert_eq!(deliver(&app, BOOKED).await.body["status"], "duplicate");
    assert_eq!(
        app.reservation(ID).await["reservation"]["status"],
        "cancelled"
    );
}

#[tokio::test]
async fn bad_deliveries_are_refused_and_lose_nothing() {
    let app = spawn().await;
    assert_eq!(deliver(&app, BOOKED).await.status, StatusCode::ACCEPTED);

    let forged = with(|v| v["booking"]["status"] = json!("Declined"));
    let reply = post_raw(
        &app,
        "/v1/hooks/lodgify",
        "application/json",
        &signed(BOOKED.as_bytes()),
        forged.into(),
    )
    .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "ms-signature");
    let unsigned = post_raw(
        &app,
        "/v1/hooks/lodgify",
        "application/json",
        &[],
        BOOKED.into(),
    )
    .await;
    assert_problem(
        &unsigned,
        StatusCode::UNAUTHORIZED,
        "missing header `ms-signature`",
    );

    let no_dates = with(|v| {
        if let Some(b) = v["booking"].as_object_mut() {
            b.remove("date_departure");
        }
    });
    assert_invalid_at(&deliver(&app, &no_dates).await, "/booking");
    let typed = with(|v| v["booking"]["room_types"] = json!("Double Room"));
    assert_invalid_at(&deliver(&app, &typed).await, "/booking/room_types");
    let unmapped = with(|v| v["booking"]["room_types"][0]["room_type_id"] = json!(1));
    assert_invalid_at(&deliver(&app, &unmapped).await, "/booking/room_types");
    let status = with(|v| v["booking"]["status"] = json!("Pending"));
    assert_invalid_at(&deliver(&app, &status).await, "/booking/status");

    let text = post_raw(
        &app,
        "/v1/hooks/lodgify",
        "text/plain",
        &signed(BOOKED.as_bytes()),
        BOOKED.into(),
    )
    .await;
    assert_problem(&text, StatusCode::UNSUPPORTED_MEDIA_TYPE, "text/plain");
    let huge = format!("{}{}", BOOKED, " ".repeat(256 * 1024));
    assert_problem(
        &deliver(&app, &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "262144",
    );

    let rates = r#"{"action":"rate_change","property_id":312554,"room_type_ids":[377120]}"#;
    let ignored = deliver(&app, rates).await;
    assert_eq!(
        (ignored.status, &ignored.body["status"]),
        (StatusCode::OK, &json!("ignored"))
    );

    let view = app.reservation(ID).await;
    assert_eq!(
        view["reservation"]["status"], "paid",
        "the accepted booking stands"
    );
    assert_eq!(view["reservation"]["version"], 1);
    assert_eq!(
        view["events"].as_array().map(Vec::len),
        Some(1),
        "nothing else was stored"
    );
}
