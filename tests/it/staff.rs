//! Staff codes through the service: a daily cleaning window on a room and the pool, kept as
//! a rolling series on the simulated locks; a master code with a PIN staff already know;
//! deletion; and bad definitions answered as problem+json.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::Timestamp;
use latchkey_engine::clock::Clock;
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp, at};

async fn put(app: &TestApp, name: &str, body: &Value) -> Reply {
    app.request(
        Request::put(format!("/v1/staff-codes/{name}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request"),
    )
    .await
}

fn pin_on(view: &Value, lock: &str) -> Option<String> {
    view["codes"]
        .as_array()?
        .iter()
        .rev()
        .find(|c| c["lock"] == lock && (c["state"] == "active" || c["state"] == "pending"))
        .and_then(|c| c["pin"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn a_daily_cleaning_window_rolls_from_one_day_to_the_next() {
    let app = TestApp::spawn("2026-11-22T08:00:00Z").await;
    let reply = put(
        &app,
        "cleaning",
        &json!({
            "locks": ["room-101", "pool"],
            "schedule": "0 0 10 * * *",
            "duration_minutes": 240
        }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    // Lisbon is on UTC in November: 10:00–14:00 local is 10:00–14:00 UTC.
    assert_eq!(
        reply.body["next_window"]["starts_at"],
        at("2026-11-22T10:00:00Z").unix()
    );
    app.run_jobs().await;
    let view = app.get("/v1/staff-codes/cleaning").await.body;
    let pin = pin_on(&view, "room-101").expect("a code on the room");
    assert!(
        pin_on(&view, "pool").is_some(),
        "and one on the pool: {view}"
    );

    let sim = &app.simulator;
    assert!(!sim.opens("room-101", &pin, at("2026-11-22T09:59:00Z")));
    assert!(sim.opens("room-101", &pin, at("2026-11-22T10:00:00Z")));
    assert!(sim.opens("room-101", &pin, at("2026-11-22T13:59:00Z")));
    assert!(!sim.opens("room-101", &pin, at("2026-11-22T14:00:00Z")));

    // The next day's window replaces the first when it ends; the PIN stays.
    app.advance_to(at("2026-11-23T12:00:00Z")).await;
    let view = app.get("/v1/staff-codes/cleaning").await.body;
    assert_eq!(
        pin_on(&view, "room-101").as_deref(),
        Some(pin.as_str()),
        "{view}"
    );
    assert!(sim.opens("room-101", &pin, at("2026-11-23T11:00:00Z")));
    assert!(!sim.opens("room-101", &pin, at("2026-11-23T15:00:00Z")));

    // Deleted: its codes are revoked.
    let reply = app
        .request(
            Request::delete("/v1/staff-codes/cleaning")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    app.run_jobs().await;
    let now: Timestamp = app.clock.now();
    assert!(!sim.opens("room-101", &pin, now.plus(60)), "revoked");
    assert_eq!(
        app.get("/v1/staff-codes/cleaning").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_master_code_keeps_the_pin_staff_know() {
    let app = TestApp::spawn("2026-11-22T08:00:00Z").await;
    let reply = put(
        &app,
        "master",
        &json!({
            "locks": ["main-entrance", "room-101"],
            "schedule": "0 0 0 * * *",
            "duration_minutes": 1440,
            "pin": "579246"
        }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    app.run_jobs().await;
    let now: Timestamp = app.clock.now();
    assert!(app.simulator.opens("main-entrance", "579246", now.plus(60)));
    assert!(app.simulator.opens("room-101", "579246", now.plus(60)));
    let listed = app.get("/v1/staff-codes").await.body;
    assert_eq!(listed["staff_codes"][0]["name"], "master");
    assert!(
        !listed.to_string().contains("579246"),
        "the list does not show the PIN: {listed}"
    );
}

#[tokio::test]
async fn bad_staff_codes_are_refused_with_a_pointer() {
    let app = TestApp::spawn("2026-11-22T08:00:00Z").await;
    let base = json!({ "locks": ["room-101"], "schedule": "0 0 10 * * *", "duration_minutes": 60 });
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    for (body, pointer) in [
        (with("schedule", json!("every morning")), "/schedule"),
        (with("duration_minutes", json!(0)), "/duration_minutes"),
        (with("locks", json!(["nowhere"])), "/locks/0"),
        (with("locks", json!([])), "/locks"),
        (with("pin", json!("123456")), "/pin"),
        (with("pin", json!("1234")), "/pin"),
    ] {
        let reply = put(&app, "cleaning", &body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.content_type, "application/problem+json");
        assert_eq!(reply.body["pointer"], pointer, "{:?}", reply.body);
    }
    let reply = put(&app, "Cleaning_Crew", &base).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = put(&app, "cleaning", &json!({ "locks": "room-101" })).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app.get("/v1/staff-codes").await.body["staff_codes"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "nothing stored"
    );
}
