//! The generic form through the service: a Stripe-style signed payload mapped by field
//! paths puts codes on the locks; an older revision cannot undo a newer one; a secret in
//! the path and a Rhai transform; bad deliveries get problem+json and change nothing.

use axum::http::StatusCode;
use latchkey_engine::clock::Clock;
use latchkey_sources::signature::hmac_sha256;
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp, assert_invalid_at, assert_problem, at, post_raw, source};

const NOW: &str = "2026-11-22T10:00:00Z";
const SECRET: &str = "whsec_relay_5b1f0c7e9a2d4c6b8e0f";
const PATH_SECRET: &str = "q8ZkR2vN7xLp4TfW9sJc3HdM";
const ID: &str = "BK-20931";

fn payload(revision: i64, state: &str, departure: &str) -> Value {
    json!({
        "event": "booking.updated",
        "booking": {
            "ref": ID, "revision": revision, "state": state,
            "units": [{"code": "D-101"}, {"code": "PARKING"}],
            "arrival": "2026-11-23", "departure": departure,
            "customer": {"full_name": "Jonas Weber", "email": "jonas@example.de", "lang": "de"}
        }
    })
}

fn fields() -> Value {
    json!({
        "id": "/booking/ref", "status": "/booking/state",
        "status_map": { "booked": "confirmed", "paid_in_full": "paid", "voided": "cancelled" },
        "resources": "/booking/units", "resource_item": "/code", "resource_map": { "D-101": "101" },
        "start": "/booking/arrival", "end": "/booking/departure",
        "guest_name": "/booking/customer/full_name", "guest_email": "/booking/customer/email",
        "guest_locale": "/booking/customer/lang",
        "version": "/booking/revision"
    })
}

const TRANSFORM: &str = r#"
fn transform(p) {
    if p.event != "booking.updated" { return (); }
    let b = p.booking;
    #{ id: "T-" + b.ref, status: "paid", resources: ["102"],
       check_in: b.arrival, check_out: b.departure, version: b.revision }
}"#;

async fn spawn() -> TestApp {
    TestApp::spawn_with(
        latchkey_engine::clock::SimClock::new(at(NOW)),
        None,
        |file| {
            file.sources.push(source(json!({
                "name": "relay", "form": "generic",
                "generic": {
                    "verify": { "scheme": "hmac", "secret": SECRET, "header": "stripe-signature",
                                "signature_part": "v1", "timestamp_part": "t",
                                "signed": "{timestamp}.{body}" },
                    "fields": fields()
                }
            })));
            file.sources.push(source(json!({
                "name": "scripted", "form": "generic",
                "generic": { "verify": { "scheme": "path_secret", "secret": PATH_SECRET },
                             "transform": TRANSFORM }
            })));
        },
        Vec::new(),
    )
    .await
}

fn stripe_header(app: &TestApp, body: &[u8]) -> Vec<(&'static str, String)> {
    let t = app.clock.now().unix();
    let mac = hmac_sha256(SECRET.as_bytes(), &[format!("{t}.").as_bytes(), body]);
    vec![("stripe-signature", format!("t={t},v1={}", hex(&mac)))]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn deliver(app: &TestApp, body: &Value) -> Reply {
    let bytes = serde_json::to_vec(body).expect("json");
    post_raw(
        app,
        "/v1/hooks/relay",
        "application/json",
        &stripe_header(app, &bytes),
        bytes,
    )
    .await
}

#[tokio::test]
async fn a_signed_payload_maps_to_codes_and_an_older_revision_changes_nothing() {
    let app = spawn().await;
    let paid = deliver(&app, &payload(5, "paid_in_full", "2026-11-25")).await;
    assert_eq!(paid.status, StatusCode::ACCEPTED, "{:?}", paid.body);
    app.run_jobs().await;
    let (pin, state) = app.code_on(ID, "room-101").await.expect("room code");
    assert_eq!(state, "active");
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-24T12:00:00Z"))
    );
    let view = app.reservation(ID).await;
    assert_eq!(view["reservation"]["guest"]["locale"], "de");

    // Revision 4 arrives late (validly signed): it says the stay was shorter and unpaid.
    let late = deliver(&app, &payload(4, "booked", "2026-11-24")).await;
    assert_eq!(
        (late.status, &late.body["outcome"]),
        (StatusCode::ACCEPTED, &json!("stale"))
    );
    app.run_jobs().await;
    let view = app.reservation(ID).await;
    assert_eq!(view["reservation"]["status"], "paid");
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-25T10:00:00Z")),
        "window kept"
    );

    // Revision 6 voids it.
    let voided = deliver(&app, &payload(6, "voided", "2026-11-25")).await;
    assert_eq!(voided.body["outcome"], "applied");
    app.run_jobs().await;
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-24T12:00:00Z")),
        "revoked"
    );
}

