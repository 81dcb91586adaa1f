//! The front desk's actions through the API: remote unlock, Resend PIN, acknowledging an
//! alert, and finding codes and reservations.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::clock::Clock as _;
use latchkey_service::notify::channels::Outgoing;
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp};

const NOW: &str = "2026-11-22T10:00:00Z";

fn stay(id: &str, room: &str, event: &str, version: u64) -> Value {
    json!({
        "type": format!("reservation.{event}"),
        "data": {
            "id": id, "status": event, "resources": [room],
            "check_in": "2026-11-23T15:00:00Z", "check_out": "2026-11-25T11:00:00Z",
            "guest": { "name": "Ana Silva", "email": "ana@example.com" },
            "version": version
        }
    })
}

async fn post(app: &TestApp, path: &str) -> Reply {
    app.request(Request::post(path).body(Body::empty()).expect("request"))
        .await
}

fn emails(app: &TestApp) -> Vec<Outgoing> {
    app.capture
        .sent()
        .into_iter()
        .filter(|m| m.channel.as_str() == "email")
        .collect()
}

/// A paid stay in room 102 whose codes are all on their locks.
async fn settled_stay(app: &TestApp) {
    let reply = app.send(&stay("R-1", "102", "paid", 1)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    app.advance_to(app.clock.now().plus(300)).await;
}

#[tokio::test]
async fn a_remote_unlock_opens_the_door_where_the_lock_can_and_is_refused_where_it_cannot() {
    let app = TestApp::spawn(NOW).await;
    let opened = post(&app, "/v1/locks/room-101/unlock").await;
    assert_eq!(opened.status, StatusCode::ACCEPTED, "{}", opened.text);
    assert_eq!(opened.body["lock"], "room-101");
    assert_eq!(opened.body["unlocked_at"], app.clock.now().0);

    let synced = post(&app, "/v1/locks/sync").await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    let log = app.get("/v1/locks/room-101/activity").await;
    let entries = log.body["activity"].as_array().expect("activity");
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "unlock" && e["method"] == "remote"),
        "the lock's log shows the remote unlock: {entries:?}"
    );

    // The pool gate is an offline lock: nothing can open it from afar.
    let refused = post(&app, "/v1/locks/pool/unlock").await;
    crate::harness::assert_problem(
        &refused,
        StatusCode::CONFLICT,
        "cannot be unlocked remotely",
    );
}

#[tokio::test]
async fn resend_pin_sends_the_current_pins_again_and_only_to_a_stay_that_has_them() {
    let app = TestApp::spawn(NOW).await;
    settled_stay(&app).await;
    let first = emails(&app);
    assert_eq!(first.len(), 1, "told once: {first:?}");

    let resent = post(&app, "/v1/reservations/R-1/resend").await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.text);
    assert!(resent.body["messages"].as_u64().unwrap_or(0) >= 1);
    app.run_jobs().await;
    let all = emails(&app);
    assert_eq!(all.len(), 2, "sent again: {all:?}");
    let doors = |m: &Outgoing| {
        m.content
            .doors
            .iter()
            .map(|d| (d.lock.to_string(), d.pin.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        doors(&all[1]),
        doors(&all[0]),
        "the same PINs, still on the locks"
    );

    let cancelled = app.send(&stay("R-1", "102", "cancelled", 2)).await;
    assert_eq!(cancelled.status, StatusCode::ACCEPTED);
    app.run_jobs().await;
    let refused = post(&app, "/v1/reservations/R-1/resend").await;
    crate::harness::assert_problem(&refused, StatusCode::CONFLICT, "cancelled");
    let unknown = post(&app, "/v1/reservations/R-404/resend").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn codes_and_reservations_are_found_by_what_the_desk_knows() {
    let app = TestApp::spawn(NOW).await;
    settled_stay(&app).await;

    let active = app.get("/v1/codes?status=active&reservation=R-1").await;
    assert_eq!(active.status, StatusCode::OK, "{}", active.text);
    let codes = active.body["codes"].as_array().expect("codes");
    assert!(!codes.is_empty());
    assert!(
        codes
            .iter()
            .all(|c| c["reservation"] == "R-1" && c["status"] == "active")
    );
    let on_room = app.get("/v1/codes?lock=room-102").await;
    assert_eq!(on_room.body["codes"].as_array().map(Vec::len), Some(1));
    let pending = app.get("/v1/codes?status=pending").await;
    assert_eq!(pending.body["codes"], json!([]));
    // After the window, the same code is expired.
    app.clock
        .advance_to(crate::harness::at("2026-11-26T00:00:00Z"));
    let expired = app.get("/v1/codes?status=expired&lock=room-102").await;
    assert_eq!(
        expired.body["codes"].as_array().map(Vec::len),
        Some(1),
        "{}",
        expired.text
    );
    let paged = app.get("/v1/codes?limit=1").await;
    assert_eq!(paged.body["codes"].as_array().map(Vec::len), Some(1));
    assert!(paged.body["next_cursor"].is_i64());
    let bad = app.get("/v1/codes?status=lost").await;
    crate::harness::assert_problem(&bad, StatusCode::BAD_REQUEST, "status");

    let by_name = app.get("/v1/reservations?q=ANA%20sil").await;
    let found = by_name.body["reservations"]
        .as_array()
        .expect("reservations");
    assert_eq!(found.len(), 1, "{}", by_name.text);
    assert_eq!(found[0]["id"], "R-1");
    let none = app.get("/v1/reservations?q=100%25").await;
    assert_eq!(
        none.body["reservations"],
        json!([]),
        "`%` is matched literally"
    );
}

#[tokio::test]
async fn an_acknowledged_alert_leaves_the_open_list() {
    let app = TestApp::spawn(NOW).await;
    app.simulator.set_battery("room-101", 10);
    let synced = post(&app, "/v1/locks/sync").await;
    assert_eq!(synced.status, StatusCode::OK);
    let open = app.get("/v1/alerts?open=true").await;
    let alert = open.body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .find(|a| a["lock_id"] == "room-101")
        .cloned()
        .expect("a battery alert for room 101");
    let id = alert["id"].as_i64().expect("id");

    let acked = post(&app, &format!("/v1/alerts/{id}/acknowledge")).await;
    assert_eq!(acked.status, StatusCode::OK, "{}", acked.text);
    assert_eq!(acked.body["acknowledged_at"], app.clock.now().0);
    let open = app.get("/v1/alerts?open=true").await;
    assert!(
        open.body["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .all(|a| a["id"] != id)
    );
    let all = app.get("/v1/alerts").await;
    assert!(
        all.body["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .any(|a| a["id"] == id)
    );
    assert_eq!(
        post(&app, "/v1/alerts/999999/acknowledge").await.status,
        StatusCode::NOT_FOUND
    );
}
