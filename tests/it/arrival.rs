//! The pre-arrival check: a day and 2 hours before a stay's first door opens, each door's
//! code is read back from its lock; one missing is put back and the desk alerted with
//! the guest's name and arrival time, one still pending is retried and alerted.

use axum::http::StatusCode;
use latchkey_engine::Window;
use latchkey_providers::simulator::Tamper;

use crate::harness::{TestApp, at, paid_stay};

#[tokio::test]
async fn a_code_gone_from_its_lock_a_day_before_arrival_is_put_back_and_alerted() {
    let app = TestApp::spawn("2026-11-20T10:00:00Z").await;
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    // The stay's doors open at 14:00 UTC on 11-23 (local check-in less an hour); the codes
    // go on three days ahead.
    app.advance_to(at("2026-11-21T12:00:00Z")).await;
    let (pin, state) = app.code_on("R-1", "room-101").await.expect("a code");
    assert_eq!(state, "active");
    let reference = app.reference_on("room-101", &pin);
    // Deleted in the vendor's app, with no lock sync to notice.
    assert!(app.simulator.tamper("room-101", &reference, Tamper::Delete));
    assert!(app.alerts_of("arrival_at_risk").await.is_empty());

    app.advance_to(at("2026-11-22T15:00:00Z")).await;
    let alerts = app.alerts_of("arrival_at_risk").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["lock_id"], "room-101");
    assert_eq!(alerts[0]["reservation_id"], "R-1");
    let message = alerts[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("missing"), "{message}");
    assert!(
        message.contains("Test Guest"),
        "the guest's name: {message}"
    );
    assert!(
        message.contains("2026-11-23 14:00"),
        "the arrival in local time: {message}"
    );
    let inside = at("2026-11-23T15:00:00Z");
    assert!(
        app.simulator.opens("room-101", &pin, inside),
        "the guest's PIN is back on the lock"
    );

    // The 2-hour check finds everything in order.
    app.advance_to(at("2026-11-23T13:00:00Z")).await;
    assert_eq!(app.alerts_of("arrival_at_risk").await.len(), 1);
}

#[tokio::test]
async fn a_code_still_pending_two_hours_before_arrival_is_alerted_with_the_guest() {
    let app = TestApp::spawn("2026-11-20T10:00:00Z").await;
    // The room lock is out of reach from before its code would go on until after the
    // doors open.
    app.simulator.add_outage(
        "room-101",
        Window {
            starts_at: at("2026-11-20T09:00:00Z"),
            ends_at: at("2026-11-23T16:00:00Z"),
        },
    );
    assert_eq!(app.send(&paid_stay()).await.status, StatusCode::ACCEPTED);
    app.advance_to(at("2026-11-23T12:30:00Z")).await;
    let alerts = app.alerts_of("arrival_at_risk").await;
    let pending: Vec<_> = alerts
        .iter()
        .filter(|a| {
            a["message"]
                .as_str()
                .unwrap_or_default()
                .contains("not reached the lock")
        })
        .collect();
    assert_eq!(
        pending.len(),
        2,
        "a day ahead and 2 hours ahead: {alerts:?}"
    );
    assert!(pending.iter().all(|a| a["lock_id"] == "room-101"));
    // Only the room lock: the main entrance's code is on its lock.
    assert!(
        alerts.iter().all(|a| a["lock_id"] == "room-101"),
        "{alerts:?}"
    );
}
