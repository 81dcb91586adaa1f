//! A reservation's life through the real HTTP path: codes appear on the simulated locks at
//! the right time, change when the reservation changes, and go when it is cancelled.

use axum::http::StatusCode;

use crate::harness::{TestApp, at, event};

const NOW: &str = "2026-11-22T10:00:00Z";
const IN: &str = "2026-11-23T15:00:00Z";
const OUT: &str = "2026-11-25T11:00:00Z";

async fn paid_guest(app: &TestApp, id: &str, room: &str) {
    assert_eq!(
        app.send(&event("confirmed", id, "confirmed", room, IN, OUT, 1))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    app.run_jobs().await;
    assert!(
        app.code_on(id, &format!("room-{room}")).await.is_none(),
        "no code before payment (payment required)"
    );
    assert_eq!(
        app.send(&event("paid", id, "paid", room, IN, OUT, 2))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    app.run_jobs().await;
}

#[tokio::test]
async fn signed_webhook_puts_one_pin_on_room_and_shared_doors_for_the_window() {
    let app = TestApp::spawn(NOW).await;
    paid_guest(&app, "R-1", "101").await;
    let (pin, state) = app.code_on("R-1", "room-101").await.expect("room code");
    assert_eq!(state, "active");
    let (entrance_pin, _) = app
        .code_on("R-1", "main-entrance")
        .await
        .expect("entrance code");
    assert_eq!(
        pin, entrance_pin,
        "the guest keeps one PIN across locks that take custom PINs"
    );
    // Window: local check-in 15:00 − 1 h to check-out 11:00 + 15 min (Lisbon is UTC+0 in November).
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-23T13:59:00Z"))
    );
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-23T14:00:00Z"))
    );
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-25T11:14:00Z"))
    );
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-25T11:15:00Z"))
    );
    assert!(
        !app.simulator
            .opens("room-102", &pin, at("2026-11-24T12:00:00Z")),
        "not another guest's room"
    );
    let (pool_pin, pool_state) = app.code_on("R-1", "pool").await.expect("pool code");
    assert_eq!(pool_state, "active");
    assert!(
        app.simulator
            .opens("pool", &pool_pin, at("2026-11-24T12:00:00Z")),
        "offline lock's generated PIN works"
    );
    assert!(
        app.code_on("R-1", "spa").await.is_none(),
        "unassigned lock gets no code"
    );
}