#[tokio::test]
async fn a_path_secret_and_a_transform() {
    let app = spawn().await;
    let body = serde_json::to_vec(&payload(1, "booked", "2026-11-25")).expect("json");
    let path = format!("/v1/hooks/scripted/{PATH_SECRET}");
    let ok = post_raw(&app, &path, "application/json", &[], body.clone()).await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{:?}", ok.body);
    app.run_jobs().await;
    let (_, state) = app
        .code_on("T-BK-20931", "room-102")
        .await
        .expect("room 102 code");
    assert!(state == "active" || state == "pending", "{state}");

    let wrong = post_raw(
        &app,
        "/v1/hooks/scripted/guessed",
        "application/json",
        &[],
        body.clone(),
    )
    .await;
    assert_problem(&wrong, StatusCode::UNAUTHORIZED, "secret");
    assert!(
        !wrong.body.to_string().contains("guessed"),
        "the path's secret is not echoed"
    );
    let bare = post_raw(
        &app,
        "/v1/hooks/scripted",
        "application/json",
        &[],
        body.clone(),
    )
    .await;
    assert_problem(&bare, StatusCode::UNAUTHORIZED, "secret");
    let not_here = post_raw(
        &app,
        "/v1/hooks/relay/anything",
        "application/json",
        &[],
        body,
    )
    .await;
    assert_eq!(
        not_here.status,
        StatusCode::NOT_FOUND,
        "{:?}",
        not_here.body
    );

    let other = serde_json::to_vec(&json!({"event": "invoice.sent", "booking": {}})).expect("json");
    let ignored = post_raw(&app, &path, "application/json", &[], other).await;
    assert_eq!(
        (ignored.status, &ignored.body["status"]),
        (StatusCode::OK, &json!("ignored"))
    );
}

#[tokio::test]
async fn bad_deliveries_are_refused_and_lose_nothing() {
    let app = spawn().await;
    let good = payload(1, "paid_in_full", "2026-11-25");
    assert_eq!(deliver(&app, &good).await.status, StatusCode::ACCEPTED);
    let repeat = deliver(&app, &good).await;
    assert_eq!(
        (repeat.status, &repeat.body["status"]),
        (StatusCode::OK, &json!("duplicate"))
    );

    let bytes = serde_json::to_vec(&good).expect("json");
    let mut headers = stripe_header(&app, b"{}");
    let forged = post_raw(
        &app,
        "/v1/hooks/relay",
        "application/json",
        &headers,
        bytes.clone(),
    )
    .await;
    assert_problem(&forged, StatusCode::UNAUTHORIZED, "stripe-signature");
    headers[0].1 = format!("t={},v1=00", app.clock.now().unix() - 600);
    let stale = post_raw(
        &app,
        "/v1/hooks/relay",
        "application/json",
        &headers,
        bytes.clone(),
    )
    .await;
    assert_problem(&stale, StatusCode::UNAUTHORIZED, "old");

    let mut missing = payload(2, "paid_in_full", "2026-11-25");
    missing["booking"]
        .as_object_mut()
        .map(|b| b.remove("arrival"));
    assert_invalid_at(&deliver(&app, &missing).await, "/booking/arrival");
    let mut typed = payload(2, "paid_in_full", "2026-11-25");
    typed["booking"]["state"] = json!(true);
    assert_invalid_at(&deliver(&app, &typed).await, "/booking/state");
    let mut unknown = payload(2, "paid_in_full", "2026-11-25");
    unknown["booking"]["state"] = json!("pencilled");
    assert_invalid_at(&deliver(&app, &unknown).await, "/booking/state");

    let text = post_raw(
        &app,
        "/v1/hooks/relay",
        "text/plain",
        &stripe_header(&app, &bytes),
        bytes,
    )
    .await;
    assert_problem(&text, StatusCode::UNSUPPORTED_MEDIA_TYPE, "text/plain");
    let huge = vec![b' '; 256 * 1024 + 1];
    let too_big = post_raw(
        &app,
        "/v1/hooks/relay",
        "application/json",
        &stripe_header(&app, &huge),
        huge,
    )
    .await;
    assert_problem(&too_big, StatusCode::PAYLOAD_TOO_LARGE, "262144");

    let view = app.reservation(ID).await;
    assert_eq!(
        (
            view["reservation"]["version"].clone(),
            view["reservation"]["status"].clone()
        ),
        (json!(1), json!("paid"))
    );
    assert_eq!(view["events"].as_array().map(Vec::len), Some(1));
}