#[tokio::test]
async fn a_repeated_webhook_id_is_acknowledged_and_ignored() {
    let app = TestApp::spawn(NOW).await;
    let body = event("paid", "R-2", "paid", "101", IN, OUT, 1);
    let first = app.send_as("msg-dup", &body).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let again = app.send_as("msg-dup", &body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["status"], "duplicate");
    app.run_jobs().await;
    let view = app.reservation("R-2").await;
    assert_eq!(view["events"].as_array().map(Vec::len), Some(1));
    let room_codes = view["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter(|c| c["lock"] == "room-101")
        .count();
    assert_eq!(room_codes, 1, "one code per reservation and lock");
}

#[tokio::test]
async fn an_older_version_arriving_late_changes_nothing_and_cancellation_is_final() {
    let app = TestApp::spawn(NOW).await;
    assert_eq!(
        app.send(&event("cancelled", "R-3", "cancelled", "101", IN, OUT, 3))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let late = app
        .send(&event("paid", "R-3", "paid", "101", IN, OUT, 2))
        .await;
    assert_eq!(late.status, StatusCode::ACCEPTED);
    assert_eq!(late.body["outcome"], "stale");
    app.run_jobs().await;
    let view = app.reservation("R-3").await;
    assert_eq!(view["reservation"]["status"], "cancelled");
    assert!(
        view["codes"].as_array().expect("codes").is_empty(),
        "no code for a cancelled reservation"
    );
    // A newer version reinstates it.
    app.send(&event("modified", "R-3", "paid", "101", IN, OUT, 4))
        .await;
    app.run_jobs().await;
    assert_eq!(
        app.code_on("R-3", "room-101").await.map(|c| c.1).as_deref(),
        Some("active")
    );
}

#[tokio::test]
async fn cancellation_revokes_and_an_offline_pin_raises_an_alert() {
    let app = TestApp::spawn(NOW).await;
    paid_guest(&app, "R-4", "101").await;
    let (pin, _) = app.code_on("R-4", "room-101").await.expect("code");
    app.send(&event("cancelled", "R-4", "cancelled", "101", IN, OUT, 3))
        .await;
    app.run_jobs().await;
    assert_eq!(
        app.code_on("R-4", "room-101").await.map(|c| c.1).as_deref(),
        Some("revoked")
    );
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-24T12:00:00Z"))
    );
    assert!(
        !app.simulator
            .opens("main-entrance", &pin, at("2026-11-24T12:00:00Z"))
    );
    let (_, pool_state) = app.code_on("R-4", "pool").await.expect("pool code");
    assert_eq!(
        pool_state, "active",
        "a revocation that cannot happen is not recorded"
    );
    let alerts = app.get("/v1/alerts").await.body;
    let unrevocable: Vec<_> = alerts["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["kind"] == "unrevocable")
        .collect();
    assert_eq!(unrevocable.len(), 1, "{alerts}");
    assert_eq!(unrevocable[0]["lock_id"], "pool");
}

#[tokio::test]
async fn room_move_and_date_change_move_the_codes() {
    let app = TestApp::spawn(NOW).await;
    paid_guest(&app, "R-5", "101").await;
    let (pin, _) = app.code_on("R-5", "room-101").await.expect("code");
    app.send(&event(
        "modified",
        "R-5",
        "paid",
        "102",
        IN,
        "2026-11-26T11:00:00Z",
        3,
    ))
    .await;
    app.run_jobs().await;
    assert_eq!(
        app.code_on("R-5", "room-101").await.map(|c| c.1).as_deref(),
        Some("revoked")
    );
    let (new_pin, state) = app.code_on("R-5", "room-102").await.expect("new room code");
    assert_eq!(state, "pending", "room 102 is a slow lock: confirmed later");
    assert_eq!(new_pin, pin, "the guest keeps their PIN");
    app.advance_to(at("2026-11-22T10:05:00Z")).await;
    assert_eq!(
        app.code_on("R-5", "room-102").await.map(|c| c.1).as_deref(),
        Some("active")
    );
    assert!(
        app.simulator
            .opens("room-102", &pin, at("2026-11-26T11:14:00Z")),
        "new check-out + 15 min"
    );
    assert!(
        app.simulator
            .opens("main-entrance", &pin, at("2026-11-26T11:14:00Z")),
        "shared door updated in place"
    );
}

#[tokio::test]
async fn codes_are_issued_three_days_before_the_window_by_a_scheduled_wake_up() {
    let app = TestApp::spawn(NOW).await;
    let (check_in, check_out) = ("2026-12-10T15:00:00Z", "2026-12-12T11:00:00Z");
    app.send(&event("paid", "R-6", "paid", "101", check_in, check_out, 1))
        .await;
    app.run_jobs().await;
    assert!(app.code_on("R-6", "room-101").await.is_none(), "too early");
    app.advance_to(at("2026-12-07T13:59:00Z")).await;
    assert!(
        app.code_on("R-6", "room-101").await.is_none(),
        "still too early"
    );
    app.advance_to(at("2026-12-07T14:00:00Z")).await;
    assert_eq!(
        app.code_on("R-6", "room-101").await.map(|c| c.1).as_deref(),
        Some("active")
    );
    // After the window, the code expires and is cleared from the lock.
    app.advance_to(at("2026-12-12T12:00:00Z")).await;
    assert_eq!(
        app.code_on("R-6", "room-101").await.map(|c| c.1).as_deref(),
        Some("expired")
    );
}

#[tokio::test]
async fn check_out_ends_access_fifteen_minutes_later() {
    let app = TestApp::spawn(NOW).await;
    paid_guest(&app, "R-7", "101").await;
    let (pin, _) = app.code_on("R-7", "room-101").await.expect("code");
    app.advance_to(at("2026-11-25T09:40:00Z")).await;
    let mut out = event("checked_out", "R-7", "checked_out", "101", IN, OUT, 3);
    out["data"]["checked_out_at"] = "2026-11-25T09:40:00Z".into();
    assert_eq!(app.send(&out).await.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    assert!(
        app.simulator
            .opens("room-101", &pin, at("2026-11-25T09:54:00Z"))
    );
    assert!(
        !app.simulator
            .opens("room-101", &pin, at("2026-11-25T09:55:00Z"))
    );
}
